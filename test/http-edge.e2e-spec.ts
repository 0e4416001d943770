import fc from 'fast-check';
import { createMigratedDatabase, type TestDatabase } from './support/database';
import { obtainToken, uniqueLabel } from './support/flows';
import { DeviceGateHttp, type Reply } from './support/http';
import { rawRequest } from './support/raw-http';
import { listRoutes, type RouteTemplate } from './support/routes';
import { CLIENTS, startTestApp, type TestApp } from './support/test-app';

const ADAPTERS = ['express', 'fastify'] as const;
/** Invariant 5 at the edge: no answer is ever a 5xx, and a stalled client is cut off well within this. */
const CLOSED_WITHIN_MS = 15_000;

function expectRfcError(reply: Reply, status?: number): void {
  if (status !== undefined) expect(reply.status).toBe(status);
  expect(reply.status).toBeGreaterThanOrEqual(400);
  expect(reply.status).toBeLessThan(500);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(reply.body).toEqual(expect.objectContaining({ error: expect.any(String), error_description: expect.any(String) }));
}

function deepJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

describe.each(ADAPTERS)('the HTTP edge on %s', (adapter) => {
  let database: TestDatabase;
  let testApp: TestApp;
  let http: DeviceGateHttp;
  let admin: string;
  let auditor: string;
  let routes: RouteTemplate[];

  beforeAll(async () => {
    // A database of its own: the fuzz registers clients and revokes tokens.
    database = await createMigratedDatabase();
    testApp = await startTestApp({ env: { HTTP_ADAPTER: adapter, DATABASE_URL: database.url } });
    http = new DeviceGateHttp(testApp.baseUrl);
    admin = (await obtainToken(http, { clientId: CLIENTS.admin, scope: 'admin', deviceLabel: uniqueLabel('edge-admin') })).access_token;
    auditor = (await obtainToken(http, { clientId: CLIENTS.auditor, scope: 'audit:read', deviceLabel: uniqueLabel('edge-audit') })).access_token;
    routes = listRoutes(testApp.app);
  }, 60_000);

  afterAll(async () => {
    await testApp?.close();
    await database?.drop();
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  describe('behaves the same on either adapter', () => {
    it('answers an unknown path, a trailing slash and another case with the RFC 404', async () => {
      for (const path of ['/no/such/thing', '/healthz/', '/HEALTHZ']) {
        expectRfcError(await http.request(path), 404);
        expect((await http.request(path)).body).toEqual({ error: 'not_found', error_description: 'No such endpoint' });
      }
      expect((await http.request('/healthz')).status).toBe(200);
    });

    it("keeps a sane X-Request-Id, replaces any other, and logs the request with its route template", async () => {
      const echoed = await http.request('/healthz', { headers: { 'x-request-id': 'trace-1234.abc:def' } });
      expect(echoed.headers.get('x-request-id')).toBe('trace-1234.abc:def');
      const replaced = await http.request('/healthz', { headers: { 'x-request-id': 'no spaces <allowed>' } });
      expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const missing = await http.request('/v1/organizations/acme/subjects/someone/authorizations', { method: 'DELETE' });
      expect(missing.status).toBe(401);
      const requestId = missing.headers.get('x-request-id');
      await waitFor(() => testApp.logs.some((line) => line.includes(`"reqId":"${requestId}"`) && line.includes('"msg":"request"')));
      const line = JSON.parse(testApp.logs.find((entry) => entry.includes(`"reqId":"${requestId}"`) && entry.includes('"msg":"request"')) as string);
      expect(line).toMatchObject({
        method: 'DELETE',
        route: '/v1/organizations/:org/subjects/:subject/authorizations',
        path: '/v1/organizations/acme/subjects/someone/authorizations',
        status: 401,
        ip: expect.stringMatching(/127\.0\.0\.1$/),
      });
      expect(typeof line.ms).toBe('number');
    });

    it('labels metrics by route template, and unmatched requests as unmatched', async () => {
      await http.request('/v1/organizations/acme/subjects/x/authorizations', { method: 'DELETE' });
      await http.request('/definitely/not/here');
      const labelled = { method: 'DELETE', route: '/v1/organizations/:org/subjects/:subject/authorizations', status: '401' };
      expect(await http.metric('devicegate_http_request_duration_seconds_count', labelled)).toBeGreaterThan(0);
      expect(await http.metric('devicegate_http_request_duration_seconds_count', { route: 'unmatched', status: '404' })).toBeGreaterThan(0);
    });

    it('reads forms and JSON up to 64 KiB and refuses a larger body with 413', async () => {
      const padding = 'p'.repeat(60 * 1024);
      const form = await http.deviceCode('no-such-client', { device_label: padding });
      expect(form.status).not.toBe(413);
      expectRfcError(form);
      const json = await http.json('/oauth/device/code', { client_id: 'no-such-client', padding });
      expect(json.status).not.toBe(413);
      expectRfcError(json);
      const tooLarge = 'p'.repeat(64 * 1024 + 1);
      const body = { error: 'invalid_request', error_description: 'The request body is larger than 64 KiB' };
      for (const reply of [
        await http.deviceCode(CLIENTS.cli, { device_label: tooLarge }),
        await http.json('/oauth/device/code', { client_id: CLIENTS.cli, device_label: tooLarge }),
      ]) {
        expectRfcError(reply, 413);
        expect(reply.body).toEqual(body);
      }
    });

    it('refuses unreadable JSON, other media types and a repeated form parameter with invalid_request', async () => {
      const broken = await http.request('/oauth/device/code', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"client_id":' });
      expectRfcError(broken, 400);
      expect(broken.body.error).toBe('invalid_request');
      const xml = await http.request('/oauth/device/code', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' });
      expect(xml.body).toEqual({ error: 'invalid_request', error_description: 'Send application/x-www-form-urlencoded or application/json' });
      const text = await http.request('/oauth/device/code', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'client_id=x' });
      expect(text.body).toEqual({ error: 'invalid_request', error_description: 'Send the parameters as application/x-www-form-urlencoded or a JSON object' });
      const twice = await http.request('/oauth/device/code', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `client_id=${CLIENTS.cli}&client_id=${CLIENTS.cli}`,
      });
      expect(twice.body).toEqual({ error: 'invalid_request', error_description: 'client_id must not be sent more than once' });
    });

    it('serves /docs and its OpenAPI document', async () => {
      const page = await http.request<string>('/docs');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const document = await http.request('/docs-json');
      expect(document.body.paths['/oauth/token']).toBeDefined();
    });

    it('keeps the Content-Type a route sets for its text', async () => {
      expect((await http.request('/metrics')).headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect((await http.request('/device')).headers.get('content-type')).toBe('text/html; charset=utf-8');
    });
  });

  describe('hostile input', () => {
    it('never echoes control or non-Latin-1 characters of the path into WWW-Authenticate', async () => {
      const reply = await http.request('/v1/organizations/%01ev%0Dil%E2%98%83%22/subjects/x/authorizations', { method: 'DELETE', headers: bearer(admin) });
      expectRfcError(reply, 403);
      expect(reply.body.error).toBe('insufficient_scope');
      const challenge = reply.headers.get('www-authenticate') as string;
      expect(challenge).toMatch(/^Bearer realm="devicegate", error="insufficient_scope", error_description="[\x20\x21\x23-\x5b\x5d-\x7e]*"$/);
      expect(challenge).toContain('?ev?il??');
    });

    it('answers a NUL that reaches Postgres (a path parameter, an audit filter) with 400', async () => {
      const unstorable = { error: 'invalid_request', error_description: 'The request contains characters that cannot be stored' };
      for (const path of ['/v1/admin/subjects/%00/authorizations', '/v1/admin/subjects/a%00b@example.com/authorizations']) {
        const reply = await http.request(path, { method: 'DELETE', headers: bearer(admin) });
        expectRfcError(reply, 400);
        expect(reply.body).toEqual(unstorable);
      }
      for (const path of ['/v1/audit/events?subject=%00', '/v1/audit/events?subject=a%00b%40example.com', '/v1/audit/events/export?subject=%00']) {
        const reply = await http.request(path, { headers: bearer(auditor) });
        expectRfcError(reply, 400);
      }
      const body = await http.json('/v1/admin/clients', { client_id: 'nul\u0000client', name: 'x', type: 'public', scopes: ['profile'] }, bearer(admin));
      expectRfcError(body, 400);
    });

    it('refuses JSON nested 5,000 deep with 400 before validation', async () => {
      const reply = await http.request('/v1/admin/clients', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(admin) },
        body: deepJson(5000),
      });
      expectRfcError(reply, 400);
      expect(reply.body).toEqual({ error: 'invalid_request', error_description: 'The request body is nested deeper than 32 levels' });
      const shallow = await http.request('/oauth/device/code', { method: 'POST', headers: { 'content-type': 'application/json' }, body: deepJson(20) });
      expect(shallow.body.error_description).not.toMatch(/nested/);
    });

    it.each([
      ['a control byte in the request target', 'GET /\x01bad HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['a NUL in a header', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Evil: a\x00b\r\n\r\n', 400],
      ['Transfer-Encoding with Content-Length', 'POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
      ['headers over 16 KiB', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431],
      ['not HTTP at all', 'HELLO\r\n\r\n', 400],
    ])('answers %s with an RFC 6749 JSON error', async (_what, bytes, status) => {
      const exchange = await rawRequest(testApp.baseUrl, bytes);
      expect(exchange.status).toBe(status);
      expect(exchange.body).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    });

    it('answers a path parameter with a bad %-escape with 400 invalid_request', async () => {
      const reply = await http.request('/oauth/device/sso/oidc/%zz/callback?code=x&state=y');
      expectRfcError(reply, 400);
      expect(reply.body.error).toBe('invalid_request');
      const page = await http.request<string>('/oauth/device/sso/oidc/%zz/callback?code=x&state=y', { headers: { accept: 'text/html' } });
      expect(page.status).toBe(400);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.body).toContain('<!doctype html>');
    });

    it.each([
      ['a bad %-escape in a path parameter', 'GET /oauth/device/sso/oidc/%zz/callback HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ['a bad %-escape in the path', 'GET /%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ['a 1,000-character path segment', `DELETE /v1/organizations/${'o'.repeat(1000)}/subjects/x/authorizations HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
      ['no Host header', 'GET /healthz HTTP/1.1\r\nX-Request-Id: no-host\r\nConnection: close\r\n\r\n'],
      ['Expect: other', 'POST /oauth/token HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'],
    ])('answers %s below 500, as JSON', async (_what, bytes) => {
      const exchange = await rawRequest(testApp.baseUrl, bytes);
      expect(exchange.status).toBeLessThan(500);
      if ((exchange.status as number) >= 400) expect(exchange.body).toEqual(expect.objectContaining({ error: expect.any(String), error_description: expect.any(String) }));
    });

    it('cuts off a body shorter than its Content-Length, an endless chunk and unfinished headers within 15 s', async () => {
      const [shortBody, hugeChunk, unfinishedHeaders, trickle] = await Promise.all([
        rawRequest(testApp.baseUrl, 'POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n0123456789', { waitMs: 30_000 }),
        rawRequest(testApp.baseUrl, 'POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n{"a":', { waitMs: 30_000 }),
        rawRequest(testApp.baseUrl, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ', { waitMs: 30_000 }),
        rawRequest(testApp.baseUrl, 'POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{', { waitMs: 30_000, then: '"', pauseMs: 3_000 }),
      ]);
      for (const exchange of [shortBody, hugeChunk, unfinishedHeaders, trickle]) {
        expect(exchange.closedAfterMs).toBeDefined();
        expect(exchange.closedAfterMs).toBeLessThan(CLOSED_WITHIN_MS);
        if (exchange.status !== undefined) expect(exchange.status).toBeLessThan(500);
      }
      expect(shortBody.status).toBe(408);
      expect(shortBody.body).toEqual({ error: 'invalid_request', error_description: 'The request was not received in time' });
    }, 40_000);
  });

  it('answers every route, with random methods, paths, queries, headers and bodies, below 500 and with RFC 6749 errors', async () => {
    const hostileSegment = fc.constantFrom('%00', '%01', '%zz', '%E2%98%83', '%0D%0A', '..', 'o'.repeat(300), '%', '%C0%AF', '%22%5C', 'a%00b');
    const segment = fc.oneof({ arbitrary: hostileSegment, weight: 2 }, fc.string({ maxLength: 40 }).map(encodeURIComponent), fc.constantFrom('acme', 'local', CLIENTS.cli));
    const text = fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('\u0000', 'a\u0000b', '\u2603', '"\\', 'x'.repeat(2000)));
    const query = fc.dictionary(fc.constantFrom('user_code', 'subject', 'type', 'client', 'since', 'until', 'cursor', 'limit', 'connector', 'organization', 'x'), text, { maxKeys: 4 });
    const headerText = fc.stringMatching(/^[\x20-\x7e]{0,80}$/);
    const authorization = fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 1 },
      { arbitrary: fc.constantFrom(`Bearer ${admin}`, `Bearer ${auditor}`), weight: 3 },
      { arbitrary: fc.constantFrom('Bearer', 'Bearer dg_at_nope', 'Basic !!!', 'Basic dGVzdC1jbGk6', `Bearer ${admin}, Bearer x`), weight: 1 },
      { arbitrary: headerText, weight: 1 },
    );
    const body = fc.oneof(
      fc.constant<{ type?: string; data?: string }>({}),
      fc.jsonValue({ maxDepth: 4 }).map((value) => ({ type: 'application/json', data: JSON.stringify(value) ?? 'null' })),
      fc.dictionary(fc.string({ maxLength: 12 }), text, { maxKeys: 5 }).map((value) => ({ type: 'application/x-www-form-urlencoded', data: new URLSearchParams(value).toString() })),
      fc.constantFrom(
        { type: 'application/json', data: deepJson(5000) },
        { type: 'application/json', data: '{"client_id":' },
        { type: 'application/json', data: '{"__proto__":{"x":1}}' },
        { type: 'application/json', data: `{"client_id":"${'x'.repeat(70_000)}"}` },
        { type: 'application/x-www-form-urlencoded', data: 'a=%zz&b=%00&client_id=test-cli&client_id=x' },
        { type: 'text/xml', data: '<x/>' },
        { type: 'application/json; charset=latin9', data: '{}' },
        { type: undefined, data: 'no content type' },
      ),
      fc.record({ type: fc.option(headerText, { nil: undefined }), data: fc.string({ maxLength: 200 }) }),
    );
    const request = fc.record({
      route: fc.constantFrom(...routes),
      otherMethod: fc.option(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'), { nil: undefined, freq: 3 }),
      segments: fc.array(segment, { minLength: 3, maxLength: 3 }),
      query,
      authorization,
      accept: fc.constantFrom(undefined, 'application/json', 'text/html', '*/*'),
      cookie: fc.option(headerText, { nil: undefined }),
      forwardedFor: fc.option(headerText, { nil: undefined }),
      requestId: fc.option(headerText, { nil: undefined }),
      body,
    });

    type Input = typeof request extends fc.Arbitrary<infer T> ? T : never;
    const route = (method: string, path: string) => routes.find((candidate) => candidate.method === method && candidate.path === path) as RouteTemplate;
    const example = (input: Partial<Input>): [Input] => [
      { route: routes[0], segments: ['x', 'x', 'x'], query: {}, body: {}, ...input } as Input,
    ];
    // The findings of an earlier outside fuzz, always tried first.
    const examples = [
      example({ route: route('DELETE', '/v1/organizations/:org/subjects/:subject/authorizations'), segments: ['%01ev%0Dil%E2%98%83', 'x', 'x'], authorization: `Bearer ${admin}` }),
      example({ route: route('DELETE', '/v1/admin/subjects/:subject/authorizations'), segments: ['%00', '%00', '%00'], authorization: `Bearer ${admin}` }),
      example({ route: route('GET', '/v1/audit/events'), query: { subject: '\u0000' }, authorization: `Bearer ${auditor}` }),
      example({ route: route('GET', '/v1/audit/events/export'), query: { subject: 'a\u0000b' }, authorization: `Bearer ${auditor}` }),
      example({ route: route('POST', '/v1/admin/clients'), body: { type: 'application/json', data: deepJson(5000) }, authorization: `Bearer ${admin}` }),
      example({ route: route('POST', '/oauth/token'), body: { type: 'application/x-www-form-urlencoded', data: 'grant_type=%zz&client_id=%00' } }),
      example({ route: route('GET', '/oauth/device/sso/oidc/:connector/callback'), segments: ['%zz', 'x', 'x'], accept: 'text/html' }),
    ];
    expect(examples.every(([input]) => input.route !== undefined)).toBe(true);

    await fc.assert(
      fc.asyncProperty(request, async (input) => {
        const method = input.otherMethod ?? input.route.method;
        let index = 0;
        const path = input.route.path.replace(/:\w+/g, () => input.segments[index++ % input.segments.length]);
        const search = Object.entries(input.query).map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
        const headers: Record<string, string> = {};
        if (input.authorization !== undefined) headers.authorization = input.authorization;
        if (input.accept !== undefined) headers.accept = input.accept;
        if (input.cookie !== undefined) headers.cookie = input.cookie;
        if (input.forwardedFor !== undefined) headers['x-forwarded-for'] = input.forwardedFor;
        if (input.requestId !== undefined) headers['x-request-id'] = input.requestId;
        const sendsBody = method !== 'GET' && method !== 'HEAD' && input.body.data !== undefined;
        if (sendsBody && input.body.type !== undefined) headers['content-type'] = input.body.type;
        const reply = await http.request(`${path}${search ? `?${search}` : ''}`, { method, headers, body: sendsBody ? input.body.data : undefined });
        if (reply.status >= 500) throw new Error(`${method} ${path}?${search} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
        if (reply.status >= 400 && method !== 'HEAD') {
          // The console is pages only: its errors are pages whatever the Accept header says.
          const pageWanted = input.accept === 'text/html' || input.route.path.startsWith('/console');
          const page = /^text\/html/.test(reply.headers.get('content-type') ?? '') && pageWanted;
          if (!page) expectRfcError(reply);
        }
      }),
      { seed: adapter === 'express' ? 20261205 : 20261206, numRuns: 300, interruptAfterTimeLimit: 90_000, endOnFailure: true, examples },
    );
  }, 120_000);
});

async function waitFor(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
