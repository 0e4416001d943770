import { randomUUID } from 'node:crypto';
import { sha256 } from '../src/common/crypto';
import { shardTagOf, slotOf } from '../src/redis/cluster-shards';
import { obtainToken, retryAfterSeconds, startFlow, type StartedFlow, uniqueLabel } from './support/flows';
import { DeviceGateHttp, type Reply } from './support/http';
import { type RedisCluster, startRedisCluster, waitFor } from './support/redis-servers';
import { describeStoreContracts } from './support/store-contracts';
import { CLIENTS, startTestApp, type TestApp, USERS } from './support/test-app';

/** A dependency outage may cost a 503 (with Retry-After); nothing else but the protocol's own answers. */
function expectNoServerError(replies: Reply[]): void {
  expect([...new Set(replies.map((reply) => reply.status))].filter((status) => ![200, 400, 503].includes(status))).toEqual([]);
  for (const reply of replies.filter((each) => each.status === 503)) retryAfterSeconds(reply);
}

describe('on a Redis Cluster of three masters with a replica each', () => {
  let cluster: RedisCluster;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 1 });
  }, 60_000);

  afterAll(() => cluster?.stop());

  describe('the store contracts', () => describeStoreContracts(() => cluster.url, { memoryTwins: false }));

  describe('two instances', () => {
    let first: TestApp;
    let second: TestApp;
    let one: DeviceGateHttp;
    let two: DeviceGateHttp;

    beforeAll(async () => {
      // A long local cache: only the announcement can make the other instance forget a revoked token in time.
      const env = { REDIS_URL: cluster.url, REDIS_KEY_PREFIX: `devicegate-test:${randomUUID()}:`, TOKEN_CACHE_TTL: '60s' };
      [first, second] = await Promise.all([startTestApp({ env }), startTestApp({ env })]);
      one = new DeviceGateHttp(first.baseUrl);
      two = new DeviceGateHttp(second.baseUrl);
    });

    afterAll(() => Promise.all([first?.close(), second?.close()]));

    /** The master serving the slot of a device code's flow (and of its shard's audit outbox stream). */
    async function masterOf(deviceCode: string) {
      const slot = slotOf(shardTagOf(sha256(deviceCode)).slice(1, -1));
      const masters = await cluster.masters();
      return masters.find((entry) => entry.slots.some(([from, to]) => slot >= from && slot <= to)) as (typeof masters)[number];
    }

    /** Approves, trying again while the cluster answers 503. */
    async function approve(http: DeviceGateHttp, flow: StartedFlow): Promise<void> {
      await waitFor(async () => Boolean(await http.approveAs(flow.user_code, USERS.alice)), `approval of ${flow.user_code}`);
    }

    it('runs a device login on one instance, and the token works on both', async () => {
      const started = await startFlow(one, CLIENTS.fast, { device_label: uniqueLabel('cluster') });
      await one.approveAs(started.user_code, USERS.alice);
      const token = await two.poll(CLIENTS.fast, started.device_code);
      expect(token.status).toBe(200);
      expect((await one.me(token.body.access_token)).body).toMatchObject({ email: USERS.alice.email });
      expect((await two.me(token.body.access_token)).status).toBe(200);
      // The issued events came through the sharded outbox.
      await waitFor(async () => (await one.metric('devicegate_audit_outbox_drained_total')) + (await two.metric('devicegate_audit_outbox_drained_total')) >= 1, 'drained');
    });

    it('counts the device-code limits (in their own slots, before the flow), a refused request as well', async () => {
      const limited = await startTestApp({
        env: { REDIS_URL: cluster.url, REDIS_KEY_PREFIX: `devicegate-test:${randomUUID()}:`, RATE_LIMIT_DEVICE_CODE_PER_IP: '2/1m' },
      });
      try {
        const http = new DeviceGateHttp(limited.baseUrl);
        expect((await http.deviceCode(CLIENTS.fast)).status).toBe(200);
        expect((await http.deviceCode('no-such-client')).status).toBe(401);
        const refused = await http.deviceCode(CLIENTS.fast);
        expect(refused.status).toBe(429);
        retryAfterSeconds(refused);
      } finally {
        await limited.close();
      }
    });

    it('fails a master over while devices poll: no answer but 200, 400 or 503, no flow delivered twice', async () => {
      const flows = await Promise.all(Array.from({ length: 6 }, () => startFlow(one, CLIENTS.fast, { device_label: uniqueLabel('failover') })));
      const approvedBefore = flows.slice(0, 3);
      for (const flow of approvedBefore) await one.approveAs(flow.user_code, USERS.alice);
      const { master, replicas } = await masterOf(flows[0].device_code);

      const replies: Reply[] = [];
      const delivered = new Map<string, number>();
      let polling = true;
      const pollers = flows.map(async (flow, index) => {
        for (let round = 0; polling; round++) {
          const reply = await (round % 2 === index % 2 ? one : two).poll(CLIENTS.fast, flow.device_code);
          replies.push(reply);
          if (reply.status === 200) delivered.set(flow.device_code, (delivered.get(flow.device_code) ?? 0) + 1);
          await new Promise((resolve) => setTimeout(resolve, 1100));
        }
      });

      await new Promise((resolve) => setTimeout(resolve, 1500));
      const promoted = replicas[0].connect();
      try {
        expect(await promoted.cluster('FAILOVER')).toBe('OK');
        await waitFor(async () => (await promoted.role())[0] === 'master', 'the replica promoted');
      } finally {
        promoted.disconnect();
      }
      for (const flow of flows.slice(3)) await approve(two, flow);
      await waitFor(async () => flows.every((flow) => delivered.has(flow.device_code)), 'every flow delivered', 30_000);
      // A few more polls of every delivered code: each must hear the code was used.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      polling = false;
      await Promise.all(pollers);

      expect((await cluster.masters()).map((entry) => entry.master.port)).not.toContain(master.port);
      expectNoServerError(replies);
      expect([...delivered.values()]).toEqual(flows.map(() => 1));
    });

    /** The live nodes that hold a pub/sub connection (the instances' invalidation subscribers). */
    async function subscriberNodes() {
      const holding = await Promise.all(
        cluster.nodes.map(async (node) => {
          const connection = node.connect();
          connection.on('error', () => undefined);
          try {
            const clients = String(await connection.call('CLIENT', 'LIST', 'TYPE', 'pubsub')).trim();
            return clients ? clients.split('\n').length : 0;
          } catch {
            return 0;
          } finally {
            connection.disconnect();
          }
        }),
      );
      return cluster.nodes.flatMap((node, index) => Array(holding[index]).fill(node));
    }

    it('after the node an invalidation subscriber listened on dies, a revocation through one instance still reaches the other', async () => {
      const [listenedOn] = await subscriberNodes();
      await listenedOn.kill();
      await waitFor(async () => (await subscriberNodes()).length === 2, 'both subscribers on live nodes');
      await waitFor(async () => (await one.request('/readyz')).status === 200 && (await two.request('/readyz')).status === 200, 'ready');

      const { access_token: token } = await obtainToken(one, { clientId: CLIENTS.fast, deviceLabel: uniqueLabel('after-failover') });
      expect((await two.me(token)).status).toBe(200);
      const revoked = await one.request('/v1/oauth/authorizations/self', { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      expect(revoked.status).toBe(204);
      // A Cluster forwards the announcement to the other nodes after it answered the PUBLISH: moments later, well inside
      // the 60 s local cache that only the announcement can cut short.
      await waitFor(async () => (await two.me(token)).status === 401, 'the other instance refusing the revoked token', 10_000);
    });

    it('is not ready while a master is down with no replica to take its slots, and answers 503, never 500', async () => {
      const orphaned = (await cluster.masters()).find((entry) => entry.replicas.length > 0) ?? (await cluster.masters())[0];
      for (const replica of orphaned.replicas) await replica.kill();
      await orphaned.master.kill();
      const authorize = () => Promise.all(Array.from({ length: 12 }, (_, n) => (n % 2 ? one : two).deviceCode(CLIENTS.fast)));
      // Before the cluster has noticed (the master's slots still point at it), then after.
      expectNoServerError(await authorize());
      await waitFor(async () => (await cluster.state()) === 'fail', 'cluster_state:fail');

      for (const http of [one, two]) {
        const readyz = await http.request('/readyz');
        expect(readyz.status).toBe(503);
        expect(readyz.body.error_description).toBe('Not ready: redis cluster has lost slots (cluster_state:fail)');
        retryAfterSeconds(readyz);
      }
      expectNoServerError(await authorize());
    });
  });
});
