import { randomUUID } from 'node:crypto';
import { ClientRegistry } from '../src/clients/client-registry.service';
import { sha256Hex } from '../src/common/crypto';
import type { ClientDefinition } from '../src/config/app-config';
import { generateToken } from '../src/tokens/token-format';
import { queryDatabase } from './support/database';
import {
  basicAuthorization,
  expectInvalidToken,
  expectNoStore,
  expectOAuthError,
  obtainToken,
  TOKEN_REJECTED as REJECTED,
  uniqueLabel,
  UUID,
} from './support/flows';
import { DeviceGateHttp, type Reply } from './support/http';
import { CLIENTS, CONFIDENTIAL_SECRET, DEVICE_GRANT, startAcmeApp, startTestApp, type TestApp, USERS } from './support/test-app';

const RESOURCE_SERVER = basicAuthorization(CLIENTS.resourceServer, CONFIDENTIAL_SECRET);
const BASIC_CHALLENGE = 'Basic realm="devicegate"';

/** RFC 7662 §2.2: `{"active": false}` and not one member more, uncached. */
function expectInactive(reply: Reply) {
  expect({ status: reply.status, body: reply.body }).toStrictEqual({ status: 200, body: { active: false } });
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expectNoStore(reply);
}

/** RFC 7662: POST /oauth/introspect, for resource servers authenticated with their secret. */
describe('POST /oauth/introspect (RFC 7662)', () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;

  const introspect = (token: string | undefined, headers: Record<string, string> = { authorization: RESOURCE_SERVER }) =>
    http.form('/oauth/introspect', { token }, headers);

  /** A public device client of the database, of its own (so rotation per device never reaches another spec). */
  async function registerClient(overrides: Partial<ClientDefinition> = {}): Promise<ClientDefinition> {
    const definition: ClientDefinition = {
      clientId: `introspection-${randomUUID().slice(0, 8)}`,
      name: 'Database CLI',
      type: 'public',
      grantTypes: [DEVICE_GRANT],
      allowedScopes: ['profile', 'read'],
      defaultScopes: ['profile'],
      enabled: true,
      ...overrides,
    };
    await testApp.app.get(ClientRegistry).save(null, definition);
    return definition;
  }

  beforeAll(async () => {
    testApp = await startTestApp();
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp.close());

  describe('RFC 7662 §2.2: an active token', () => {
    it('answers exactly the token members, uncached', async () => {
      const label = uniqueLabel('laptop');
      const token = await obtainToken(http, { deviceLabel: label, scope: 'profile read', user: USERS.alice });
      const me = await http.me(token.access_token);

      const reply = await introspect(token.access_token);

      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
      expectNoStore(reply);
      expect(reply.body).toStrictEqual({
        active: true,
        scope: 'profile read',
        client_id: CLIENTS.cli,
        sub: me.body.sub,
        username: USERS.alice.email,
        email: USERS.alice.email,
        device_label: label,
        token_type: 'Bearer',
        iat: expect.any(Number),
        exp: expect.any(Number),
        iss: testApp.config.publicUrl,
      });
      expect(me.body.sub).toMatch(UUID);
      expect(reply.body.exp - reply.body.iat).toBe(token.expires_in);
      expect(reply.body.exp).toBe(Math.floor(Date.parse(me.body.expires_at) / 1000));
      expect(Math.abs(reply.body.iat - testApp.clock.now() / 1000)).toBeLessThan(5);
    });

    it('answers the same to client_secret_basic and client_secret_post, form or JSON', async () => {
      const token = await obtainToken(http, { user: USERS.bob, clientId: CLIENTS.fast });
      const post = { client_id: CLIENTS.resourceServer, client_secret: CONFIDENTIAL_SECRET };

      const replies = [
        await introspect(token.access_token),
        await http.form('/oauth/introspect', { token: token.access_token, ...post }),
        await http.json('/oauth/introspect', { token: token.access_token }, { authorization: RESOURCE_SERVER }),
        await http.json('/oauth/introspect', { token: token.access_token, ...post }),
      ];

      for (const reply of replies) {
        expect(reply.status).toBe(200);
        expectNoStore(reply);
        expect(reply.body).toStrictEqual(replies[0].body);
      }
      expect(replies[0].body).toMatchObject({ active: true, client_id: CLIENTS.fast, email: USERS.bob.email, scope: 'profile read' });
    });

    it('leaves out device_label when the token has none, and org when it has no organization', async () => {
      const client = await registerClient();
      const token = await obtainToken(http, { clientId: client.clientId, deviceLabel: '' });
      expect((await http.me(token.access_token)).body.device_label).toBeNull();

      const reply = await introspect(token.access_token);

      expect(reply.body).toStrictEqual({
        active: true,
        scope: 'profile',
        client_id: client.clientId,
        sub: expect.stringMatching(UUID),
        username: USERS.alice.email,
        email: USERS.alice.email,
        token_type: 'Bearer',
        iat: expect.any(Number),
        exp: expect.any(Number),
        iss: testApp.config.publicUrl,
      });
    });

    it('is a read: introspecting does not use the token up', async () => {
      const token = await obtainToken(http);
      for (let i = 0; i < 3; i += 1) expect((await introspect(token.access_token)).body.active).toBe(true);
      expect((await http.me(token.access_token)).status).toBe(200);
    });
  });

  describe('RFC 7662 §2.2: {"active": false} and nothing else', () => {
    it('for a well-formed token devicegate never issued', async () => {
      expectInactive(await introspect(generateToken('dgat')));
    });

    it('for malformed tokens, and one whose checksum fails', async () => {
      const { access_token: token } = await obtainToken(http);
      const last = token.at(-1) === 'a' ? 'b' : 'a';
      for (const malformed of ['not-a-devicegate-token', 'dgat_short', `dgat_${'A'.repeat(50)}`, `${token.slice(0, -1)}${last}`, `${token} `]) {
        expectInactive(await introspect(malformed));
      }
      expect((await introspect(token)).body.active).toBe(true);
    });

    it('for a refresh token, issued or merely well-formed: it is no bearer token', async () => {
      const issued = (await obtainToken(http, { clientId: CLIENTS.refreshing })) as { access_token: string; refresh_token?: string };
      expect(issued.refresh_token).toMatch(/^dgrt_/);

      expectInactive(await introspect(issued.refresh_token));
      expectInactive(await introspect(generateToken('dgrt')));
      expect((await introspect(issued.access_token)).body.active).toBe(true);
    });

    it('for a token past its lifetime', async () => {
      const token = await obtainToken(http, { clientId: CLIENTS.shortLived });
      expect(token.expires_in).toBe(120);

      testApp.clock.advance(119_000);
      expect((await introspect(token.access_token)).body.active).toBe(true);

      testApp.clock.advance(1_000);
      expectInactive(await introspect(token.access_token));
    });

    it('for a revoked token, even one introspected (and cached) just before', async () => {
      const token = await obtainToken(http, { user: USERS.bob });
      expect((await introspect(token.access_token)).body.active).toBe(true);

      const revoked = await http.request('/v1/oauth/authorizations/self', {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token.access_token}` },
      });
      expect(revoked.status).toBe(204);

      expectInactive(await introspect(token.access_token));
    });

    it('for a token of a client that has since been disabled', async () => {
      const client = await registerClient();
      const token = await obtainToken(http, { clientId: client.clientId });
      expect((await introspect(token.access_token)).body.active).toBe(true);

      await testApp.app.get(ClientRegistry).save(null, { ...client, enabled: false });

      expectInactive(await introspect(token.access_token));
    });
  });

  describe('token kinds: the scope ceiling is stamped at validation', () => {
    it("narrows a live token at once when its client's allowed scopes shrink", async () => {
      const client = await registerClient({ allowedScopes: ['profile', 'read'] });
      const token = await obtainToken(http, { clientId: client.clientId, scope: 'profile read' });
      expect(token.scope).toBe('profile read');
      expect((await introspect(token.access_token)).body.scope).toBe('profile read');
      expect((await http.me(token.access_token)).body.scopes).toEqual(['profile', 'read']);

      await testApp.app.get(ClientRegistry).save(null, { ...client, allowedScopes: ['profile'], defaultScopes: ['profile'] });

      const reply = await introspect(token.access_token);
      expect(reply.body).toMatchObject({ active: true, scope: 'profile' });
      expect((await http.me(token.access_token)).body.scopes).toEqual(['profile']);
      // The row still says what was granted: only the ceiling applied.
      const [row] = await queryDatabase('SELECT scopes FROM access_tokens WHERE token_hash = $1', [sha256Hex(token.access_token)]);
      expect(row.scopes).toEqual(['profile', 'read']);
    });
  });

  describe('RFC 7662 §2.1: the caller must be a resource server authenticated with its secret', () => {
    let token: string;

    beforeAll(async () => {
      token = (await obtainToken(http)).access_token;
    });

    it('refuses a request without client credentials with 401 invalid_client, without a Basic challenge', async () => {
      const reply = await introspect(token, {});
      expectOAuthError(reply, 401, { error: 'invalid_client', error_description: 'client_id is missing' });
      expect(reply.headers.get('www-authenticate')).toBeNull();
    });

    it('refuses a wrong secret with 401 invalid_client; with the Basic challenge when Basic was used', async () => {
      const basic = await introspect(token, { authorization: basicAuthorization(CLIENTS.resourceServer, 'wrong-secret') });
      expectOAuthError(basic, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
      expect(basic.headers.get('www-authenticate')).toBe(BASIC_CHALLENGE);

      const post = await http.form('/oauth/introspect', { token, client_id: CLIENTS.resourceServer, client_secret: 'wrong-secret' });
      expectOAuthError(post, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
      expect(post.headers.get('www-authenticate')).toBeNull();
    });

    it('refuses the resource server without its secret, and an unknown client, with 401 and the challenge', async () => {
      const bare = await http.form('/oauth/introspect', { token, client_id: CLIENTS.resourceServer });
      expectOAuthError(bare, 401, { error: 'invalid_client', error_description: 'This client must authenticate with its secret' });
      expect(bare.headers.get('www-authenticate')).toBe(BASIC_CHALLENGE);

      const unknown = await introspect(token, { authorization: basicAuthorization('nobody', CONFIDENTIAL_SECRET) });
      expectOAuthError(unknown, 401, { error: 'invalid_client', error_description: 'Unknown or disabled client' });
      expect(unknown.headers.get('www-authenticate')).toBe(BASIC_CHALLENGE);
    });

    it('refuses a public client (client_id alone) with 401 invalid_client and the challenge', async () => {
      const reply = await http.form('/oauth/introspect', { token, client_id: CLIENTS.cli });
      expectOAuthError(reply, 401, {
        error: 'invalid_client',
        error_description: 'Introspection needs a confidential client and its secret',
      });
      expect(reply.headers.get('www-authenticate')).toBe(BASIC_CHALLENGE);
    });

    it('refuses a confidential client that is not a resource server with 403 unauthorized_client', async () => {
      const refused = {
        error: 'unauthorized_client',
        error_description: 'Only a client configured as a resource server (resource_server: true) may introspect tokens',
      };
      expectOAuthError(await introspect(token, { authorization: basicAuthorization(CLIENTS.confidential, CONFIDENTIAL_SECRET) }), 403, refused);
      const post = await http.form('/oauth/introspect', { token, client_id: CLIENTS.confidential, client_secret: CONFIDENTIAL_SECRET });
      expectOAuthError(post, 403, refused);
    });

    it('refuses two authentication methods at once with 400 invalid_request', async () => {
      const reply = await http.form('/oauth/introspect', { token, client_secret: CONFIDENTIAL_SECRET }, { authorization: RESOURCE_SERVER });
      expectOAuthError(reply, 400, {
        error: 'invalid_request',
        error_description: 'Use one client authentication method, not both client_secret_basic and client_secret_post',
      });
    });

    it('answers 400 invalid_request without a token, once the caller is authenticated', async () => {
      expectOAuthError(await introspect(undefined), 400, { error: 'invalid_request', error_description: 'token is required' });
      expectOAuthError(await introspect(''), 400, { error: 'invalid_request', error_description: 'token is required' });
      expectOAuthError(await introspect(undefined, {}), 401, { error: 'invalid_client', error_description: 'client_id is missing' });
    });
  });

  describe('RFC 6750 on a bearer route, for the same states', () => {
    // Missing, malformed, unknown and expired tokens: test/bearer.e2e-spec.ts.
    it('refuses a revoked token with 401 invalid_token', async () => {
      const token = await obtainToken(http);
      expect((await http.me(token.access_token)).status).toBe(200);

      const revoked = await http.request('/v1/oauth/authorizations/self', {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token.access_token}` },
      });
      expect(revoked.status).toBe(204);

      expectInvalidToken(await http.me(token.access_token), REJECTED);
    });

    it('refuses a refresh token presented as a bearer token with 401 invalid_token', async () => {
      const issued = (await obtainToken(http, { clientId: CLIENTS.refreshing })) as { access_token: string; refresh_token: string };
      expectInvalidToken(await http.me(issued.refresh_token), REJECTED);
      expect((await http.me(issued.access_token)).status).toBe(200);
    });

    it('refuses a token of a disabled client with 401 invalid_token', async () => {
      const client = await registerClient();
      const token = await obtainToken(http, { clientId: client.clientId });
      expect((await http.me(token.access_token)).status).toBe(200);

      await testApp.app.get(ClientRegistry).save(null, { ...client, enabled: false });

      expectInvalidToken(await http.me(token.access_token), REJECTED);
    });
  });
});

describe('POST /oauth/introspect with organizations', () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    testApp = await startAcmeApp();
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp?.close());

  it("adds org for a token of an organization's member", async () => {
    const label = uniqueLabel();
    const token = await obtainToken(http, { deviceLabel: label });
    const me = await http.me(token.access_token);
    expect(me.body.organization).toBe('acme');

    const reply = await http.form('/oauth/introspect', { token: token.access_token }, { authorization: RESOURCE_SERVER });

    expect(reply.body).toStrictEqual({
      active: true,
      scope: 'profile',
      client_id: CLIENTS.cli,
      sub: me.body.sub,
      username: USERS.alice.email,
      email: USERS.alice.email,
      org: 'acme',
      device_label: label,
      token_type: 'Bearer',
      iat: expect.any(Number),
      exp: expect.any(Number),
      iss: testApp.config.publicUrl,
    });
  });
});
