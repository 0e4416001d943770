import type { AppConfig, ConnectorDefinition, OrganizationDefinition } from '../config/app-config';
import { OrganizationDirectory } from './organization-directory.service';

const organization = (id: string, emailDomains: string[]): OrganizationDefinition => ({
  id,
  slug: id,
  name: id,
  emailDomains,
  emailDomainsDeclared: true,
});

const connector = (id: string, type: ConnectorDefinition['type'], organizationId: string, emailDomains: string[]) =>
  ({ id, type, displayName: id, organizationId, emailDomains }) as ConnectorDefinition;

function directory(connectors: ConnectorDefinition[]): OrganizationDirectory {
  const organizations = [organization('acme', ['acme.test', 'acme.de']), organization('globex', ['globex.test'])];
  return new OrganizationDirectory({ organizations, connectors } as unknown as AppConfig);
}

describe('OrganizationDirectory.connectorForEmail', () => {
  it("routes to the connector whose own email_domains hold the address, not only the organization's first", () => {
    const found = directory([
      connector('acme-local', 'local', 'acme', ['acme.test', 'acme.de']),
      connector('acme-entra', 'oidc', 'acme', ['acme.test']),
      connector('acme-de-saml', 'saml', 'acme', ['acme.de']),
    ]);
    expect(found.connectorForEmail('Grace@ACME.de')?.id).toBe('acme-de-saml');
    expect(found.connectorForEmail('carol@acme.test')?.id).toBe('acme-entra');
  });

  it('never routes to a connector that would refuse the address', () => {
    const found = directory([connector('globex-saml', 'saml', 'globex', ['globex.test']), connector('acme-entra', 'oidc', 'acme', ['acme.test'])]);
    expect(found.connectorForEmail('someone@acme.de')).toBeUndefined();
    expect(found.connectorForEmail('someone@unknown.test')).toBeUndefined();
    expect(found.connectorForEmail('no-domain')).toBeUndefined();
  });

  it("falls back to a connector of the domain's organization that accepts any address", () => {
    const found = directory([connector('globex-saml', 'saml', 'globex', ['globex.test']), connector('acme-any', 'oidc', 'acme', [])]);
    expect(found.connectorForEmail('someone@acme.de')?.id).toBe('acme-any');
    expect(found.connectorForEmail('someone@unknown.test')).toBeUndefined();
  });
});
