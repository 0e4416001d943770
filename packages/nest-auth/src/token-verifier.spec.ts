import { Logger } from '@nestjs/common';
import { IntrospectionError } from './introspection-client';
import { type DevicegateAuthOptions, resolveOptions } from './options';
import { closedPort, FAKE_CLIENT, FakeDevicegate } from './test-support/fake-devicegate';
import { cacheKey, DevicegateTokenVerifier } from './token-verifier';

const TOKEN = 'dgat_3kT9qLmN2pR7sV4wX8yZ1aB5cD6eF0gH2iJ4kL6mN8oP_xYz12';

describe('DevicegateTokenVerifier', () => {
  let devicegate: FakeDevicegate;
  /** A clock frozen at the start of each test, moved by offsetMs; the fake's exp and iat come from real time, an hour ahead. */
  let base: number;
  let offsetMs: number;
  const clock = () => base + offsetMs;
  let logged: string[];

  const verifier = (extra: Partial<DevicegateAuthOptions> = {}) =>
    new DevicegateTokenVerifier(
      resolveOptions({ issuer: devicegate.issuer, clientId: FAKE_CLIENT.id, clientSecret: FAKE_CLIENT.secret, ...extra }),
      clock,
    );

  beforeEach(async () => {
    devicegate = await new FakeDevicegate().start();
    base = Date.now();
    offsetMs = 0;
    logged = [];
    for (const level of ['warn', 'error'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
        logged.push(`${level}: ${String(args[0])}`);
      });
    }
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await devicegate.stop();
  });

  it('answers an active token with its introspection result, and an inactive one with null', async () => {
    devicegate.activate(TOKEN);
    const subject = verifier();
    expect(await subject.verify(TOKEN)).toMatchObject({ sub: expect.any(String), scopes: ['profile', 'read'] });
    expect(await subject.verify('unknown')).toBeNull();
  });

  it('reuses an active answer for cacheTtlSeconds, then asks again', async () => {
    devicegate.activate(TOKEN);
    const subject = verifier({ cacheTtlSeconds: 30 });
    await subject.verify(TOKEN);
    offsetMs = 29_999;
    await subject.verify(TOKEN);
    expect(devicegate.introspectionCalls(TOKEN)).toHaveLength(1);
    offsetMs = 30_000;
    await subject.verify(TOKEN);
    expect(devicegate.introspectionCalls(TOKEN)).toHaveLength(2);
  });

  it("never reuses an answer past the token's exp", async () => {
    const exp = Math.floor(base / 1000) + 10;
    devicegate.activate(TOKEN, { exp });
    const subject = verifier({ cacheTtlSeconds: 3600 });
    expect(await subject.verify(TOKEN)).not.toBeNull();
    offsetMs = exp * 1000 - base;
    // The fake (on real time) still calls it active; the cache has let it go, and the answer is past exp.
    expect(await subject.verify(TOKEN)).toBeNull();
    expect(devicegate.introspectionCalls(TOKEN)).toHaveLength(2);
  });

  it('reuses an inactive answer for negativeCacheTtlSeconds only', async () => {
    const subject = verifier({ negativeCacheTtlSeconds: 5 });
    expect(await subject.verify('unknown')).toBeNull();
    offsetMs = 4_999;
    expect(await subject.verify('unknown')).toBeNull();
    expect(devicegate.introspectionCalls('unknown')).toHaveLength(1);
    offsetMs = 5_000;
    devicegate.activate('unknown');
    expect(await subject.verify('unknown')).not.toBeNull();
    expect(devicegate.introspectionCalls('unknown')).toHaveLength(2);
  });

  it('asks every time with cacheTtlSeconds 0 (and inactive answers with negativeCacheTtlSeconds 0)', async () => {
    devicegate.activate(TOKEN);
    const subject = verifier({ cacheTtlSeconds: 0, negativeCacheTtlSeconds: 0 });
    await subject.verify(TOKEN);
    await subject.verify(TOKEN);
    await subject.verify('unknown');
    await subject.verify('unknown');
    expect(devicegate.calls).toHaveLength(4);
  });

  it('sees a revocation at once with cacheTtlSeconds 0', async () => {
    devicegate.activate(TOKEN);
    const subject = verifier({ cacheTtlSeconds: 0 });
    expect(await subject.verify(TOKEN)).not.toBeNull();
    devicegate.tokens.delete(TOKEN);
    expect(await subject.verify(TOKEN)).toBeNull();
  });

  it('shares one introspection call among concurrent checks of one token (single flight)', async () => {
    devicegate.activate(TOKEN);
    devicegate.activate('other');
    const subject = verifier();
    const results = await Promise.all([
      ...Array.from({ length: 20 }, () => subject.verify(TOKEN)),
      ...Array.from({ length: 5 }, () => subject.verify('other')),
    ]);
    expect(devicegate.introspectionCalls(TOKEN)).toHaveLength(1);
    expect(devicegate.introspectionCalls('other')).toHaveLength(1);
    expect(new Set(results.slice(0, 20)).size).toBe(1);
  });

  it('shares one failure among concurrent checks, and does not cache it', async () => {
    devicegate.override = { status: 500, body: {}, delayMs: 50 };
    const subject = verifier();
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => subject.verify(TOKEN)));
    expect(outcomes.every((outcome) => outcome.status === 'rejected' && outcome.reason instanceof IntrospectionError)).toBe(true);
    expect(devicegate.calls).toHaveLength(1);

    devicegate.override = undefined;
    devicegate.activate(TOKEN);
    expect(await subject.verify(TOKEN)).not.toBeNull();
    expect(devicegate.calls).toHaveLength(2);
  });

  it.each([
    ['devicegate is unreachable', async () => ({ issuer: `http://127.0.0.1:${await closedPort()}` }), 'unreachable'],
    ['the client secret is wrong', async () => ({ clientSecret: 'wrong' }), 'client_rejected'],
  ])('throws and caches nothing when %s', async (_name, extra, reason) => {
    devicegate.activate(TOKEN);
    const subject = verifier(await extra());
    for (let attempt = 0; attempt < 2; attempt += 1) {
      await expect(subject.verify(TOKEN)).rejects.toMatchObject({ reason });
    }
    expect((subject as unknown as { cache: { size: number } }).cache.size).toBe(0);
  });

  it('keys the cache by the SHA-256 of the token and logs without the token', async () => {
    devicegate.activate(TOKEN);
    const subject = verifier();
    await subject.verify(TOKEN);
    const keys = [...(subject as unknown as { cache: { entries: Map<string, unknown> } }).cache.entries.keys()];
    expect(keys).toEqual([cacheKey(TOKEN)]);
    expect(cacheKey(TOKEN)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cacheKey(TOKEN)).not.toContain(TOKEN.slice(5, 15));

    devicegate.override = { status: 500, body: {} };
    await expect(verifier().verify(TOKEN)).rejects.toBeInstanceOf(IntrospectionError);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^warn: token introspection at .* failed, answering 503: introspection answered HTTP 500$/);
    expect(logged.join('\n')).not.toContain(TOKEN);
  });

  it('logs a refusal of its own credentials as an error, at most once per 10 s per kind of failure', async () => {
    const subject = verifier({ clientSecret: 'wrong' });
    for (let attempt = 0; attempt < 3; attempt += 1) await expect(subject.verify(TOKEN)).rejects.toBeInstanceOf(IntrospectionError);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^error: .*refused this service's client credentials/);
    offsetMs = 10_000;
    await expect(subject.verify(TOKEN)).rejects.toBeInstanceOf(IntrospectionError);
    expect(logged).toHaveLength(2);
    expect(logged[1]).toContain('(2 more since the last report)');
  });

  it('forgets one token, and everything on clear()', async () => {
    devicegate.activate(TOKEN);
    devicegate.activate('other');
    const subject = verifier();
    await subject.verify(TOKEN);
    await subject.verify('other');
    subject.forget(TOKEN);
    await subject.verify(TOKEN);
    await subject.verify('other');
    expect([devicegate.introspectionCalls(TOKEN).length, devicegate.introspectionCalls('other').length]).toEqual([2, 1]);
    subject.clear();
    await subject.verify('other');
    expect(devicegate.introspectionCalls('other')).toHaveLength(2);
  });

  it('does not cache an answer that was in flight when the token was forgotten', async () => {
    devicegate.activate(TOKEN);
    devicegate.override = { status: 200, body: devicegate.tokens.get(TOKEN), delayMs: 50 };
    const subject = verifier();
    const pending = subject.verify(TOKEN);
    subject.forget(TOKEN);
    expect(await pending).not.toBeNull();
    await subject.verify(TOKEN);
    expect(devicegate.calls).toHaveLength(2);
  });
});
