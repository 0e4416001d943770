import { randomBytes } from 'node:crypto';
import {
  basicAuthorization,
  expectNoStore,
  expectOAuthError,
  obtainToken,
  startFlow,
  uniqueLabel,
} from './support/flows';
import { queryDatabase } from './support/database';
import { DeviceGateHttp, type Reply } from './support/http';
import { CLIENTS, CONFIDENTIAL_SECRET, DEVICE_GRANT, startTestApp, type TestApp, USERS } from './support/test-app';

const PENDING = { error: 'authorization_pending', error_description: 'The user has not yet approved or denied this device' };
const DENIED = { error: 'access_denied', error_description: 'The user denied this device' };
const EXPIRED = { error: 'expired_token', error_description: 'The device code has expired; start again' };
const UNKNOWN_GRANT = { error: 'invalid_grant', error_description: 'The device code is unknown or belongs to another client' };
const USED_GRANT = { error: 'invalid_grant', error_description: 'The device code was already used' };

function slowDown(interval: number) {
  return {
    error: 'slow_down',
    error_description: `Polling too fast; wait at least ${interval} seconds between requests`,
    interval,
  };
}

/** RFC 8628 §3.4–3.5: the device access token request at the token endpoint. */
describe('POST /oauth/token (device_code grant)', () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;

  /** Lets the default 5 s interval pass, so the next poll is not too fast. */
  const waitInterval = (seconds = 5) => testApp.clock.advance(seconds * 1000);

  beforeAll(async () => {
    testApp = await startTestApp();
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp.close());

  describe('while the user decides (RFC 8628 §3.5)', () => {
    it('answers authorization_pending as long as nobody approved or denied', async () => {
      const started = await startFlow(http);

      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, PENDING);
      waitInterval();
      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, PENDING);
    });

    it('answers slow_down with the interval increased by 5 seconds when polled sooner than the interval', async () => {
      const started = await startFlow(http);
      expect(started.interval).toBe(5);

      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, PENDING);
      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, slowDown(10));
    });

    it('keeps the increased interval for every later poll', async () => {
      const started = await startFlow(http);
      await http.poll(CLIENTS.cli, started.device_code);
      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, slowDown(10));

      // Past the old 5 s, before the new 10 s: still too fast, and the interval grows again.
      waitInterval(6);
      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, slowDown(15));

      waitInterval(15);
      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, PENDING);

      // 10 s would have been enough before; the interval is 15 s now.
      waitInterval(10);
      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, slowDown(20));
    });

    it('counts the interval of the client from its own configured value', async () => {
      const started = await startFlow(http, CLIENTS.shortLived);
      expect(started.interval).toBe(2);

      expectOAuthError(await http.poll(CLIENTS.shortLived, started.device_code), 400, PENDING);
      waitInterval(2);
      expectOAuthError(await http.poll(CLIENTS.shortLived, started.device_code), 400, PENDING);
      expectOAuthError(await http.poll(CLIENTS.shortLived, started.device_code), 400, slowDown(7));
    });

    it('answers access_denied once the user denied, on every later poll', async () => {
      const started = await startFlow(http);
      await http.approveAs(started.user_code, USERS.alice, 'deny');

      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, DENIED);
      waitInterval();
      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, DENIED);
    });

    it('answers expired_token once the code lifetime has passed', async () => {
      const started = await startFlow(http);
      expect(started.expires_in).toBe(600);

      testApp.clock.advance(599_000);
      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, PENDING);

      testApp.clock.advance(1_000);
      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, EXPIRED);
    });

    it('answers expired_token for an approval the device did not collect in time', async () => {
      const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel() });
      await http.approveAs(started.user_code, USERS.alice);

      testApp.clock.advance(started.expires_in * 1000);
      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, EXPIRED);
    });
  });

  describe('invalid_grant', () => {
    it('refuses an unknown device code', async () => {
      const reply = await http.poll(CLIENTS.cli, randomBytes(32).toString('base64url'));
      expectOAuthError(reply, 400, UNKNOWN_GRANT);
    });

    it('refuses the device code of another client, without disturbing its owner', async () => {
      const started = await startFlow(http);

      expectOAuthError(await http.poll(CLIENTS.shortLived, started.device_code), 400, UNKNOWN_GRANT);
      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, PENDING);
    });

    it('refuses an approved device code polled by another client, and still delivers to its owner', async () => {
      const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel() });
      await http.approveAs(started.user_code, USERS.alice);

      expectOAuthError(await http.poll(CLIENTS.shortLived, started.device_code), 400, UNKNOWN_GRANT);
      expect((await http.poll(CLIENTS.cli, started.device_code)).status).toBe(200);
    });

    it('refuses a device code whose token was already delivered', async () => {
      const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel() });
      await http.approveAs(started.user_code, USERS.alice);
      expect((await http.poll(CLIENTS.cli, started.device_code)).status).toBe(200);

      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, USED_GRANT);
      waitInterval();
      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, USED_GRANT);
    });

    it('revokes what a device code delivered when the code comes back (RFC 6749 §4.1.2), refresh token included, audited', async () => {
      const started = await startFlow(http, CLIENTS.refreshing, { device_label: uniqueLabel('replayed') });
      await http.approveAs(started.user_code, USERS.alice);
      const delivered = await http.poll(CLIENTS.refreshing, started.device_code);
      expect(delivered.status).toBe(200);
      const authorization = (await http.me(delivered.body.access_token)).body.authorization_id;

      waitInterval();
      expectOAuthError(await http.poll(CLIENTS.refreshing, started.device_code), 400, USED_GRANT);

      expect((await http.me(delivered.body.access_token)).status).toBe(401);
      const refreshed = await http.form('/oauth/token', {
        grant_type: 'refresh_token',
        client_id: CLIENTS.refreshing,
        refresh_token: delivered.body.refresh_token,
      });
      expectOAuthError(refreshed, 400, { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked' });
      const events = await queryDatabase(
        `SELECT type, outcome, client_id, details FROM audit_events
          WHERE token_id = $1 AND type IN ('token.revoked', 'device_code.replayed') ORDER BY id`,
        [authorization],
      );
      expect(events).toEqual([
        { type: 'token.revoked', outcome: 'success', client_id: CLIENTS.refreshing, details: { reason: 'device_code_replay', subject_id: expect.any(String) } },
        { type: 'device_code.replayed', outcome: 'failure', client_id: CLIENTS.refreshing, details: { revoked: 1 } },
      ]);

      // Every later replay is refused the same way and audited; there is nothing left to revoke.
      const emptyReplays = () =>
        queryDatabase("SELECT id FROM audit_events WHERE type = 'device_code.replayed' AND client_id = $1 AND details->>'revoked' = '0'", [
          CLIENTS.refreshing,
        ]);
      const before = (await emptyReplays()).length;
      waitInterval();
      expectOAuthError(await http.poll(CLIENTS.refreshing, started.device_code), 400, USED_GRANT);
      expect(await emptyReplays()).toHaveLength(before + 1);
    });

    it('keeps the device code consumed past its expiry: a late replay still revokes what it delivered', async () => {
      const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel('late-replay') });
      await http.approveAs(started.user_code, USERS.alice);
      const delivered = await http.poll(CLIENTS.cli, started.device_code);
      expect(delivered.status).toBe(200);

      // The code has expired; the token (30 days) has not.
      testApp.clock.advance((started.expires_in + 60) * 1000);
      expect((await http.me(delivered.body.access_token)).status).toBe(200);
      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, USED_GRANT);
      expect((await http.me(delivered.body.access_token)).status).toBe(401);
    });

    it('does not revoke a token for a device code presented by another client', async () => {
      const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel() });
      await http.approveAs(started.user_code, USERS.alice);
      const delivered = await http.poll(CLIENTS.cli, started.device_code);
      expect(delivered.status).toBe(200);

      expectOAuthError(await http.poll(CLIENTS.shortLived, started.device_code), 400, UNKNOWN_GRANT);
      expect((await http.me(delivered.body.access_token)).status).toBe(200);
    });
  });

  describe('success (RFC 6749 §5.1)', () => {
    it('delivers the access token exactly once, uncached', async () => {
      const started = await startFlow(http, CLIENTS.cli, { scope: 'profile read', device_label: uniqueLabel() });
      await http.approveAs(started.user_code, USERS.alice);

      const reply = await http.poll(CLIENTS.cli, started.device_code);

      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
      expectNoStore(reply);
      expect(reply.body).toEqual({
        access_token: expect.stringMatching(/^dgat_[0-9A-Za-z]{49}$/),
        token_type: 'Bearer',
        expires_in: 30 * 86400,
        scope: 'profile read',
      });
      expect((await http.me(reply.body.access_token)).status).toBe(200);

      waitInterval();
      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, USED_GRANT);
    });

    it('grants the client default scopes when none were asked for', async () => {
      const token = await obtainToken(http, { clientId: CLIENTS.cli });
      expect(token.scope).toBe('profile');
    });

    it('uses the per-client access token lifetime', async () => {
      const token = await obtainToken(http, { clientId: CLIENTS.shortLived });
      expect(token.expires_in).toBe(120);
    });

    it('accepts a JSON token request as well as the form encoding', async () => {
      const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel() });
      await http.approveAs(started.user_code, USERS.alice);

      const reply = await http.json('/oauth/token', {
        grant_type: DEVICE_GRANT,
        client_id: CLIENTS.cli,
        device_code: started.device_code,
      });
      expect(reply.status).toBe(200);
      expect(reply.body.token_type).toBe('Bearer');
    });

    it('hands out one token to many concurrent polls of one approval', async () => {
      const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel() });
      await http.approveAs(started.user_code, USERS.alice);

      const replies = await Promise.all(Array.from({ length: 10 }, () => http.poll(CLIENTS.cli, started.device_code)));

      expect(replies.filter((reply) => reply.status === 200)).toHaveLength(1);
      for (const reply of replies.filter((candidate) => candidate.status !== 200)) {
        expect(reply.status).toBe(400);
        expect(['slow_down', 'authorization_pending', 'invalid_grant']).toContain(reply.body.error);
      }
      waitInterval(60);
      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, USED_GRANT);
    });
  });

  describe('request validation', () => {
    it('refuses another grant type with unsupported_grant_type', async () => {
      for (const grantType of ['password', 'authorization_code', 'client_credentials']) {
        const reply = await http.form('/oauth/token', { grant_type: grantType, client_id: CLIENTS.cli, device_code: 'x' });
        expectOAuthError(reply, 400, {
          error: 'unsupported_grant_type',
          error_description: `grant_type ${grantType} is not supported`,
        });
      }
    });

    it('refuses a request without grant_type', async () => {
      const reply = await http.form('/oauth/token', { client_id: CLIENTS.cli, device_code: 'x' });
      expectOAuthError(reply, 400, { error: 'invalid_request', error_description: 'grant_type is required' });
    });

    it('refuses a request without device_code', async () => {
      const reply = await http.form('/oauth/token', { grant_type: DEVICE_GRANT, client_id: CLIENTS.cli });
      expectOAuthError(reply, 400, { error: 'invalid_request', error_description: 'device_code is required' });
    });

    it('treats an empty device_code as missing', async () => {
      const reply = await http.poll(CLIENTS.cli, '');
      expectOAuthError(reply, 400, { error: 'invalid_request', error_description: 'device_code is required' });
    });

    it('refuses a parameter sent twice (RFC 6749 §3.2)', async () => {
      const started = await startFlow(http);
      const send = (body: string) =>
        http.request('/oauth/token', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
      const grant = encodeURIComponent(DEVICE_GRANT);
      const code = started.device_code;

      expectOAuthError(await send(`grant_type=${grant}&client_id=${CLIENTS.cli}&device_code=${code}&device_code=${code}`), 400, {
        error: 'invalid_request',
        error_description: 'device_code must not be sent more than once',
      });
      expectOAuthError(await send(`grant_type=${grant}&grant_type=${grant}&client_id=${CLIENTS.cli}&device_code=${code}`), 400, {
        error: 'invalid_request',
        error_description: 'grant_type must not be sent more than once',
      });
      expectOAuthError(await send(`grant_type=${grant}&client_id=${CLIENTS.cli}&client_id=${CLIENTS.cli}&device_code=${code}`), 400, {
        error: 'invalid_request',
        error_description: 'client_id must not be sent more than once',
      });
      // None of these counted as a poll.
      expectOAuthError(await http.poll(CLIENTS.cli, code), 400, PENDING);
    });

    it('refuses a body it cannot read with invalid_request', async () => {
      const reply = await http.request('/oauth/token', {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: `grant_type=${DEVICE_GRANT}`,
      });
      expect(reply.status).toBe(400);
      expect(reply.body.error).toBe('invalid_request');
      expectNoStore(reply);
    });
  });

  describe('client authentication (RFC 6749 §2.3)', () => {
    async function confidentialFlow() {
      const started = await startFlow(http, CLIENTS.confidential, {
        client_secret: CONFIDENTIAL_SECRET,
        device_label: uniqueLabel(),
      });
      return started;
    }

    it('accepts a confidential client with client_secret_basic', async () => {
      const started = await confidentialFlow();
      const authorization = basicAuthorization(CLIENTS.confidential, CONFIDENTIAL_SECRET);
      expectOAuthError(await http.poll(undefined, started.device_code, {}, { authorization }), 400, PENDING);

      await http.approveAs(started.user_code, USERS.bob);
      waitInterval();
      const reply = await http.poll(undefined, started.device_code, {}, { authorization });
      expect(reply.status).toBe(200);
      expect(reply.body.scope).toBe('profile read');
      expectNoStore(reply);
    });

    it('accepts a confidential client with client_secret_post', async () => {
      const started = await confidentialFlow();
      expectOAuthError(
        await http.poll(CLIENTS.confidential, started.device_code, { client_secret: CONFIDENTIAL_SECRET }),
        400,
        PENDING,
      );

      await http.approveAs(started.user_code, USERS.bob);
      waitInterval();
      const reply = await http.poll(CLIENTS.confidential, started.device_code, { client_secret: CONFIDENTIAL_SECRET });
      expect(reply.status).toBe(200);
      expect(reply.body.token_type).toBe('Bearer');
    });

    it('refuses a wrong secret sent with client_secret_post with 401 invalid_client', async () => {
      const started = await confidentialFlow();
      const reply = await http.poll(CLIENTS.confidential, started.device_code, { client_secret: `${CONFIDENTIAL_SECRET}x` });
      expectOAuthError(reply, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
    });

    it('refuses a wrong secret sent with client_secret_basic with 401 invalid_client and a Basic challenge', async () => {
      const started = await confidentialFlow();
      const authorization = basicAuthorization(CLIENTS.confidential, 'wrong-secret');
      const reply = await http.poll(undefined, started.device_code, {}, { authorization });
      expectOAuthError(reply, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
      expect(reply.headers.get('www-authenticate')).toBe('Basic realm="devicegate"');
    });

    it('does not deliver an approved token to a wrong secret', async () => {
      const started = await confidentialFlow();
      await http.approveAs(started.user_code, USERS.bob);

      const refused = await http.poll(CLIENTS.confidential, started.device_code, { client_secret: 'wrong-secret' });
      expect(refused.status).toBe(401);
      const reply = await http.poll(CLIENTS.confidential, started.device_code, { client_secret: CONFIDENTIAL_SECRET });
      expect(reply.status).toBe(200);
    });

    it('refuses a confidential client that sends no secret, with the challenge', async () => {
      const started = await confidentialFlow();
      const reply = await http.poll(CLIENTS.confidential, started.device_code);
      expectOAuthError(reply, 401, { error: 'invalid_client', error_description: 'This client must authenticate with its secret' });
      expect(reply.headers.get('www-authenticate')).toBe('Basic realm="devicegate"');
    });

    it('refuses an unknown client, and a request without any client', async () => {
      const started = await startFlow(http);
      expectOAuthError(await http.poll('nobody', started.device_code), 401, {
        error: 'invalid_client',
        error_description: 'Unknown or disabled client',
      });
      expectOAuthError(await http.poll(undefined, started.device_code), 401, {
        error: 'invalid_client',
        error_description: 'client_id is missing',
      });
    });

    it('refuses a secret sent by a public client', async () => {
      const started = await startFlow(http);
      const reply = await http.poll(CLIENTS.cli, started.device_code, { client_secret: 'anything-at-all' });
      expectOAuthError(reply, 401, { error: 'invalid_client', error_description: 'A public client has no secret to send' });
    });

    it('refuses a client not allowed the device grant with unauthorized_client', async () => {
      const reply = await http.poll(CLIENTS.noDeviceGrant, randomBytes(32).toString('base64url'));
      expectOAuthError(reply, 400, {
        error: 'unauthorized_client',
        error_description: 'This client may not use the device authorization grant',
      });
    });
  });

  it('marks every answer, success and each error, Cache-Control: no-store and Pragma: no-cache', async () => {
    const replies: Record<string, Reply> = {};
    const approved = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel() });
    await http.approveAs(approved.user_code, USERS.alice);
    replies.success = await http.poll(CLIENTS.cli, approved.device_code);
    replies.invalid_grant = await http.poll(CLIENTS.cli, approved.device_code);

    const pending = await startFlow(http);
    replies.authorization_pending = await http.poll(CLIENTS.cli, pending.device_code);
    replies.slow_down = await http.poll(CLIENTS.cli, pending.device_code);

    const denied = await startFlow(http);
    await http.approveAs(denied.user_code, USERS.alice, 'deny');
    replies.access_denied = await http.poll(CLIENTS.cli, denied.device_code);

    replies.unsupported_grant_type = await http.form('/oauth/token', { grant_type: 'password', client_id: CLIENTS.cli });
    replies.invalid_request = await http.form('/oauth/token', { client_id: CLIENTS.cli });
    replies.invalid_client = await http.poll(CLIENTS.confidential, pending.device_code, { client_secret: 'wrong' });
    replies.unauthorized_client = await http.poll(CLIENTS.noDeviceGrant, pending.device_code);

    const expiring = await startFlow(http);
    testApp.clock.advance(expiring.expires_in * 1000);
    replies.expired_token = await http.poll(CLIENTS.cli, expiring.device_code);

    expect(Object.fromEntries(Object.entries(replies).map(([name, reply]) => [name, reply.body.error ?? reply.status]))).toEqual({
      success: 200,
      invalid_grant: 'invalid_grant',
      authorization_pending: 'authorization_pending',
      slow_down: 'slow_down',
      access_denied: 'access_denied',
      unsupported_grant_type: 'unsupported_grant_type',
      invalid_request: 'invalid_request',
      invalid_client: 'invalid_client',
      unauthorized_client: 'unauthorized_client',
      expired_token: 'expired_token',
    });
    for (const reply of Object.values(replies)) expectNoStore(reply);
  });
});
