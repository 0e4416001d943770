import { Injectable } from '@nestjs/common';
import { AppConfig, type ConnectorDefinition, type OrganizationDefinition } from '../config/app-config';

/** The organizations and sign-in connectors of the config file, looked up by id or by email domain. */
@Injectable()
export class OrganizationDirectory {
  private readonly organizations: Map<string, OrganizationDefinition>;
  private readonly connectors: Map<string, ConnectorDefinition>;
  private readonly organizationsByDomain = new Map<string, OrganizationDefinition>();

  constructor(config: AppConfig) {
    this.organizations = new Map(config.organizations.map((organization) => [organization.id, organization]));
    this.connectors = new Map(config.connectors.map((connector) => [connector.id, connector]));
    for (const organization of config.organizations) {
      for (const domain of organization.emailDomains) this.organizationsByDomain.set(domain, organization);
    }
  }

  organization(id: string | undefined): OrganizationDefinition | undefined {
    return id === undefined ? undefined : this.organizations.get(id);
  }

  connector(id: string): ConnectorDefinition | undefined {
    return this.connectors.get(id);
  }

  /**
   * The SAML or OIDC connector for an email: the first whose identities may
   * have the email's domain (its own `email_domains`, else its
   * organization's), else the first of the organization that owns the domain
   * whose identities may have any address. A connector that would refuse the
   * address is never chosen.
   */
  connectorForEmail(email: string): ConnectorDefinition | undefined {
    const domain = email.trim().toLowerCase().split('@')[1];
    if (!domain) return undefined;
    const sso = [...this.connectors.values()].filter((connector) => connector.type === 'saml' || connector.type === 'oidc');
    const owner = this.organizationsByDomain.get(domain);
    return (
      sso.find((connector) => connector.emailDomains?.includes(domain)) ??
      sso.find((connector) => owner !== undefined && connector.organizationId === owner.id && connector.emailDomains?.length === 0)
    );
  }
}
