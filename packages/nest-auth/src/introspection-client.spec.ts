import { IntrospectionClient, IntrospectionError } from './introspection-client';
import { resolveOptions } from './options';
import { closedPort, FAKE_CLIENT, FakeDevicegate } from './test-support/fake-devicegate';

const TOKEN = 'dgat_3kT9qLmN2pR7sV4wX8yZ1aB5cD6eF0gH2iJ4kL6mN8oP_xYz12';

describe('IntrospectionClient (RFC 7662)', () => {
  let devicegate: FakeDevicegate;

  const client = (extra: Partial<Parameters<typeof resolveOptions>[0]> = {}) =>
    new IntrospectionClient(
      resolveOptions({ issuer: devicegate.issuer, clientId: FAKE_CLIENT.id, clientSecret: FAKE_CLIENT.secret, ...extra }),
    );

  async function failure(promise: Promise<unknown>): Promise<IntrospectionError> {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(IntrospectionError);
    expect((error as Error).message).not.toContain(TOKEN);
    return error as IntrospectionError;
  }

  beforeEach(async () => {
    devicegate = await new FakeDevicegate().start();
  });

  afterEach(() => devicegate.stop());

  it('posts the token form-encoded with the access_token hint, authenticated with client_secret_basic', async () => {
    devicegate.activate(TOKEN);
    await client().introspect(TOKEN);
    expect(devicegate.calls).toHaveLength(1);
    const [call] = devicegate.calls;
    expect({ method: call.method, path: call.path, contentType: call.headers['content-type'], accept: call.headers.accept }).toEqual({
      method: 'POST',
      path: '/oauth/introspect',
      contentType: 'application/x-www-form-urlencoded',
      accept: 'application/json',
    });
    expect(Object.fromEntries(call.params)).toEqual({ token: TOKEN, token_type_hint: 'access_token' });
    const [scheme, encoded] = (call.headers.authorization ?? '').split(' ');
    expect(scheme).toBe('Basic');
    const [id, secret] = Buffer.from(encoded, 'base64').toString('utf8').split(':');
    expect([decodeURIComponent(id), decodeURIComponent(secret)]).toEqual([FAKE_CLIENT.id, FAKE_CLIENT.secret]);
  });

  it('maps an active answer to the typed token, keeping only what the answer holds', async () => {
    const answer = devicegate.activate(TOKEN, { org: 'acme', device_label: 'ci-runner-7' });
    expect(await client().introspect(TOKEN)).toEqual({
      active: true,
      token: {
        sub: answer.sub,
        email: 'alice@example.com',
        org: 'acme',
        scopes: ['profile', 'read'],
        clientId: 'test-cli',
        deviceLabel: 'ci-runner-7',
        exp: answer.exp,
        iat: answer.iat,
      },
    });

    const bare = devicegate.activate('bare', { email: undefined, scope: undefined, iss: undefined, token_type: undefined });
    expect(await client().introspect('bare')).toEqual({
      active: true,
      token: { sub: bare.sub, scopes: [], clientId: 'test-cli', exp: bare.exp, iat: bare.iat },
    });
  });

  it('answers inactive for {"active": false}', async () => {
    expect(await client().introspect('unknown')).toEqual({ active: false });
  });

  it('answers inactive for an answer already past exp, or for another token type than Bearer', async () => {
    devicegate.activate('expired', { exp: Math.floor(Date.now() / 1000) - 1 });
    devicegate.activate('refresh', { token_type: 'refresh_token' });
    expect(await client().introspect('expired')).toEqual({ active: false });
    expect(await client().introspect('refresh')).toEqual({ active: false });
  });

  it('accepts an issuer written with a trailing slash on either side', async () => {
    devicegate.activate(TOKEN, { iss: `${devicegate.issuer}/` });
    expect((await client().introspect(TOKEN)).active).toBe(true);
    expect((await client({ issuer: `${devicegate.issuer}/` }).introspect(TOKEN)).active).toBe(true);
  });

  it('fails on an active answer for another issuer (a misconfiguration, not an inactive token)', async () => {
    devicegate.activate(TOKEN, { iss: 'https://elsewhere.example' });
    expect((await failure(client().introspect(TOKEN))).reason).toBe('issuer_mismatch');
  });

  it('introspects at introspectionEndpoint when given, still expecting the issuer', async () => {
    devicegate.activate(TOKEN, { iss: 'https://auth.example.com' });
    const other = client({ issuer: 'https://auth.example.com', introspectionEndpoint: `${devicegate.issuer}/oauth/introspect` });
    expect((await other.introspect(TOKEN)).active).toBe(true);
  });

  it('fails with client_rejected when devicegate refuses the client credentials (401)', async () => {
    const error = await failure(client({ clientSecret: 'wrong' }).introspect(TOKEN));
    expect(error.reason).toBe('client_rejected');
    expect(error.message).not.toContain('wrong');
  });

  it.each([
    ['a 5xx', { status: 503, body: { error: 'temporarily_unavailable' } }, 'bad_status'],
    ['a 400', { status: 400, body: { error: 'invalid_request' } }, 'bad_status'],
    ['a redirect (not followed)', { status: 302, body: '', headers: { location: 'http://127.0.0.1:9/steal' } }, 'bad_status'],
    ['a body that is not JSON', { status: 200, body: '<html>' }, 'bad_response'],
    ['a JSON array', { status: 200, body: [] }, 'bad_response'],
    ['no boolean active', { status: 200, body: { active: 'true' } }, 'bad_response'],
    ['an active answer without sub', { status: 200, body: { active: true, client_id: 'c', exp: 2e9, iat: 1 } }, 'bad_response'],
    ['an active answer without exp', { status: 200, body: { active: true, sub: 's', client_id: 'c', iat: 1 } }, 'bad_response'],
    ['a scope that is not a string', { status: 200, body: { active: true, sub: 's', client_id: 'c', exp: 2e9, iat: 1, scope: ['read'] } }, 'bad_response'],
  ])('fails on %s', async (_name, answer, reason) => {
    devicegate.override = answer;
    expect((await failure(client().introspect(TOKEN))).reason).toBe(reason);
  });

  it('fails with timeout when devicegate is slower than timeoutMs', async () => {
    devicegate.override = { status: 200, body: { active: false }, delayMs: 1000 };
    const started = Date.now();
    expect((await failure(client({ timeoutMs: 100 }).introspect(TOKEN))).reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('fails with unreachable when nothing listens', async () => {
    const port = await closedPort();
    expect((await failure(client({ issuer: `http://127.0.0.1:${port}` }).introspect(TOKEN))).reason).toBe('unreachable');
  });

  it('uses the fetch it is given', async () => {
    const fetchSpy = jest.fn((input: string | URL | Request, init?: RequestInit) => fetch(input, init));
    devicegate.activate(TOKEN);
    await client({ fetch: fetchSpy as typeof fetch }).introspect(TOKEN);
    expect(fetchSpy).toHaveBeenCalledTimes(1);
    expect(fetchSpy.mock.calls[0][0]).toBe(`${devicegate.issuer}/oauth/introspect`);
  });
});
