import { type ChildProcess, spawn } from 'node:child_process';
import Redis from 'ioredis';
import { obtainToken, startFlow, uniqueLabel } from './support/flows';
import { DeviceGateHttp, type Reply } from './support/http';
import { CLIENTS, freePort, startTestApp, type TestApp, USERS } from './support/test-app';

/** Acceptance bound: with Redis stopped, a request that needs it answers 503 within a second (a bound, not a benchmark). */
const FAIL_FAST_MS = 1000;

/** A redis-server of this spec's own, on a port of its own, that the spec stops and starts again. */
class OwnRedis {
  private process?: ChildProcess;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.process = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      // disconnectTimeout 0: ioredis waits up to that long for a refused probe's socket to close, which it already
      // has; its timer would hold this worker open for 2 s after the last test (Jest then kills the worker).
      const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, disconnectTimeout: 0 });
      try {
        await probe.connect();
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      } finally {
        probe.disconnect();
      }
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  async stop(): Promise<void> {
    const running = this.process;
    this.process = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise((resolve) => {
      running.once('exit', resolve);
      running.kill('SIGKILL');
    });
  }

  async command(...args: string[]): Promise<unknown> {
    const client = new Redis(this.url, { maxRetriesPerRequest: 0 });
    try {
      return await client.call(args[0], ...args.slice(1));
    } finally {
      client.disconnect();
    }
  }
}

async function timed(run: () => Promise<Reply>): Promise<{ reply: Reply; ms: number }> {
  const started = performance.now();
  const reply = await run();
  return { reply, ms: performance.now() - started };
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting: ${what}`);
}

/** Invariant 5 with Redis really stopped (its process killed, not a proxy cut): fail fast, then recover. */
describe('Redis stopped', () => {
  let redis: OwnRedis;
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    testApp = await startTestApp({ env: { REDIS_URL: redis.url } });
    http = new DeviceGateHttp(testApp.baseUrl);
  }, 30_000);

  afterAll(async () => {
    await testApp?.close();
    await redis?.stop();
  });

  it('answers every request that needs Redis with 503 and Retry-After within 1 s, and recovers when Redis is back', async () => {
    const pending = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel('redis-stopped') });
    const cookie = await http.signIn(pending.user_code, USERS.alice);
    const context = await http.approvalContext(cookie);
    expect(context.status).toBe(200);

    await redis.stop();

    const needsRedis: [string, () => Promise<Reply>][] = [
      ['device authorization', () => http.deviceCode(CLIENTS.cli, { device_label: uniqueLabel('redis-stopped') })],
      ['token poll', () => http.poll(CLIENTS.cli, pending.device_code)],
      ['user-code lookup', () => http.request(`/oauth/device/lookup?user_code=${pending.user_code}`)],
      ['local sign-in', () => http.form('/oauth/device/sso/local/login', { user_code: pending.user_code, ...USERS.bob })],
      ['SSO initiate', () => http.request(`/oauth/device/sso/initiate?user_code=${pending.user_code}&connector=local`)],
      ['approval context', () => http.approvalContext(cookie)],
      ['approve', () => http.decide('approve', cookie, context.body.csrf_token, pending.user_code)],
      ['readiness', () => http.request('/readyz')],
    ];
    for (const [what, send] of needsRedis) {
      const { reply, ms } = await timed(send);
      expect({ what, status: reply.status, error: reply.body?.error }).toEqual({ what, status: 503, error: 'temporarily_unavailable' });
      expect(reply.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect({ what, withinBound: ms < FAIL_FAST_MS }).toEqual({ what, withinBound: true });
    }
    expect((await http.request('/healthz')).status).toBe(200);

    await redis.start();
    await eventually(async () => (await http.request('/readyz')).status === 200, 'readyz after Redis came back');
    const token = await obtainToken(http, { clientId: CLIENTS.fast, deviceLabel: uniqueLabel('redis-back') });
    expect((await http.me(token.access_token)).status).toBe(200);
    // The invalidation subscriber is back too, so a revocation still reaches every instance.
    await eventually(
      async () => ((await redis.command('PUBSUB', 'NUMSUB', `${testApp.redisKeyPrefix}token-invalidations`)) as [string, number])[1] === 1,
      'the token-invalidation subscriber to subscribe again',
    );
  }, 60_000);
});
