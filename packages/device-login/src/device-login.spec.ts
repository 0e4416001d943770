import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceLogin } from './device-login';
import { NetworkError, NotLoggedIn, RefreshOutcomeUnknown } from './errors';
import { type Credential, MemoryCredentialStore } from './store/credential';
import { FileCredentialStore } from './store/file-credential.store';
import {
  DEVICE_CODES,
  FakeAuthorizationServer,
  FakeClock,
  fetchFailed,
  ISSUER,
  pending,
  tokens,
} from './test-support/fake-authorization-server';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const ME = { sub: 'sub-1', email: 'alice@example.com', name: 'Alice', organization: null, authorization_id: 'auth-1' };

describe('DeviceLogin', () => {
  let folder: string;
  let server: FakeAuthorizationServer;
  let store: MemoryCredentialStore;
  let now: number;

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'device-login-spec-'));
    server = new FakeAuthorizationServer();
    server.on('POST /oauth/device/code', { status: 200, body: DEVICE_CODES });
    server.on('GET /v1/me', { status: 200, body: ME });
    store = new MemoryCredentialStore();
    now = NOW;
  });

  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  function deviceLogin(options: { store?: MemoryCredentialStore | FileCredentialStore } = {}): DeviceLogin {
    return new DeviceLogin({
      issuer: `${ISSUER}/`,
      clientId: 'acme-cli',
      store: options.store ?? store,
      configDirectory: folder,
      fetch: server.fetch,
      clock: new FakeClock(),
      now: () => now,
    });
  }

  /** A stored login whose access token expires in `seconds`. */
  async function stored(seconds: number, { refreshable = true } = {}): Promise<Credential> {
    const credential: Credential = {
      version: 1,
      issuer: ISSUER,
      clientId: 'acme-cli',
      profile: 'default',
      accessToken: 'dgat_first',
      tokenType: 'Bearer',
      expiresAt: new Date(now + seconds * 1000).toISOString(),
      refreshToken: refreshable ? 'dgrt_first' : undefined,
      scope: ['profile'],
      obtainedAt: new Date(now - 3600_000).toISOString(),
    };
    await store.save(credential);
    return credential;
  }

  describe('login', () => {
    it('runs the device flow, hands the codes out, and stores the login with who it belongs to', async () => {
      server.on('POST /oauth/token', pending, tokens({ refresh_token: 'dgrt_first' }));
      const shown: string[] = [];
      const credential = await deviceLogin().login({ scope: 'profile read', deviceLabel: 'laptop', onCode: (codes) => void shown.push(codes.userCode) });
      expect(shown).toEqual(['BCDF-GHJK']);
      const expected = {
        version: 1,
        issuer: ISSUER,
        clientId: 'acme-cli',
        profile: 'default',
        accessToken: 'dgat_access',
        tokenType: 'Bearer',
        expiresAt: '2030-01-01T01:00:00.000Z',
        refreshToken: 'dgrt_first',
        scope: ['profile', 'read'],
        deviceLabel: 'laptop',
        obtainedAt: '2030-01-01T00:00:00.000Z',
        subject: { sub: 'sub-1', email: 'alice@example.com', name: 'Alice', organization: null, authorizationId: 'auth-1' },
      };
      expect(credential).toEqual(expected);
      expect(await store.load({ issuer: ISSUER, clientId: 'acme-cli', profile: 'default' })).toEqual(expected);
      expect(server.calls('GET /v1/me')[0].headers.get('authorization')).toBe('Bearer dgat_access');
    });

    it('stores the login even when the server has no /v1/me', async () => {
      server.on('POST /oauth/token', tokens());
      server.on('GET /v1/me', { status: 404 });
      const credential = await deviceLogin().login();
      expect(credential.subject).toBeUndefined();
      expect(await deviceLogin().credential()).toMatchObject({ accessToken: 'dgat_access' });
    });
  });

  describe('access tokens and refresh', () => {
    it('says NotLoggedIn when nothing is stored', async () => {
      await expect(deviceLogin().accessToken()).rejects.toMatchObject({ constructor: NotLoggedIn, reason: 'none' });
    });

    it('hands out the stored token while it has more than a minute to live', async () => {
      await stored(61);
      expect(await deviceLogin().accessToken()).toBe('dgat_first');
      expect(server.calls('POST /oauth/token')).toHaveLength(0);
    });

    it('refreshes within a minute of expiry and stores the rotated refresh token first', async () => {
      await stored(59);
      server.on('POST /oauth/token', tokens({ access_token: 'dgat_second', refresh_token: 'dgrt_second', expires_in: 600 }));
      expect(await deviceLogin().accessToken()).toBe('dgat_second');
      expect(Object.fromEntries(server.calls('POST /oauth/token')[0].form)).toMatchObject({ grant_type: 'refresh_token', refresh_token: 'dgrt_first' });
      expect(await deviceLogin().credential()).toMatchObject({
        accessToken: 'dgat_second',
        refreshToken: 'dgrt_second',
        expiresAt: '2030-01-01T00:10:00.000Z',
        scope: ['profile', 'read'],
      });
    });

    it('keeps the refresh token when the server sends no new one (RFC 6749 §6)', async () => {
      await stored(0);
      server.on('POST /oauth/token', tokens({ access_token: 'dgat_second' }));
      await deviceLogin().accessToken();
      expect(await deviceLogin().credential()).toMatchObject({ accessToken: 'dgat_second', refreshToken: 'dgrt_first' });
    });

    it('refreshes once for logins of several processes at the same moment (they share a lock and a file)', async () => {
      const files = new FileCredentialStore(folder);
      await files.save(await stored(0));
      let refreshes = 0;
      server.on('POST /oauth/token', async () => {
        refreshes++;
        await new Promise((resolve) => setTimeout(resolve, 30));
        return tokens({ access_token: `dgat_${refreshes}`, refresh_token: `dgrt_${refreshes}` });
      });
      const results = await Promise.all([1, 2, 3, 4].map(() => deviceLogin({ store: files }).accessToken()));
      expect(refreshes).toBe(1);
      expect(results).toEqual(['dgat_1', 'dgat_1', 'dgat_1', 'dgat_1']);
    });

    it('says NotLoggedIn (revoked) when the refresh token is refused, and drops it', async () => {
      await stored(0);
      server.on('POST /oauth/token', { status: 400, body: { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked' } });
      await expect(deviceLogin().accessToken()).rejects.toMatchObject({ constructor: NotLoggedIn, reason: 'revoked' });
      expect((await deviceLogin().credential())?.refreshToken).toBeUndefined();
      await expect(deviceLogin().accessToken()).rejects.toMatchObject({ constructor: NotLoggedIn, reason: 'expired' });
      expect(server.calls('POST /oauth/token')).toHaveLength(1);
    });

    it.each([
      ['the connection broke after sending', fetchFailed('ECONNRESET')],
      ['a 503', { status: 503, body: { error: 'temporarily_unavailable' } }],
      ['a 500 without JSON', { status: 500, body: 'Internal Server Error' }],
      ['a 200 that is not JSON', { status: 200, body: '{"access_token": "dgat_cut' }],
    ])('never sends a refresh token again when the answer was lost (%s)', async (_case, answer) => {
      await stored(30);
      server.on('POST /oauth/token', answer);
      await expect(deviceLogin().accessToken()).rejects.toBeInstanceOf(RefreshOutcomeUnknown);
      const kept = await deviceLogin().credential();
      expect({ accessToken: kept?.accessToken, refreshToken: kept?.refreshToken }).toEqual({ accessToken: 'dgat_first', refreshToken: undefined });
      // The old access token is still handed out until it expires; no second refresh is tried.
      expect(await deviceLogin().accessToken()).toBe('dgat_first');
      now += 31_000;
      await expect(deviceLogin().accessToken()).rejects.toMatchObject({ constructor: NotLoggedIn, reason: 'expired' });
      expect(server.calls('POST /oauth/token')).toHaveLength(1);
    });

    it('hands out the token still valid when a refresh could not reach the server', async () => {
      await stored(30);
      server.on('POST /oauth/token', fetchFailed('ECONNREFUSED'));
      expect(await deviceLogin().accessToken()).toBe('dgat_first');
      expect((await deviceLogin().credential())?.refreshToken).toBe('dgrt_first');
    });

    it('keeps the refresh token when the request never left (connection refused), so a later try may use it', async () => {
      await stored(0);
      server.on('POST /oauth/token', fetchFailed('ECONNREFUSED'), tokens({ access_token: 'dgat_second', refresh_token: 'dgrt_second' }));
      await expect(deviceLogin().accessToken()).rejects.toMatchObject({ constructor: NetworkError, mayHaveBeenProcessed: false });
      expect((await deviceLogin().credential())?.refreshToken).toBe('dgrt_first');
      expect(await deviceLogin().accessToken()).toBe('dgat_second');
    });
  });

  describe('authorized requests', () => {
    it('sends the bearer token to a path of the issuer', async () => {
      await stored(3600);
      const response = await deviceLogin().request('/v1/me');
      expect(response.status).toBe(200);
      expect(server.calls('GET /v1/me')[0].headers.get('authorization')).toBe('Bearer dgat_first');
    });

    it('answers a 401 with one refresh and one retry', async () => {
      await stored(3600);
      server.on('GET /v1/me', { status: 401, body: { error: 'invalid_token' } }, { status: 200, body: ME });
      server.on('POST /oauth/token', tokens({ access_token: 'dgat_second', refresh_token: 'dgrt_second' }));
      expect((await deviceLogin().request('/v1/me')).status).toBe(200);
      expect(server.calls('GET /v1/me').map((request) => request.headers.get('authorization'))).toEqual(['Bearer dgat_first', 'Bearer dgat_second']);
    });

    it('returns the 401 as it is without a refresh token', async () => {
      await stored(3600, { refreshable: false });
      server.on('GET /v1/me', { status: 401, body: { error: 'invalid_token' } });
      expect((await deviceLogin().request('/v1/me')).status).toBe(401);
      expect(server.calls('POST /oauth/token')).toHaveLength(0);
    });
  });

  describe('logout', () => {
    it('revokes this login with DELETE /v1/oauth/authorizations/self, then deletes it', async () => {
      await stored(3600);
      server.on('DELETE /v1/oauth/authorizations/self', { status: 204 });
      expect(await deviceLogin().logout()).toEqual({ outcome: 'revoked', removed: true });
      expect(server.calls('DELETE /v1/oauth/authorizations/self')[0].headers.get('authorization')).toBe('Bearer dgat_first');
      expect(await deviceLogin().credential()).toBeUndefined();
    });

    it('falls back to RFC 7009 with the refresh token when the access token is refused or expired', async () => {
      await stored(3600);
      server.on('DELETE /v1/oauth/authorizations/self', { status: 401, body: { error: 'invalid_token' } });
      server.on('POST /oauth/revoke', { status: 200 });
      expect(await deviceLogin().logout()).toEqual({ outcome: 'revocation_requested', removed: true });
      expect(Object.fromEntries(server.calls('POST /oauth/revoke')[0].form)).toEqual({
        token: 'dgrt_first',
        token_type_hint: 'refresh_token',
        client_id: 'acme-cli',
      });
      await stored(-10);
      expect(await deviceLogin().logout()).toMatchObject({ outcome: 'revocation_requested' });
      expect(server.calls('DELETE /v1/oauth/authorizations/self')).toHaveLength(1);
    });

    it('has nothing to revoke when the token is expired or refused and there is no refresh token', async () => {
      await stored(-10, { refreshable: false });
      expect(await deviceLogin().logout()).toEqual({ outcome: 'already_invalid', removed: true });
      await stored(3600, { refreshable: false });
      server.on('DELETE /v1/oauth/authorizations/self', { status: 401, body: { error: 'invalid_token' } });
      expect(await deviceLogin().logout()).toEqual({ outcome: 'already_invalid', removed: true });
    });

    it('keeps the login when the server cannot be reached, unless forced', async () => {
      await stored(3600);
      server.on('DELETE /v1/oauth/authorizations/self', fetchFailed('ECONNREFUSED'));
      await expect(deviceLogin().logout()).rejects.toBeInstanceOf(NetworkError);
      expect(await deviceLogin().credential()).toBeDefined();
      expect(await deviceLogin().logout({ force: true })).toEqual({ outcome: 'not_revoked', removed: true });
      expect(await deviceLogin().credential()).toBeUndefined();
    });

    it('says NotLoggedIn when there is no login to end', async () => {
      await expect(deviceLogin().logout()).rejects.toMatchObject({ constructor: NotLoggedIn, reason: 'none' });
    });
  });
});
