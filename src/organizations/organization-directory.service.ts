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

  /** The first SAML or OIDC connector of the organization that owns the email's domain. */
  connectorForEmail(email: string): ConnectorDefinition | undefined {
    const domain = email.trim().toLowerCase().split('@')[1];
    const organization = domain ? this.organizationsByDomain.get(domain) : undefined;
    if (!organization) return undefined;
    return [...this.connectors.values()].find(
      (connector) => connector.organizationId === organization.id && (connector.type === 'saml' || connector.type === 'oidc'),
    );
  }
}
