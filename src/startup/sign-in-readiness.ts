import type { AppConfig } from '../config/app-config';

type Directory = Pick<AppConfig, 'connectors' | 'localUsers' | 'clients'>;

/**
 * Why nobody could approve a device with this configuration, one reason per
 * line; empty when someone can. A connector is a way to sign in (the local
 * one exists only with users); a client scoped to an organization can only
 * be approved by a member, and only a connector of that organization makes
 * members.
 */
export function signInProblems(directory: Directory): string[] {
  if (directory.connectors.length === 0) {
    return [
      'nobody could sign in to approve a device: the config file (DEVICEGATE_CONFIG) declares no connector and no local user; ' +
        'add an oidc, saml or ldap connector (README: Single sign-on) or a local user whose password_hash comes from npm run hash-password (README: Running in production)',
    ];
  }
  const organizationsWithConnector = new Set(directory.connectors.map((connector) => connector.organizationId).filter(Boolean));
  return directory.clients
    .filter((client) => client.enabled && client.organizationId && !organizationsWithConnector.has(client.organizationId))
    .map(
      (client) =>
        `nobody could approve client "${client.clientId}": only members of organization "${client.organizationId}" may, and no connector belongs to it; ` +
        `add a connector with organization: ${client.organizationId}`,
    );
}
