import { CuttableProxy, hostAndPort as target } from './support/cuttable-proxy';
import { DeviceGateHttp, type Reply } from './support/http';
import { startFlow, uniqueLabel } from './support/flows';
import { CLIENTS, REDIS_URL, startTestApp, type TestApp, USERS } from './support/test-app';

/** Generous: proves "answers instead of hanging", not speed. */
const BOUNDED_MS = 10_000;

async function timed<T>(run: () => Promise<T>): Promise<{ reply: T; ms: number }> {
  const started = Date.now();
  const reply = await run();
  return { reply, ms: Date.now() - started };
}

function expectUnavailable(reply: Reply): void {
  expect({ status: reply.status, error: reply.body?.error }).toEqual({ status: 503, error: 'temporarily_unavailable' });
  expect(typeof reply.body.error_description).toBe('string');
  expect(reply.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(reply.headers.get('cache-control')).toBe('no-store');
  expect(JSON.stringify(reply.body)).not.toMatch(/\bat .+\(.+:\d+:\d+\)|stack/);
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting: ${what}`);
}

/** Invariant 5: a down Redis or Postgres gets a 503, never a 500, and loses nothing acknowledged. */
describe('when Redis or Postgres is down', () => {
  let redisProxy: CuttableProxy;
  let postgresProxy: CuttableProxy;
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    const databaseUrl = process.env.TEST_DATABASE_URL as string;
    redisProxy = await new CuttableProxy(target(REDIS_URL)).start();
    postgresProxy = await new CuttableProxy(target(databaseUrl)).start();
    const proxiedDatabase = new URL(databaseUrl);
    proxiedDatabase.hostname = '127.0.0.1';
    proxiedDatabase.port = String(postgresProxy.port);
    testApp = await startTestApp({
      env: { REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`, DATABASE_URL: proxiedDatabase.toString() },
    });
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(async () => {
    await redisProxy?.restore();
    await postgresProxy?.restore();
    await testApp?.close();
    await redisProxy?.close();
    await postgresProxy?.close();
  });

  afterEach(async () => {
    await redisProxy.restore();
    await postgresProxy.restore();
  });

  async function ready(): Promise<boolean> {
    return (await http.request('/readyz')).status === 200;
  }

  it('is ready with both up (through the proxies)', async () => {
    expect((await http.request('/readyz')).body).toEqual({ status: 'ready', postgres: 'up', redis: 'up' });
  });

  describe('Redis', () => {
    it('answers 503 to the device flow at once, says not ready, stays alive, and recovers', async () => {
      const before = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel('redis-down') });

      await redisProxy.cutOff();

      const code = await timed(() => http.deviceCode(CLIENTS.cli, { device_label: uniqueLabel('redis-down') }));
      expectUnavailable(code.reply);
      expect(code.ms).toBeLessThan(BOUNDED_MS);

      const poll = await timed(() => http.poll(CLIENTS.cli, before.device_code));
      expectUnavailable(poll.reply);
      expect(poll.ms).toBeLessThan(BOUNDED_MS);

      const lookup = await timed(() => http.request(`/oauth/device/lookup?user_code=${before.user_code}`));
      expectUnavailable(lookup.reply);
      expect(lookup.ms).toBeLessThan(BOUNDED_MS);

      const login = await timed(() =>
        http.form('/oauth/device/sso/local/login', { user_code: before.user_code, ...USERS.alice }),
      );
      expectUnavailable(login.reply);
      expect(login.ms).toBeLessThan(BOUNDED_MS);

      const readyz = await timed(() => http.request('/readyz'));
      expectUnavailable(readyz.reply);
      expect(readyz.reply.body.error_description).toMatch(/redis/i);
      expect(readyz.reply.body.error_description).not.toMatch(/postgres/i);
      expect(readyz.ms).toBeLessThan(BOUNDED_MS);

      const healthz = await http.request('/healthz');
      expect(healthz.status).toBe(200);

      await redisProxy.restore();
      await eventually(ready, 'readyz after Redis came back');

      expect((await http.deviceCode(CLIENTS.cli, { device_label: uniqueLabel('redis-back') })).status).toBe(200);
      // The flow acknowledged before the outage is still there, and the failed polls did not count.
      const resumed = await http.poll(CLIENTS.cli, before.device_code);
      expect({ status: resumed.status, error: resumed.body.error }).toEqual({ status: 400, error: 'authorization_pending' });
      expect((await http.request(`/oauth/device/lookup?user_code=${before.user_code}`)).body.valid).toBe(true);
    });

    it('logs the outage as a dependency problem, not as an unexpected error', async () => {
      await redisProxy.cutOff();
      const reply = await http.deviceCode(CLIENTS.cli);
      expectUnavailable(reply);
      const requestId = reply.headers.get('x-request-id');
      // The request line is written once the response has gone out.
      await eventually(async () => testApp.logs.some((line) => JSON.parse(line).reqId === requestId), 'the request log line', 2000);
      const entries = testApp.logs.map((line) => JSON.parse(line));
      expect(entries.find((entry) => entry.reqId === requestId)).toMatchObject({ msg: 'request', status: 503 });
      expect(entries.some((entry) => entry.msg === 'dependency unavailable')).toBe(true);
      expect(entries.filter((entry) => entry.msg === 'unexpected error')).toEqual([]);
      await redisProxy.restore();
      await eventually(ready, 'readyz after Redis came back');
    });
  });

  describe('Postgres', () => {
    it('answers 503 to a poll after an approval, and delivers the token once Postgres is back', async () => {
      const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel('postgres-down') });
      await http.approveAs(started.user_code, USERS.alice);

      await postgresProxy.cutOff();

      const poll = await timed(() => http.poll(CLIENTS.cli, started.device_code));
      expectUnavailable(poll.reply);
      expect(poll.ms).toBeLessThan(BOUNDED_MS);

      const readyz = await http.request('/readyz');
      expectUnavailable(readyz);
      expect(readyz.body.error_description).toMatch(/postgres/i);
      expect(readyz.body.error_description).not.toMatch(/redis/i);
      expect((await http.request('/healthz')).status).toBe(200);

      await postgresProxy.restore();
      await eventually(ready, 'readyz after Postgres came back');

      // The failed poll counted for the interval; the next one waits as a well-behaved client would.
      testApp.clock.advance((started.interval + 1) * 1000);
      const token = await http.poll(CLIENTS.cli, started.device_code);
      expect(token.status).toBe(200);
      expect(token.body).toMatchObject({ token_type: 'Bearer', access_token: expect.stringMatching(/^dgat_/) });

      const me = await http.me(token.body.access_token);
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ email: USERS.alice.email, client_id: CLIENTS.cli });

      testApp.clock.advance((started.interval + 1) * 1000);
      const again = await http.poll(CLIENTS.cli, started.device_code);
      expect({ status: again.status, error: again.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
    });

    it('answers 503, not 401, to a bearer token it cannot check, and 503 to a sign-in', async () => {
      const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel('postgres-bearer') });
      await http.approveAs(started.user_code, USERS.alice);
      const token = await http.poll(CLIENTS.cli, started.device_code);
      expect(token.status).toBe(200);
      const other = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel('postgres-login') });

      await postgresProxy.cutOff();

      const me = await timed(() => http.me(token.body.access_token));
      expectUnavailable(me.reply);
      expect(me.reply.headers.get('www-authenticate')).toBeNull();
      expect(me.ms).toBeLessThan(BOUNDED_MS);

      const login = await timed(() => http.form('/oauth/device/sso/local/login', { user_code: other.user_code, ...USERS.bob }));
      expectUnavailable(login.reply);
      expect(login.reply.headers.get('set-cookie')).toBeNull();
      expect(login.ms).toBeLessThan(BOUNDED_MS);

      await postgresProxy.restore();
      await eventually(ready, 'readyz after Postgres came back');
      expect((await http.me(token.body.access_token)).status).toBe(200);
    });
  });

  it('answers 503 to everything that needs the store while both are down, and recovers from both', async () => {
    const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel('both-down') });
    await redisProxy.cutOff();
    await postgresProxy.cutOff();

    expectUnavailable(await http.deviceCode(CLIENTS.cli));
    expectUnavailable(await http.poll(CLIENTS.cli, started.device_code));
    const readyz = await http.request('/readyz');
    expectUnavailable(readyz);
    expect(readyz.body.error_description).toBe('Not ready: postgres unreachable and redis unreachable');
    expect((await http.request('/healthz')).status).toBe(200);

    await redisProxy.restore();
    await postgresProxy.restore();
    await eventually(ready, 'readyz after both came back');
    const resumed = await http.poll(CLIENTS.cli, started.device_code);
    expect(resumed.body.error).toBe('authorization_pending');
  });
});

