import { randomUUID } from 'node:crypto';
import { obtainToken, retryAfterSeconds, startFlow, uniqueLabel } from './support/flows';
import { DeviceGateHttp, type Reply } from './support/http';
import { type RedisNode, type RedisSentinels, startRedisSentinels, waitFor } from './support/redis-servers';
import { CLIENTS, startTestApp, type TestApp, USERS } from './support/test-app';

/** Pub/sub connections of the instances on a node (the sentinels' own are named). */
async function invalidationSubscribers(node: RedisNode): Promise<number> {
  const connection = node.connect();
  try {
    const clients = String(await connection.call('CLIENT', 'LIST', 'TYPE', 'pubsub')).split('\n');
    return clients.filter((client) => /\bname= /.test(client)).length;
  } finally {
    connection.disconnect();
  }
}

describe('on Redis Sentinel: a master, a replica and three sentinels', () => {
  let redis: RedisSentinels;
  let first: TestApp;
  let second: TestApp;
  let one: DeviceGateHttp;
  let two: DeviceGateHttp;

  beforeAll(async () => {
    redis = await startRedisSentinels();
    const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: `devicegate-test:${randomUUID()}:`, TOKEN_CACHE_TTL: '60s' };
    [first, second] = await Promise.all([startTestApp({ env }), startTestApp({ env })]);
    one = new DeviceGateHttp(first.baseUrl);
    two = new DeviceGateHttp(second.baseUrl);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
    await redis?.stop();
  });

  it('runs a device login through the master the sentinels name, and the token works on both instances', async () => {
    const { access_token: token } = await obtainToken(one, { clientId: CLIENTS.fast, deviceLabel: uniqueLabel('sentinel') });
    expect((await two.me(token)).body).toMatchObject({ email: USERS.alice.email });
    expect(await one.request('/readyz')).toMatchObject({ status: 200, body: { status: 'ready', redis: 'up' } });
  });

  it('when the master dies: 503 with Retry-After and not ready until the replica is promoted, then both instances go on', async () => {
    // A flow approved before the master dies, and replicated: the promoted replica delivers it.
    const approved = await startFlow(one, CLIENTS.fast, { device_label: uniqueLabel('before') });
    await one.approveAs(approved.user_code, USERS.alice);
    const master = redis.master.connect();
    try {
      await master.set('replicated-up-to-here', '1');
      expect(await master.wait(1, 5000)).toBe(1);
    } finally {
      master.disconnect();
    }
    await redis.master.kill();

    const answers: Reply[] = [];
    const readiness: Reply[] = [];
    await waitFor(
      async () => {
        const [code, readyOne, readyTwo] = await Promise.all([
          one.deviceCode(CLIENTS.fast),
          one.request('/readyz'),
          two.request('/readyz'),
        ]);
        answers.push(code);
        readiness.push(readyOne, readyTwo);
        return readyOne.status === 200 && readyTwo.status === 200;
      },
      'both instances ready again',
      30_000,
    );
    expect(await redis.masterPort()).toBe(redis.replica.port);

    const outage = answers.filter((reply) => reply.status !== 200);
    expect(outage.length).toBeGreaterThan(0);
    for (const reply of outage) {
      expect(reply.status).toBe(503);
      expect(reply.body.error).toBe('temporarily_unavailable');
      retryAfterSeconds(reply);
    }
    const notReady = readiness.filter((reply) => reply.status !== 200);
    expect(notReady.length).toBeGreaterThan(0);
    for (const reply of notReady) {
      expect(reply.status).toBe(503);
      expect(reply.body.error_description).toMatch(/^Not ready: redis /);
    }

    // Each instance's invalidation subscriber reconnects on its own schedule; until then its local cache bounds a revocation.
    await waitFor(async () => (await invalidationSubscribers(redis.replica)) === 2, 'both invalidation subscribers on the new master');

    expect((await two.poll(CLIENTS.fast, approved.device_code)).status).toBe(200);
    const { access_token: token } = await obtainToken(two, { clientId: CLIENTS.fast, deviceLabel: uniqueLabel('after') });
    expect((await one.me(token)).status).toBe(200);
    const revoked = await two.request('/v1/oauth/authorizations/self', { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(revoked.status).toBe(204);
    expect((await one.me(token)).status).toBe(401);
  });
});
