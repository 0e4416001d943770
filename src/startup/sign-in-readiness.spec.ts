import type { ClientDefinition, ConnectorDefinition, LocalUser } from '../config/app-config';
import { signInProblems } from './sign-in-readiness';

const USER: LocalUser = { username: 'admin', email: 'admin@example.com', name: 'Admin', passwordHash: 'scrypt$…' };
const LOCAL: ConnectorDefinition = { id: 'local', type: 'local', displayName: 'Local accounts' };
const OIDC: ConnectorDefinition = {
  id: 'acme-entra',
  type: 'oidc',
  displayName: 'Acme Entra ID',
  organizationId: 'acme',
  oidc: {
    issuer: 'https://login.example.com',
    clientId: 'x',
    scopes: ['openid'],
    emailClaim: 'email',
    nameClaim: 'name',
    requireVerifiedEmail: true,
    allowInsecureHttp: false,
    allowHmacIdTokens: false,
  },
};

function client(clientId: string, organizationId?: string, enabled = true): ClientDefinition {
  return { clientId, name: clientId, type: 'public', grantTypes: [], allowedScopes: [], defaultScopes: [], enabled, organizationId };
}

describe('signInProblems', () => {
  it('names the missing connector when nobody could sign in, and says how to add one', () => {
    expect(signInProblems({ connectors: [], localUsers: [], clients: [client('acme-cli')] })).toEqual([
      expect.stringMatching(/^nobody could sign in to approve a device: the config file \(DEVICEGATE_CONFIG\) declares no connector and no local user; .*npm run hash-password/),
    ]);
  });

  it('accepts a local connector with a user, or an SSO connector', () => {
    expect(signInProblems({ connectors: [LOCAL], localUsers: [USER], clients: [client('cli')] })).toEqual([]);
    expect(signInProblems({ connectors: [OIDC], localUsers: [], clients: [client('acme-cli', 'acme')] })).toEqual([]);
  });

  it('refuses an organization-scoped client whose organization has no connector', () => {
    expect(signInProblems({ connectors: [LOCAL], localUsers: [USER], clients: [client('globex-cli', 'globex'), client('off', 'globex', false)] })).toEqual([
      'nobody could approve client "globex-cli": only members of organization "globex" may, and no connector belongs to it; add a connector with organization: globex',
    ]);
  });
});
