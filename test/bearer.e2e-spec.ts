import { generateToken } from '../src/tokens/token-format';
import { queryDatabase } from './support/database';
import { expectInvalidToken, obtainToken, startFlow, TOKEN_REJECTED as REJECTED, uniqueLabel, UUID } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { CLIENTS, startTestApp, type TestApp, USERS } from './support/test-app';

const MALFORMED = 'The access token is malformed';

/** RFC 6750: GET /v1/me behind BearerAuthGuard. */
describe('GET /v1/me (bearer token, RFC 6750)', () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;

  const me = (authorization?: string) =>
    http.request('/v1/me', { headers: authorization === undefined ? {} : { authorization } });

  beforeAll(async () => {
    testApp = await startTestApp();
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp.close());

  describe('RFC 6750 §3: refusals', () => {
    it('challenges a request without Authorization, with no error attribute (§3.1)', async () => {
      const reply = await me();
      expect(reply.status).toBe(401);
      expect(reply.headers.get('www-authenticate')).toBe('Bearer realm="devicegate"');
      expect(reply.body).toEqual({ error: 'invalid_token', error_description: 'A bearer token is required' });
    });

    it('answers another scheme like no credentials at all: 401 and a bare challenge (§3.1)', async () => {
      const { access_token: token } = await obtainToken(http);
      const basic = `Basic ${Buffer.from('alice:alice-password-1').toString('base64')}`;
      for (const authorization of [basic, `Token ${token}`, `Bearerx ${token}`]) {
        const reply = await me(authorization);
        expect({ authorization, status: reply.status, challenge: reply.headers.get('www-authenticate'), body: reply.body }).toEqual({
          authorization,
          status: 401,
          challenge: 'Bearer realm="devicegate"',
          body: { error: 'invalid_token', error_description: 'A bearer token is required' },
        });
      }
    });

    it('refuses a broken Bearer header with 400 invalid_request and its challenge (§3.1)', async () => {
      const { access_token: token } = await obtainToken(http);
      for (const authorization of ['Bearer', `Bearer ${token} extra`, `Bearer ${token},x`]) {
        const reply = await me(authorization);
        expect({ authorization, status: reply.status, challenge: reply.headers.get('www-authenticate'), body: reply.body }).toEqual({
          authorization,
          status: 400,
          challenge: 'Bearer realm="devicegate", error="invalid_request"',
          body: { error: 'invalid_request', error_description: 'The Authorization header must be "Bearer <token>"' },
        });
      }
    });

    it('refuses a malformed token with 401 invalid_token', async () => {
      for (const token of ['not-a-devicegate-token', 'dgat_short', `dgrt_${'A'.repeat(49)}`, `dgat_${'A'.repeat(50)}`]) {
        expectInvalidToken(await me(`Bearer ${token}`), MALFORMED);
      }
    });

    it('refuses a token whose checksum fails with 401 invalid_token', async () => {
      const { access_token: token } = await obtainToken(http);
      const last = token.at(-1) === 'a' ? 'b' : 'a';
      const body = token[10] === 'a' ? 'b' : 'a';
      expectInvalidToken(await me(`Bearer ${token.slice(0, -1)}${last}`), MALFORMED);
      expectInvalidToken(await me(`Bearer ${token.slice(0, 10)}${body}${token.slice(11)}`), MALFORMED);
      expect((await me(`Bearer ${token}`)).status).toBe(200);
    });

    it('refuses a well-formed token devicegate never issued with 401 invalid_token', async () => {
      expectInvalidToken(await me(`Bearer ${generateToken('dgat')}`), REJECTED);
    });

    it('refuses a token past its lifetime with 401 invalid_token', async () => {
      const token = await obtainToken(http, { clientId: CLIENTS.shortLived });
      expect(token.expires_in).toBe(120);

      testApp.clock.advance(119_000);
      expect((await me(`Bearer ${token.access_token}`)).status).toBe(200);

      testApp.clock.advance(1_000);
      expectInvalidToken(await me(`Bearer ${token.access_token}`), REJECTED);
    });
  });

  describe('a valid token', () => {
    it('answers 200 with the subject, client, device, scopes and expiry', async () => {
      const label = uniqueLabel('workstation');
      const token = await obtainToken(http, { deviceLabel: label, scope: 'profile read', user: USERS.alice });

      const reply = await me(`Bearer ${token.access_token}`);

      expect(reply.status).toBe(200);
      expect(reply.headers.get('cache-control')).toBe('no-store');
      expect(reply.body).toEqual({
        sub: expect.stringMatching(UUID),
        issuer: 'urn:devicegate:local',
        external_id: USERS.alice.username,
        email: USERS.alice.email,
        name: USERS.alice.name,
        organization: null,
        client_id: CLIENTS.cli,
        device_label: label,
        scopes: ['profile', 'read'],
        authorization_id: expect.stringMatching(UUID),
        expires_at: expect.any(String),
      });
      const expectedExpiry = testApp.clock.now() + token.expires_in * 1000;
      expect(Math.abs(Date.parse(reply.body.expires_at) - expectedExpiry)).toBeLessThan(5_000);
    });

    it('accepts the scheme name in any case (RFC 7235 §2.1)', async () => {
      const { access_token: token } = await obtainToken(http);
      expect((await me(`bearer ${token}`)).status).toBe(200);
      expect((await me(`BEARER ${token}`)).status).toBe(200);
    });

    it('gives one person the same sub on every device and another person another', async () => {
      const first = await me(`Bearer ${(await obtainToken(http, { user: USERS.alice })).access_token}`);
      const second = await me(`Bearer ${(await obtainToken(http, { user: USERS.alice })).access_token}`);
      const bob = await me(`Bearer ${(await obtainToken(http, { user: USERS.bob })).access_token}`);
      expect(second.body.sub).toBe(first.body.sub);
      expect(bob.body.sub).not.toBe(first.body.sub);
      expect(bob.body.email).toBe(USERS.bob.email);
    });
  });

  describe('rotation per device', () => {
    it('rotates the token of the same user, client and device in place', async () => {
      const label = uniqueLabel('laptop');
      const first = await obtainToken(http, { deviceLabel: label });
      const before = await me(`Bearer ${first.access_token}`);
      expect(before.status).toBe(200);

      const second = await obtainToken(http, { deviceLabel: label });

      expect(second.access_token).not.toBe(first.access_token);
      expectInvalidToken(await me(`Bearer ${first.access_token}`), REJECTED);
      const after = await me(`Bearer ${second.access_token}`);
      expect(after.status).toBe(200);
      expect(after.body.authorization_id).toBe(before.body.authorization_id);
      expect(after.body.sub).toBe(before.body.sub);
    });

    it('keeps separate authorizations for another device label, another client or another person', async () => {
      const label = uniqueLabel('laptop');
      const base = await obtainToken(http, { deviceLabel: label });
      const otherDevice = await obtainToken(http, { deviceLabel: uniqueLabel('desktop') });
      const otherClient = await obtainToken(http, { deviceLabel: label, clientId: CLIENTS.shortLived });
      const otherPerson = await obtainToken(http, { deviceLabel: label, user: USERS.bob });

      const replies = await Promise.all([base, otherDevice, otherClient, otherPerson].map((token) => me(`Bearer ${token.access_token}`)));

      expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200]);
      expect(new Set(replies.map((reply) => reply.body.authorization_id)).size).toBe(4);
    });

    it('gives every approval of a device without a label an authorization of its own: none replaces another', async () => {
      const unlabelled = async () => {
        const started = await startFlow(http, CLIENTS.cli);
        await http.approveAs(started.user_code, USERS.bob);
        const reply = await http.poll(CLIENTS.cli, started.device_code);
        expect(reply.status).toBe(200);
        return reply.body.access_token as string;
      };
      const tokens = [await unlabelled(), await unlabelled(), await unlabelled()];

      const replies = await Promise.all(tokens.map((token) => me(`Bearer ${token}`)));
      expect(replies.map((reply) => [reply.status, reply.body.device_label])).toEqual([
        [200, null],
        [200, null],
        [200, null],
      ]);
      expect(new Set(replies.map((reply) => reply.body.authorization_id)).size).toBe(3);
      const rotated = await queryDatabase(
        "SELECT 1 FROM audit_events WHERE type = 'token.rotated' AND token_id = ANY($1::uuid[])",
        [replies.map((reply) => reply.body.authorization_id)],
      );
      expect(rotated).toEqual([]);
    });
  });
});