/** Invariant 5: bad input gets an RFC-shaped 4xx, never a 5xx and never a stack trace. */
describe('bad input', () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    testApp = await startTestApp();
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp.close());

  const POST_ENDPOINTS = [
    '/oauth/device/code',
    '/oauth/token',
    '/oauth/device/sso/local/login',
    '/oauth/device/approve',
    '/oauth/device/deny',
  ];
  const GET_ENDPOINTS = [
    '/.well-known/oauth-authorization-server',
    '/oauth/device/lookup',
    '/oauth/device/approval-context',
    '/device',
    '/device/device.js',
    '/v1/me',
    '/healthz',
    '/readyz',
    '/metrics',
    '/docs',
  ];

  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const json = { 'content-type': 'application/json' };

  const BODIES: { what: string; headers: Record<string, string>; body: string | Uint8Array }[] = [
    { what: 'broken JSON', headers: json, body: '{"client_id":' },
    { what: 'a JSON array', headers: json, body: '[1,2,3]' },
    { what: 'a JSON string', headers: json, body: '"client_id=test-cli"' },
    { what: 'JSON null', headers: json, body: 'null' },
    { what: 'an empty JSON body', headers: json, body: '' },
    {
      what: 'objects and numbers where strings belong',
      headers: json,
      body: JSON.stringify({
        client_id: { $ne: null },
        grant_type: ['a', 'b'],
        device_code: 12345,
        user_code: { length: 8 },
        username: true,
        password: null,
        scope: [],
        device_label: { toString: 'x' },
      }),
    },
    { what: 'prototype pollution', headers: json, body: '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}' },
    { what: 'deep nesting', headers: json, body: `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}` },
    { what: 'parameters sent twice and empty', headers: form, body: 'client_id=&client_id=&grant_type=&user_code=a&user_code=b' },
    { what: 'broken percent-escapes', headers: form, body: 'client_id=%E0%A4%A&user_code=%ZZ&grant_type=%' },
    { what: 'bytes that are not UTF-8', headers: form, body: Uint8Array.from([0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x5f, 0x69, 0x64, 0x3d, 0xff, 0xfe, 0xc3]) },
    { what: 'control characters', headers: form, body: 'client_id=test-cli%00&device_label=%1B%5B31m&user_code=BCDF%0AGHJK&username=%00' },
    { what: 'a very long value', headers: form, body: `client_id=test-cli&user_code=${'B'.repeat(60_000)}` },
    { what: 'a body over the size limit', headers: form, body: `client_id=${'a'.repeat(70 * 1024)}` },
    { what: 'text/plain', headers: { 'content-type': 'text/plain' }, body: 'client_id=test-cli' },
    { what: 'XML', headers: { 'content-type': 'application/xml' }, body: '<client_id>test-cli</client_id>' },
    { what: 'multipart', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x\r\nContent-Disposition: form-data; name="client_id"\r\n\r\ntest-cli\r\n--x--\r\n' },
    { what: 'a nonsense content type', headers: { 'content-type': ';;;=' }, body: 'client_id=test-cli' },
    { what: 'a charset that does not exist', headers: { 'content-type': 'application/json; charset=klingon' }, body: '{}' },
  ];

  const QUERIES = [
    '?user_code=%E0%A4%A',
    '?user_code=%',
    '?user_code=a&user_code=b',
    '?user_code[$ne]=1',
    `?user_code=${'B'.repeat(8000)}`,
    '?__proto__[admin]=1&constructor=x',
    '?user_code=%00%0A%0D',
    '?sso_verified=1&user_code=%3Cscript%3E',
  ];

  const HEADERS: Record<string, string>[] = [
    {},
    { authorization: 'Basic !!!not-base64!!!' },
    { authorization: `Basic ${Buffer.from('no-colon-here').toString('base64')}` },
    { authorization: `Basic ${Buffer.from('%E0%A4%A:%ZZ').toString('base64')}` },
    { authorization: 'Bearer' },
    { authorization: 'Bearer a b c' },
    { authorization: `Bearer dgat_${'0'.repeat(49)}` },
    { authorization: `Bearer ${'x'.repeat(6000)}` },
    { authorization: 'Digest username="x"' },
    { cookie: 'devicegate_approval=garbage', 'x-csrf-token': 'nope' },
    { cookie: 'devicegate_approval=eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.', 'x-csrf-token': '' },
    { cookie: `devicegate_approval=${'a.'.repeat(3000)}; devicegate_approval=; =; ;;` },
    { 'x-forwarded-for': 'not-an-ip, 999.1.1.1', 'x-request-id': '\u00e9\u00e9' },
  ];

  interface Finding {
    request: string;
    status: number;
    body: string;
  }

  async function check(findings: Finding[], path: string, init: RequestInit, label: string): Promise<void> {
    const response = await fetch(`${testApp.baseUrl}${path}`, { redirect: 'manual', ...init });
    const text = await response.text();
    const isJson = (response.headers.get('content-type') ?? '').startsWith('application/json');
    const leaksStack = /\n\s+at .+:\d+:\d+/.test(text) || (isJson && /"stack"/.test(text));
    if (response.status >= 500 || leaksStack) {
      findings.push({ request: `${init.method ?? 'GET'} ${path.slice(0, 80)} (${label})`, status: response.status, body: text.slice(0, 200) });
    }
  }

  it('never answers a malformed body with a 5xx or a stack trace', async () => {
    const findings: Finding[] = [];
    for (const path of POST_ENDPOINTS) {
      for (const { what, headers, body } of BODIES) {
        await check(findings, path, { method: 'POST', headers, body }, what);
      }
    }
    expect(findings).toEqual([]);
  });

  it('never answers a malformed query with a 5xx or a stack trace', async () => {
    const findings: Finding[] = [];
    for (const path of [...GET_ENDPOINTS, ...POST_ENDPOINTS]) {
      for (const query of QUERIES) await check(findings, `${path}${query}`, {}, query.slice(0, 40));
    }
    expect(findings).toEqual([]);
  });

  it('never answers malformed credentials, cookies or headers with a 5xx', async () => {
    const findings: Finding[] = [];
    for (const headers of HEADERS) {
      const label = JSON.stringify(headers).slice(0, 60);
      for (const path of GET_ENDPOINTS) await check(findings, path, { headers }, label);
      for (const path of POST_ENDPOINTS) {
        await check(findings, path, { method: 'POST', headers: { ...form, ...headers }, body: 'client_id=test-cli&grant_type=x&user_code=BCDF-GHJK' }, label);
        await check(findings, path, { method: 'POST', headers: { ...json, ...headers }, body: '{"user_code":"BCDF-GHJK"}' }, label);
      }
    }
    expect(findings).toEqual([]);
  });

  it('never answers an unexpected method or path with a 5xx', async () => {
    const findings: Finding[] = [];
    for (const path of [...GET_ENDPOINTS, ...POST_ENDPOINTS, '/', '/oauth', '/oauth/device/sso/nope/login', '/%2e%2e/%2e%2e/etc/passwd', '/v1/me/../../metrics']) {
      for (const method of ['PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'POST', 'GET']) {
        await check(findings, path, { method, ...(method === 'POST' || method === 'PUT' || method === 'PATCH' ? { headers: json, body: '{}' } : {}) }, method);
      }
    }
    expect(findings).toEqual([]);
  });

  it('never answers a malformed decision with a 5xx, even with a valid sign-in and CSRF token', async () => {
    const findings: Finding[] = [];
    const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel('sweep-signed-in') });
    const cookie = await http.signIn(started.user_code, USERS.alice);
    const csrfToken = (await http.approvalContext(cookie)).body.csrf_token as string;
    for (const path of ['/oauth/device/approve', '/oauth/device/deny']) {
      for (const { what, headers, body } of BODIES) {
        await check(findings, path, { method: 'POST', headers: { ...headers, cookie, 'x-csrf-token': csrfToken }, body }, what);
      }
    }
    expect(findings).toEqual([]);
    // None of it decided anything.
    expect((await http.poll(CLIENTS.cli, started.device_code)).body.error).toBe('authorization_pending');
  });

  it('answers what it refuses in the RFC 6749 §5.2 shape', async () => {
    for (const path of POST_ENDPOINTS) {
      const reply = await http.request(path, { method: 'POST', headers: json, body: '{"client_id":' });
      expect(reply.status).toBeGreaterThanOrEqual(400);
      expect(reply.status).toBeLessThan(500);
      expect(Object.keys(reply.body).sort()).toEqual(['error', 'error_description']);
      expect(reply.body.error).toMatch(/^[a-z_]+$/);
    }
  });

  it('leaves a real flow unharmed by all of it', async () => {
    const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel('after-sweep') });
    await http.approveAs(started.user_code, USERS.alice);
    const token = await http.poll(CLIENTS.cli, started.device_code);
    expect(token.status).toBe(200);
    expect(testApp.logs.filter((line) => line.includes('"unexpected error"'))).toEqual([]);
  });
});
