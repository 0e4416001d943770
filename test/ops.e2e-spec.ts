import { DeviceGateHttp } from './support/http';
import { startFlow, uniqueLabel } from './support/flows';
import { CLIENTS, DEVICE_GRANT, freePort, startTestApp, type TestApp, type TestConfigFile, USERS } from './support/test-app';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The request log line is written after the response went out, so it may lag the reply a little. */
async function logLine(testApp: TestApp, match: (entry: Record<string, unknown>) => boolean): Promise<Record<string, unknown> | undefined> {
  for (let tries = 0; tries < 50; tries++) {
    const found = testApp.logs.map((text) => JSON.parse(text) as Record<string, unknown>).find(match);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return undefined;
}

/** Production refuses the test config's client secrets as placeholders. */
function productionSecrets(file: TestConfigFile): void {
  for (const client of file.clients) if (client.client_secret) client.client_secret = 'Hn4tQ8wL2pZ6vB9mK3rF7jC1sD5gY0aXeU8';
}

/** Operating devicegate: discovery, health, metrics, API docs, request ids and the headers of the page. */
describe('operations', () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    testApp = await startTestApp();
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp.close());

  describe('GET /.well-known/oauth-authorization-server (RFC 8414)', () => {
    it('describes the issuer, its endpoints and what it supports', async () => {
      const reply = await http.request('/.well-known/oauth-authorization-server');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
      const issuer = testApp.baseUrl;
      expect(reply.body).toMatchObject({
        issuer,
        device_authorization_endpoint: `${issuer}/oauth/device/code`,
        token_endpoint: `${issuer}/oauth/token`,
        grant_types_supported: expect.arrayContaining([DEVICE_GRANT]),
        scopes_supported: ['profile', 'read', 'write', 'admin', 'audit:read'],
        token_endpoint_auth_methods_supported: expect.arrayContaining(['none', 'client_secret_basic', 'client_secret_post']),
      });
      // RFC 8414 §2: the issuer is an https URL (here the test's http origin) without query or fragment.
      expect(reply.body.issuer).not.toMatch(/[?#]/);
    });

    it('advertises only endpoints that answer', async () => {
      const metadata = (await http.request('/.well-known/oauth-authorization-server')).body;
      for (const [name, value] of Object.entries(metadata)) {
        if (!name.endsWith('_endpoint')) continue;
        const path = String(value).slice(testApp.baseUrl.length);
        const reply = await http.form(path, {});
        expect({ name, status: reply.status }).not.toEqual({ name, status: 404 });
        expect(reply.status).toBeLessThan(500);
      }
    });
  });

  describe('health', () => {
    it('GET /healthz answers 200 while the process runs', async () => {
      const reply = await http.request('/healthz');
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ status: 'ok' });
      expect(reply.headers.get('cache-control')).toBe('no-store');
    });

    it('GET /readyz answers 200 with Postgres and Redis up', async () => {
      const reply = await http.request('/readyz');
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ status: 'ready', postgres: 'up', redis: 'up' });
      expect(reply.headers.get('cache-control')).toBe('no-store');
    });
  });

  describe('GET /metrics', () => {
    it('speaks the Prometheus text format', async () => {
      const reply = await http.request<string>('/metrics');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(typeof reply.body).toBe('string');
      for (const name of [
        'devicegate_http_request_duration_seconds',
        'devicegate_device_authorizations_total',
        'devicegate_token_polls_total',
        'devicegate_device_decisions_total',
        'devicegate_tokens_minted_total',
        'devicegate_user_code_failures_total',
      ]) {
        expect(reply.body).toMatch(new RegExp(`^# HELP ${name} `, 'm'));
        expect(reply.body).toMatch(new RegExp(`^# TYPE ${name} (counter|histogram)$`, 'm'));
      }
      expect(reply.body).toMatch(/^process_cpu_seconds_total /m);
      for (const line of reply.body.split('\n').filter((text) => text && !text.startsWith('#'))) {
        expect(line).toMatch(/^[a-zA-Z_:][\w:]*(\{.*\})? \S+$/);
      }
    });

    it('counts what a device flow did', async () => {
      const before = {
        issued: await http.metric('devicegate_device_authorizations_total', { client_id: CLIENTS.cli }),
        pending: await http.metric('devicegate_token_polls_total', { outcome: 'pending' }),
        claimed: await http.metric('devicegate_token_polls_total', { outcome: 'claimed' }),
        approved: await http.metric('devicegate_device_decisions_total', { decision: 'approved' }),
        minted: await http.metric('devicegate_tokens_minted_total', { rotated: 'false' }),
        failures: await http.metric('devicegate_user_code_failures_total'),
        requests: await http.metric('devicegate_http_request_duration_seconds_count', {
          route: '/oauth/device/code',
          method: 'POST',
          status: '200',
        }),
      };

      const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel('ops') });
      expect((await http.poll(CLIENTS.cli, started.device_code)).body.error).toBe('authorization_pending');
      expect((await http.request('/oauth/device/lookup?user_code=BCDF-GHJK')).body).toEqual({ valid: false });
      await http.approveAs(started.user_code, USERS.alice);
      testApp.clock.advance(started.interval * 1000);
      const token = await http.poll(CLIENTS.cli, started.device_code);
      expect(token.status).toBe(200);

      expect(await http.metric('devicegate_device_authorizations_total', { client_id: CLIENTS.cli })).toBe(before.issued + 1);
      expect(await http.metric('devicegate_token_polls_total', { outcome: 'pending' })).toBe(before.pending + 1);
      expect(await http.metric('devicegate_token_polls_total', { outcome: 'claimed' })).toBe(before.claimed + 1);
      expect(await http.metric('devicegate_device_decisions_total', { decision: 'approved' })).toBe(before.approved + 1);
      expect(await http.metric('devicegate_tokens_minted_total', { rotated: 'false' })).toBe(before.minted + 1);
      expect(await http.metric('devicegate_user_code_failures_total')).toBeGreaterThanOrEqual(before.failures + 1);
      expect(
        await http.metric('devicegate_http_request_duration_seconds_count', { route: '/oauth/device/code', method: 'POST', status: '200' }),
      ).toBe(before.requests + 1);
    });

    it('labels requests by route, never by the raw path', async () => {
      await http.request('/oauth/device/lookup?user_code=SECRET-CODE');
      const text = (await http.request<string>('/metrics')).body;
      expect(text).not.toContain('SECRET-CODE');
      expect(text).toMatch(/devicegate_http_request_duration_seconds_count\{route="\/oauth\/device\/lookup",method="GET",status="200"\} \d+/);
    });
  });

  describe('API docs', () => {
    it('serves the OpenAPI UI at /docs (DOCS_ENABLED is on outside production)', async () => {
      const reply = await http.request<string>('/docs');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^text\/html/);
      expect(reply.body).toMatch(/swagger/i);
    });

    it('lists the RFC 8628 endpoints in /docs-json', async () => {
      const reply = await http.request('/docs-json');
      expect(reply.status).toBe(200);
      expect(reply.body.openapi).toMatch(/^3\./);
      expect(reply.body.info.title).toBe('devicegate');
      expect(Object.keys(reply.body.paths)).toEqual(
        expect.arrayContaining(['/oauth/device/code', '/oauth/token', '/oauth/device/lookup', '/.well-known/oauth-authorization-server']),
      );
      expect(reply.body.paths['/oauth/device/code'].post).toBeDefined();
      expect(reply.body.paths['/oauth/token'].post).toBeDefined();
      expect(Object.keys(reply.body.paths)).not.toContain('/healthz');
    });
  });

  describe('X-Request-Id', () => {
    it('is on every response: success, error, 404, HTML and metrics', async () => {
      const replies = [
        await http.request('/healthz'),
        await http.deviceCode('nobody'),
        await http.request('/no/such/path'),
        await http.request('/device'),
        await http.request('/metrics'),
        await http.poll(CLIENTS.cli, 'unknown-device-code'),
      ];
      for (const reply of replies) expect(reply.headers.get('x-request-id')).toMatch(UUID);
      expect(new Set(replies.map((reply) => reply.headers.get('x-request-id'))).size).toBe(replies.length);
    });

    it('echoes a sane incoming id and writes it to the log line of the request', async () => {
      const id = `trace-${Date.now()}.abc:def_1`;
      const reply = await http.request('/healthz', { headers: { 'x-request-id': id } });
      expect(reply.headers.get('x-request-id')).toBe(id);
      expect(await logLine(testApp, (entry) => entry.reqId === id)).toMatchObject({ msg: 'request', route: '/healthz', status: 200 });
    });

    it.each([
      ['too long', 'a'.repeat(65)],
      ['with spaces', 'has spaces in it'],
      ['with markup', '<script>alert(1)</script>'],
      ['with a quote', 'id"quote'],
      ['empty', ''],
    ])('replaces an incoming id that is %s', async (_what, id) => {
      const reply = await http.request('/healthz', { headers: { 'x-request-id': id } });
      expect(reply.headers.get('x-request-id')).toMatch(UUID);
    });
  });

  describe('GET /device', () => {
    it('forbids framing, inline script, referrers and caching', async () => {
      const reply = await http.request<string>('/device');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8/);

      const csp = reply.headers.get('content-security-policy') ?? '';
      const directives = new Map(
        csp
          .split(';')
          .map((part) => part.trim().split(/\s+/))
          .filter((parts) => parts[0])
          .map(([name, ...values]) => [name, values]),
      );
      expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
      const scriptSources = directives.get('script-src') ?? directives.get('default-src');
      expect(scriptSources).toBeDefined();
      expect(scriptSources).not.toContain("'unsafe-inline'");
      expect(scriptSources).not.toContain("'unsafe-eval'");
      expect(scriptSources).not.toContain('*');
      expect(csp).not.toContain('unsafe-inline');

      expect(reply.headers.get('x-frame-options')).toBe('DENY');
      expect(reply.headers.get('referrer-policy')).toBe('no-referrer');
      expect(reply.headers.get('cache-control')).toBe('no-store');
      expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
    });

    it('loads its script from its own origin, with no inline script or handlers', async () => {
      const html = (await http.request<string>('/device')).body;
      const scripts = html.match(/<script\b[^>]*>/g) ?? [];
      expect(scripts.length).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag).toMatch(/\ssrc="\/[^/]/);
      expect(html).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/);
      expect(html).not.toMatch(/\son[a-z]+\s*=/i);

      const script = await http.request<string>('/device/device.js');
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    });

    it('prefills a user code, escaped', async () => {
      const reply = await http.request<string>('/device?user_code=BCDF-GHJK');
      expect(reply.body).toContain('value="BCDF-GHJK"');
    });

    it.each([
      ['a script tag', '"><script>alert(1)</script>'],
      ['an attribute break', '" autofocus onfocus="alert(1)'],
      ['a single-quoted break', "' onmouseover='alert(1)"],
      ['an entity', '&lt;b&gt;&amp;'],
    ])('escapes a hostile ?user_code= (%s)', async (_what, hostile) => {
      const reply = await http.request<string>(`/device?user_code=${encodeURIComponent(hostile)}`);
      expect(reply.status).toBe(200);
      const input = /<input id="user_code"[^>]*>/.exec(reply.body)?.[0] ?? '';
      expect(input).toMatch(/^<input id="user_code" name="user_code" value="[^"<>']*" autocomplete="off"/);
      const attributes = [...input.replace(/="[^"]*"/g, '').matchAll(/\s([a-z-]+)/g)].map((match) => match[1]);
      expect(attributes).toEqual(['id', 'name', 'value', 'autocomplete', 'autocapitalize', 'required']);
      expect(reply.body).not.toContain('<script>alert');
      expect(reply.body).not.toContain('&lt;b&gt;');
    });

    it('never approves by itself, whatever the query says', async () => {
      const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel('ops-page') });
      const reply = await http.request<string>(`/device?user_code=${started.user_code}&sso_verified=1&approve=1`);
      expect(reply.status).toBe(200);
      expect((await http.poll(CLIENTS.cli, started.device_code)).body.error).toBe('authorization_pending');
    });
  });

  describe('in production', () => {
    let production: TestApp;
    let metricsPort: number;

    beforeAll(async () => {
      metricsPort = await freePort();
      production = await startTestApp({ env: { NODE_ENV: 'production', METRICS_PORT: String(metricsPort), METRICS_HOST: '127.0.0.1' }, configure: productionSecrets });
    });

    afterAll(() => production.close());

    it.each(['/metrics', '/docs', '/docs-json', '/docs-yaml'])('answers %s on the public port with a 404', async (path) => {
      const reply = await new DeviceGateHttp(production.baseUrl).request(path);
      expect(reply.status).toBe(404);
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
      expect(reply.body).toEqual({ error: 'not_found', error_description: 'No such endpoint' });
    });

    it('serves Prometheus metrics on METRICS_PORT, and nothing else there', async () => {
      await new DeviceGateHttp(production.baseUrl).request('/healthz');
      const reply = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(reply.headers.get('cache-control')).toBe('no-store');
      const text = await reply.text();
      expect(text).toMatch(/^# TYPE devicegate_token_polls_total counter$/m);
      expect(text).toMatch(/devicegate_http_request_duration_seconds_count\{route="\/healthz",method="GET",status="200"\} [1-9]/);

      for (const [method, path] of [['GET', '/'], ['GET', '/docs'], ['GET', '/healthz'], ['POST', '/metrics']]) {
        const other = await fetch(`http://127.0.0.1:${metricsPort}${path}`, { method });
        expect({ method, path, status: other.status }).toEqual({ method, path, status: 404 });
        expect(await other.json()).toEqual({ error: 'not_found', error_description: 'No such endpoint' });
      }
    });

    it('names no documentation in its metadata', async () => {
      const metadata = (await new DeviceGateHttp(production.baseUrl).request('/.well-known/oauth-authorization-server')).body;
      expect(metadata.issuer).toBe(production.baseUrl);
      expect(metadata).not.toHaveProperty('service_documentation');
    });

    it('serves /docs when DOCS_ENABLED=true, and stops the metrics listener when it closes', async () => {
      const port = await freePort();
      const documented = await startTestApp({ env: { NODE_ENV: 'production', METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1', DOCS_ENABLED: 'true' }, configure: productionSecrets });
      try {
        const docs = new DeviceGateHttp(documented.baseUrl);
        expect((await docs.request<string>('/docs')).status).toBe(200);
        const json = await docs.request('/docs-json');
        expect(json.body.openapi).toBe('3.1.0');
        expect((await docs.request('/.well-known/oauth-authorization-server')).body.service_documentation).toBe(`${documented.baseUrl}/docs`);
        expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
      } finally {
        await documented.close();
      }
      await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
    });
  });
});
