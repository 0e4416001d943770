import { DeviceGateHttp } from './support/http';
import { CLIENTS, CONFIDENTIAL_SECRET, startTestApp, type TestApp } from './support/test-app';

/** RFC 8628 §3.1–3.2: the device authorization endpoint. */
describe('POST /oauth/device/code', () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    testApp = await startTestApp();
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp.close());

  it('answers a public client with the RFC 8628 §3.2 response, uncached', async () => {
    const reply = await http.deviceCode(CLIENTS.cli, { device_label: 'ci-runner-7' });

    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.headers.get('pragma')).toBe('no-cache');
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(reply.body).sort()).toEqual(
      ['device_code', 'expires_in', 'interval', 'user_code', 'verification_uri', 'verification_uri_complete'].sort(),
    );
    expect(reply.body.device_code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(reply.body.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(reply.body.verification_uri).toBe(`${testApp.baseUrl}/device`);
    expect(reply.body.verification_uri_complete).toBe(`${testApp.baseUrl}/device?user_code=${reply.body.user_code}`);
    expect(reply.body.expires_in).toBe(600);
    expect(reply.body.interval).toBe(5);
  });

  it('accepts JSON as well as the form encoding', async () => {
    const reply = await http.json('/oauth/device/code', { client_id: CLIENTS.cli, scope: 'read' });
    expect(reply.status).toBe(200);
    expect(reply.body.user_code).toBeDefined();
  });

  it('uses the per-client lifetime and interval', async () => {
    const reply = await http.deviceCode(CLIENTS.shortLived);
    expect(reply.body.expires_in).toBe(60);
    expect(reply.body.interval).toBe(2);
  });

  it('hands out distinct codes every time', async () => {
    const replies = await Promise.all(Array.from({ length: 20 }, () => http.deviceCode(CLIENTS.cli)));
    expect(new Set(replies.map((reply) => reply.body.user_code)).size).toBe(20);
    expect(new Set(replies.map((reply) => reply.body.device_code)).size).toBe(20);
  });

  describe('client authentication', () => {
    it('refuses an unknown client with 401 invalid_client', async () => {
      const reply = await http.deviceCode('nobody');
      expect(reply.status).toBe(401);
      expect(reply.body).toEqual({ error: 'invalid_client', error_description: 'Unknown or disabled client' });
    });

    it('refuses a disabled client with 401 invalid_client', async () => {
      const reply = await http.deviceCode(CLIENTS.disabled);
      expect(reply.status).toBe(401);
      expect(reply.body.error).toBe('invalid_client');
    });

    it('refuses a client without client_id with 401 invalid_client', async () => {
      const reply = await http.form('/oauth/device/code', { scope: 'read' });
      expect(reply.status).toBe(401);
      expect(reply.body.error).toBe('invalid_client');
    });

    it('refuses a client not allowed the device grant with 400 unauthorized_client', async () => {
      const reply = await http.deviceCode(CLIENTS.noDeviceGrant);
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({
        error: 'unauthorized_client',
        error_description: 'This client may not use the device authorization grant',
      });
    });

    it('accepts a confidential client with client_secret_basic', async () => {
      const basic = Buffer.from(`${CLIENTS.confidential}:${encodeURIComponent(CONFIDENTIAL_SECRET)}`).toString('base64');
      const reply = await http.form('/oauth/device/code', {}, { authorization: `Basic ${basic}` });
      expect(reply.status).toBe(200);
    });

    it('accepts a confidential client with client_secret_post', async () => {
      const reply = await http.deviceCode(CLIENTS.confidential, { client_secret: CONFIDENTIAL_SECRET });
      expect(reply.status).toBe(200);
    });

    it('refuses a confidential client without its secret, with a Basic challenge', async () => {
      const reply = await http.deviceCode(CLIENTS.confidential);
      expect(reply.status).toBe(401);
      expect(reply.body.error).toBe('invalid_client');
      expect(reply.headers.get('www-authenticate')).toBe('Basic realm="devicegate"');
    });

    it('refuses a wrong secret', async () => {
      const reply = await http.deviceCode(CLIENTS.confidential, { client_secret: `${CONFIDENTIAL_SECRET}x` });
      expect(reply.status).toBe(401);
      expect(reply.body).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed' });
    });

    it('refuses a wrong secret sent with Basic, with the challenge', async () => {
      const basic = Buffer.from(`${CLIENTS.confidential}:wrong`).toString('base64');
      const reply = await http.form('/oauth/device/code', {}, { authorization: `Basic ${basic}` });
      expect(reply.status).toBe(401);
      expect(reply.headers.get('www-authenticate')).toBe('Basic realm="devicegate"');
    });

    it('refuses two authentication methods at once', async () => {
      const basic = Buffer.from(`${CLIENTS.confidential}:${CONFIDENTIAL_SECRET}`).toString('base64');
      const reply = await http.form(
        '/oauth/device/code',
        { client_secret: CONFIDENTIAL_SECRET },
        { authorization: `Basic ${basic}` },
      );
      expect(reply.status).toBe(400);
      expect(reply.body.error).toBe('invalid_request');
    });

    it('refuses a secret from a public client', async () => {
      const reply = await http.deviceCode(CLIENTS.cli, { client_secret: 'anything-at-all' });
      expect(reply.status).toBe(401);
      expect(reply.body.error).toBe('invalid_client');
    });
  });

  describe('scope', () => {
    it('defaults to the client default scopes', async () => {
      const started = await http.deviceCode(CLIENTS.cli);
      const lookup = await http.request(`/oauth/device/lookup?user_code=${started.body.user_code}`);
      expect(lookup.body.valid).toBe(true);
    });

    it('refuses a scope the catalog does not know with invalid_scope', async () => {
      const reply = await http.deviceCode(CLIENTS.cli, { scope: 'read nonsense' });
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({ error: 'invalid_scope', error_description: 'Scope not allowed for this client: nonsense' });
    });

    it('refuses a known scope the client is not allowed with invalid_scope', async () => {
      const reply = await http.deviceCode(CLIENTS.cli, { scope: 'admin' });
      expect(reply.status).toBe(400);
      expect(reply.body.error).toBe('invalid_scope');
    });
  });

  describe('bad input', () => {
    it('refuses a parameter sent twice (RFC 6749 §3.1)', async () => {
      const reply = await http.request('/oauth/device/code', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `client_id=${CLIENTS.cli}&scope=read&scope=write`,
      });
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({ error: 'invalid_request', error_description: 'scope must not be sent more than once' });
    });

    it('refuses a device_label that is too long or not printable', async () => {
      for (const label of ['x'.repeat(65), 'bad\u0000label', 'tab\there']) {
        const reply = await http.deviceCode(CLIENTS.cli, { device_label: label });
        expect(reply.status).toBe(400);
        expect(reply.body).toEqual({ error: 'invalid_request', error_description: 'device_label must be 1 to 64 printable characters' });
      }
    });

    it('refuses malformed JSON and other content types with invalid_request', async () => {
      const broken = await http.request('/oauth/device/code', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"client_id":',
      });
      expect(broken.status).toBe(400);
      expect(broken.body.error).toBe('invalid_request');

      const text = await http.request('/oauth/device/code', {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'client_id=test-cli',
      });
      expect(text.status).toBe(400);
      expect(text.body.error).toBe('invalid_request');
    });

    it('answers GET with an RFC-shaped error, not a stack trace', async () => {
      const reply = await http.request('/oauth/device/code');
      expect(reply.status).toBe(404);
      expect(reply.body).toEqual({ error: 'not_found', error_description: 'No such endpoint' });
    });
  });
});
