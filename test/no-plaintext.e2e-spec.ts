import Redis from 'ioredis';
import { sha256, sha256Hex } from '../src/common/crypto';
import { queryDatabase } from './support/database';
import { basicAuthorization, obtainToken } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { CLIENTS, CONFIDENTIAL_SECRET, REDIS_URL, startTestApp, type TestApp, USERS } from './support/test-app';

/** Every row of every table of the public schema, one JSON text per row. */
async function dumpDatabase(): Promise<{ tables: string[]; rows: string[] }> {
  const tables = (
    await queryDatabase<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)
  ).map((row) => row.tablename);
  const rows: string[] = [];
  for (const table of tables) {
    const dumped = await queryDatabase<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${table}" t`);
    rows.push(...dumped.map((row) => `${table}: ${row.row}`));
  }
  return { tables, rows };
}

/** Every key under `prefix` with everything it holds, whatever its type, one text per key. */
async function dumpRedis(prefix: string): Promise<string[]> {
  const redis = new Redis(REDIS_URL);
  const entries: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      for (const key of keys) {
        const type = await redis.type(key);
        let value: unknown;
        if (type === 'string') value = await redis.get(key);
        else if (type === 'hash') value = await redis.hgetall(key);
        else if (type === 'list') value = await redis.lrange(key, 0, -1);
        else if (type === 'set') value = await redis.smembers(key);
        else if (type === 'zset') value = await redis.zrange(key, 0, -1, 'WITHSCORES');
        else if (type === 'stream') value = await redis.xrange(key, '-', '+');
        else throw new Error(`cannot read ${type} key ${key}`);
        entries.push(`${key} (${type}): ${JSON.stringify(value)}`);
      }
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return entries;
}

/** The places a secret would show up in, with only what holds it. */
function holding(places: string[], secrets: Record<string, string>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(secrets)
      .map(([name, secret]) => [name, places.filter((place) => place.includes(secret))] as const)
      .filter(([, found]) => found.length > 0),
  );
}

/** Invariant 1: a plaintext code or token exists only in the one response that hands it out. */
describe('no plaintext secret at rest or in the logs', () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;
  let secrets: Record<string, string>;
  let accessToken: string;
  let deviceCode: string;

  beforeAll(async () => {
    testApp = await startTestApp();
    http = new DeviceGateHttp(testApp.baseUrl);

    const started = await http.deviceCode(CLIENTS.cli, { scope: 'profile read', device_label: 'no-plaintext-laptop' });
    expect(started.status).toBe(200);
    deviceCode = started.body.device_code;
    const userCode: string = started.body.user_code;

    // Every place a careless server could log or keep what it was sent.
    expect((await http.poll(CLIENTS.cli, deviceCode)).body.error).toBe('authorization_pending');
    expect((await http.poll(CLIENTS.shortLived, deviceCode)).body.error).toBe('invalid_grant');
    expect((await http.request(`/oauth/device/lookup?user_code=${userCode}`)).body.valid).toBe(true);
    expect((await http.request(`/device?user_code=${userCode}`)).status).toBe(200);

    const cookie = await http.signIn(userCode, USERS.alice);
    const context = await http.approvalContext(cookie);
    expect(context.status).toBe(200);
    expect((await http.decide('approve', cookie, context.body.csrf_token, userCode)).status).toBe(200);

    testApp.clock.advance(started.body.interval * 1000);
    const token = await http.json('/oauth/token', {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      client_id: CLIENTS.cli,
      device_code: deviceCode,
    });
    expect(token.status).toBe(200);
    accessToken = token.body.access_token;
    expect((await http.me(accessToken)).status).toBe(200);
    expect((await http.request('/v1/me', { headers: { authorization: `Bearer ${accessToken}x` } })).status).toBe(401);

    // Refresh tokens, introspection and revocation carry secrets too.
    const refreshing = await obtainToken(http, { clientId: CLIENTS.refreshing, deviceLabel: 'no-plaintext-refresh' });
    const refreshed = await http.form('/oauth/token', {
      grant_type: 'refresh_token',
      client_id: CLIENTS.refreshing,
      refresh_token: refreshing.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    const introspected = await http.form(
      '/oauth/introspect',
      { token: refreshed.body.access_token },
      { authorization: basicAuthorization(CLIENTS.resourceServer, CONFIDENTIAL_SECRET) },
    );
    expect(introspected.body.active).toBe(true);
    expect((await http.me(refreshed.body.access_token)).status).toBe(200);
    expect((await http.form('/oauth/revoke', { client_id: CLIENTS.refreshing, token: refreshed.body.refresh_token })).status).toBe(200);

    const cookieValue = cookie.slice(cookie.indexOf('=') + 1);
    secrets = {
      refresh_token: refreshing.refresh_token as string,
      refreshed_access_token: refreshed.body.access_token,
      refreshed_refresh_token: refreshed.body.refresh_token,
      resource_server_secret: CONFIDENTIAL_SECRET,
      device_code: deviceCode,
      user_code_formatted: userCode,
      user_code_normalized: userCode.replace('-', ''),
      access_token: accessToken,
      access_token_body: accessToken.slice('dgat_'.length),
      approval_cookie: cookieValue,
      approval_cookie_signature: cookieValue.split('.')[2],
      csrf_token: context.body.csrf_token,
    };
    for (const [name, secret] of Object.entries(secrets)) expect({ name, length: secret.length >= 8 }).toEqual({ name, length: true });
  });

  afterAll(() => testApp.close());

  it('keeps the token only as its SHA-256 (hex) in Postgres', async () => {
    const rows = await queryDatabase('SELECT kind, grant_id, scopes FROM access_tokens WHERE token_hash = $1', [sha256Hex(accessToken)]);
    expect(rows).toEqual([{ kind: 'dgat', grant_id: sha256(deviceCode), scopes: ['profile', 'read'] }]);
  });

  it('writes no secret to any row of any Postgres table', async () => {
    const { tables, rows } = await dumpDatabase();

    expect(tables).toEqual(expect.arrayContaining(['access_tokens', 'subjects', 'oauth_clients']));
    // The dump does reach the row of this flow.
    expect(rows.some((row) => row.includes(sha256Hex(accessToken)))).toBe(true);
    expect(holding(rows, secrets)).toEqual({});
  });

  it('keeps no secret under the app’s Redis prefix, in key names or values', async () => {
    const entries = await dumpRedis(testApp.redisKeyPrefix);

    // The dump does reach the flow of this run, keyed by the device code's hash.
    expect(entries.some((entry) => entry.startsWith(`${testApp.redisKeyPrefix}flow:${sha256(deviceCode)} (hash)`))).toBe(true);
    expect(entries.some((entry) => entry.startsWith(`${testApp.redisKeyPrefix}user-code:`))).toBe(true);
    expect(holding(entries, secrets)).toEqual({});
  });

  it('writes no secret to any log line', () => {
    const { logs } = testApp;

    // The requests that carried the secrets were logged.
    const routes = logs.map((line) => JSON.parse(line) as { msg?: string; route?: string }).filter((line) => line.msg === 'request');
    expect(routes.map((line) => line.route)).toEqual(
      expect.arrayContaining([
        '/oauth/device/code',
        '/oauth/token',
        '/oauth/device/lookup',
        '/oauth/device/approve',
        '/v1/me',
        '/oauth/introspect',
        '/oauth/revoke',
      ]),
    );
    expect(holding(logs, secrets)).toEqual({});
  });
});
