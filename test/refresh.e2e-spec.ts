import { createMigratedDatabase, type TestDatabase } from './support/database';
import { expectNoStore, expectOAuthError, obtainToken, uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { RetentionPrunerService } from '../src/retention/retention-pruner.service';
import { CLIENTS, startTestApp, type TestApp } from './support/test-app';

const OTHER_REFRESHING = 'test-other-refreshing';
const REFUSED = { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked' };
const HOUR = 3600_000;

/** RFC 6749 §6 refresh with rotation on every use; RFC 9700 §4.14.2 reuse detection; idle and absolute lifetimes. */
describe('refresh tokens', () => {
  let database: TestDatabase;
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    // Its own database: the clock of this app runs hours ahead, and its pruner must not touch other specs' tokens.
    database = await createMigratedDatabase();
    testApp = await startTestApp({
      env: { DATABASE_URL: database.url, REFRESH_TOKEN_IDLE_TTL: '1h', REFRESH_TOKEN_ABSOLUTE_TTL: '3h', ACCESS_TOKEN_TTL: '10m' },
      configure: (file) => {
        file.clients.push({
          client_id: OTHER_REFRESHING,
          name: 'Other Refreshing CLI',
          type: 'public',
          grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
          scopes: ['profile', 'read'],
        });
      },
    });
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(async () => {
    await testApp?.close();
    await database?.drop();
  });

  const queryDatabase = (sql: string, parameters: unknown[]) => database.query(sql, parameters);

  function refresh(refreshToken: string | undefined, extra: Record<string, string> = {}, clientId: string = CLIENTS.refreshing) {
    return http.form('/oauth/token', { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken, ...extra });
  }

  async function granted(scope = 'profile read') {
    return obtainToken(http, { clientId: CLIENTS.refreshing, scope, deviceLabel: uniqueLabel('refresh') });
  }

  it('comes with the device grant only for a client allowed the refresh_token grant', async () => {
    const token = await granted();
    expect(token.refresh_token).toMatch(/^dgrt_[0-9A-Za-z]{49}$/);
    expect((await obtainToken(http, { clientId: CLIENTS.fast })).refresh_token).toBeUndefined();
  });

  it('rotates on every use: new access and refresh tokens, the old access token stops working, the authorization stays', async () => {
    const first = await granted();
    const before = await http.me(first.access_token);

    const reply = await refresh(first.refresh_token);

    expect(reply.status).toBe(200);
    expectNoStore(reply);
    expect(reply.body).toEqual({
      access_token: expect.stringMatching(/^dgat_/),
      token_type: 'Bearer',
      expires_in: 600,
      refresh_token: expect.stringMatching(/^dgrt_/),
      scope: 'profile read',
    });
    expect(reply.body.refresh_token).not.toBe(first.refresh_token);
    expect((await http.me(first.access_token)).status).toBe(401);
    const after = await http.me(reply.body.access_token);
    expect(after.body.authorization_id).toBe(before.body.authorization_id);
    expect((await refresh(reply.body.refresh_token)).status).toBe(200);
    const [event] = await queryDatabase(
      `SELECT outcome, details FROM audit_events WHERE type = 'token.refreshed' AND token_id = $1 ORDER BY id LIMIT 1`,
      [before.body.authorization_id],
    );
    expect(event).toMatchObject({ outcome: 'success', details: { scopes: ['profile', 'read'], ip: '127.0.0.1' } });
  });

  it('revokes the whole authorization when a used refresh token comes back (it was copied)', async () => {
    const first = await granted();
    const authorization = (await http.me(first.access_token)).body.authorization_id;
    const second = await refresh(first.refresh_token);
    expect(second.status).toBe(200);

    expectOAuthError(await refresh(first.refresh_token), 400, REFUSED);

    expect((await http.me(second.body.access_token)).status).toBe(401);
    expectOAuthError(await refresh(second.body.refresh_token), 400, REFUSED);
    const events = await queryDatabase(`SELECT details->>'reason' AS reason FROM audit_events WHERE type = 'token.revoked' AND token_id = $1`, [
      authorization,
    ]);
    expect(events).toEqual([{ reason: 'refresh_reuse' }]);
  });

  it('expires when unused for the idle lifetime; each use starts the period again', async () => {
    let token = (await granted()).refresh_token as string;
    for (let step = 0; step < 2; step++) {
      testApp.clock.advance(HOUR - 60_000);
      const reply = await refresh(token);
      expect(reply.status).toBe(200);
      token = reply.body.refresh_token;
    }
    testApp.clock.advance(HOUR + 1_000);
    expectOAuthError(await refresh(token), 400, REFUSED);
  });

  it('never outlives the absolute lifetime, however often it is used', async () => {
    let token = (await granted()).refresh_token as string;
    for (let step = 0; step < 3; step++) {
      testApp.clock.advance(55 * 60_000);
      const reply = await refresh(token);
      expect(reply.status).toBe(200);
      token = reply.body.refresh_token;
    }
    // 2 h 45 m in: the next use is within the idle lifetime but past 3 h.
    testApp.clock.advance(16 * 60_000);
    expectOAuthError(await refresh(token), 400, REFUSED);
  });

  it('may narrow the scopes (RFC 6749 §6), never widen them past the grant', async () => {
    const first = await granted('profile');
    const narrowed = await refresh(first.refresh_token, { scope: 'profile' });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('profile');
    expect((await http.me(narrowed.body.access_token)).body.scopes).toEqual(['profile']);
    expectOAuthError(await refresh(narrowed.body.refresh_token, { scope: 'profile read' }), 400, {
      error: 'invalid_scope',
      error_description: 'A refresh may only narrow the granted scopes (profile)',
    });
    // The refused widening used nothing up.
    expect((await refresh(narrowed.body.refresh_token)).status).toBe(200);
  });

  it('narrows only the access token: the new refresh token keeps the scope of the grant (RFC 6749 §6)', async () => {
    const first = await granted('profile read');
    const narrowed = await refresh(first.refresh_token, { scope: 'profile' });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('profile');
    expect((await http.me(narrowed.body.access_token)).body.scopes).toEqual(['profile']);

    // Without a scope, the grant's scope; asking for all of it again is no widening.
    const whole = await refresh(narrowed.body.refresh_token);
    expect(whole.status).toBe(200);
    expect(whole.body.scope).toBe('profile read');
    expect((await http.me(whole.body.access_token)).body.scopes).toEqual(['profile', 'read']);
    const narrowedAgain = await refresh(whole.body.refresh_token, { scope: 'read' });
    expect(narrowedAgain.body.scope).toBe('read');
    const askedForAll = await refresh(narrowedAgain.body.refresh_token, { scope: 'read profile' });
    expect(askedForAll.status).toBe(200);
    expect(askedForAll.body.scope).toBe('read profile');
    expectOAuthError(await refresh(askedForAll.body.refresh_token, { scope: 'profile read write' }), 400, {
      error: 'invalid_scope',
      error_description: 'A refresh may only narrow the granted scopes (profile read)',
    });
  });

  it('is refused for another client, a client without the grant, and anything not a live refresh token', async () => {
    const token = await granted();
    expectOAuthError(await refresh(token.refresh_token, {}, OTHER_REFRESHING), 400, REFUSED);
    expectOAuthError(await refresh(token.refresh_token, {}, CLIENTS.fast), 400, {
      error: 'unauthorized_client',
      error_description: 'This client does not get refresh tokens',
    });
    expectOAuthError(await refresh(token.access_token), 400, REFUSED);
    expectOAuthError(await refresh('dgrt_not-a-token'), 400, REFUSED);
    expectOAuthError(await refresh(undefined), 400, { error: 'invalid_request', error_description: 'refresh_token is required' });
    // None of that used the real one up.
    expect((await refresh(token.refresh_token)).status).toBe(200);
  });

  it('is revoked with its authorization through RFC 7009', async () => {
    const token = await granted();
    const reply = await http.form('/oauth/revoke', { client_id: CLIENTS.refreshing, token: token.refresh_token as string });
    expect(reply.status).toBe(200);
    expect((await http.me(token.access_token)).status).toBe(401);
    expectOAuthError(await refresh(token.refresh_token), 400, REFUSED);
  });

  it('keeps an authorization whose access token expired alive for the pruner while its refresh token lives', async () => {
    const token = await granted();
    const authorization = (await http.me(token.access_token)).body.authorization_id;
    testApp.clock.advance(11 * 60_000);
    expect((await http.me(token.access_token)).status).toBe(401);
    await testApp.app.get(RetentionPrunerService).run();
    const [row] = await queryDatabase('SELECT revoked_at FROM access_tokens WHERE id = $1', [authorization]);
    expect(row.revoked_at).toBeNull();
    const renewed = await refresh(token.refresh_token);
    expect(renewed.status).toBe(200);
    expect((await http.me(renewed.body.access_token)).status).toBe(200);
  });
});
