import { randomUUID } from 'node:crypto';
import { type ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import type { Decision, DeviceFlow, DeviceFlowStore } from '../../src/device-flow/device-flow.store';
import type { AuditOutboxStore } from '../../src/audit/audit-outbox.store';
import { MemoryAuditOutboxStore } from '../../src/audit/memory-audit-outbox.store';
import { RedisAuditOutboxStore } from '../../src/audit/redis-audit-outbox.store';
import { MemoryDeviceFlowStore } from '../../src/device-flow/memory-device-flow.store';
import { RedisDeviceFlowStore } from '../../src/device-flow/redis-device-flow.store';
import { MemoryCounterStore, MemoryOnceStore, MemoryValueStore } from '../../src/redis/memory-once.store';
import type { CounterStore, OnceStore, ValueStore } from '../../src/redis/once.store';
import { createRedisConnection, type RedisConnection } from '../../src/redis/redis-connection';
import { RedisCounterStore, RedisOnceStore, RedisValueStore } from '../../src/redis/redis-once.store';
import { RedisTokenCacheStore } from '../../src/tokens/redis-token-cache.store';
import { INVALIDATED, MemoryTokenCacheStore, type TokenCacheStore } from '../../src/tokens/token-cache.store';
import { RedisThrottlerStorage } from '../../src/redis/redis-throttler.store';
import { type ConsoleSessionRecord, ConsoleSessionStore, MemoryConsoleSessionStore } from '../../src/console/session/console-session.store';
import { RedisConsoleSessionStore } from '../../src/console/session/redis-console-session.store';
import { sha256Hex } from '../../src/common/crypto';
import type { Approver } from '../../src/tokens/approver';
import type { ApprovalOrigin } from '../../src/common/browser-id';
import { SHARD_TAGS, shardTagOf } from '../../src/redis/cluster-shards';
import { auditOutboxShardKey } from '../../src/audit/audit-outbox.store';
import { deleteKeys, redisKeys, TestClock } from './test-app';

/**
 * One contract per storage port, run against the Redis implementation (a
 * standalone Redis or a Cluster, under a key prefix of this run) and the
 * in-process one of the embedded mode. Protocol time is passed explicitly as `now`; only
 * key lifetimes run on a clock, which `elapse` moves (the test clock for the
 * in-process stores, a real wait for Redis).
 */
interface Subject<T> {
  store: T;
  /** Lets `ms` of key lifetime pass. */
  elapse(ms: number): Promise<void>;
  close(): Promise<void>;
}

interface Implementation<T> {
  name: string;
  open(): Promise<Subject<T>>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function memorySubject<T extends { onApplicationShutdown(): void }>(build: (clock: TestClock) => T): Subject<T> {
  const clock = new TestClock();
  const store = build(clock);
  return {
    store,
    elapse: async (ms) => clock.advance(ms),
    close: async () => store.onApplicationShutdown(),
  };
}

/**
 * Every contract against the Redis at `redisUrl` (read when the first
 * contract opens its store, so a spec may start that Redis in its
 * beforeAll): standalone, Sentinel or Cluster. `memoryTwins` runs the same
 * cases against the in-process implementations of the embedded mode too.
 */
export function describeStoreContracts(redisUrl: () => string, { memoryTwins }: { memoryTwins: boolean }): void {
  /** The Redis implementation of a port, and its in-process twin when asked for. */
  const implementations = <T>(redis: Implementation<T>, memory: Implementation<T>): Implementation<T>[] => (memoryTwins ? [redis, memory] : [redis]);

  /** A Redis connection under a prefix of its own; closing it removes every key written under that prefix. */
  function redisSubject<T>(build: (redis: RedisConnection) => T): Subject<T> & { redis: RedisConnection; prefix: string } {
    const prefix = `devicegate-test:contract:${randomUUID()}:`;
    const redis = createRedisConnection(redisUrl(), prefix);
    return {
      redis,
      prefix,
      store: build(redis),
      elapse: sleep,
      close: async () => {
        await redis.quit();
        await deleteKeys(prefix, redisUrl());
      },
    };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // AuditOutboxStore: entries enter with a flow (DeviceFlowStore.create) and leave through a drainer

  interface FlowsWithOutbox {
    flows: DeviceFlowStore;
    outbox: AuditOutboxStore;
    /** The throttler storage on the same Redis, where the flows count rate limits. */
    throttler?: ThrottlerStorage;
  }

  const outboxStores = implementations<FlowsWithOutbox>(
    {
      name: 'RedisAuditOutboxStore',
      open: async () =>
        redisSubject((redis) => ({
          flows: new RedisDeviceFlowStore(redis),
          outbox: new RedisAuditOutboxStore(redis),
          throttler: new RedisThrottlerStorage(redis),
        })),
    },
    {
      name: 'MemoryAuditOutboxStore',
      open: async () => {
        const clock = new TestClock();
        const outbox = new MemoryAuditOutboxStore(clock);
        const flows = new MemoryDeviceFlowStore(clock, outbox);
        return {
          store: { flows, outbox },
          elapse: async (ms) => clock.advance(ms),
          close: async () => {
            flows.onApplicationShutdown();
            outbox.onApplicationShutdown();
          },
        };
      },
    },
  );

  describe.each(outboxStores)('AuditOutboxStore contract: $name', (implementation) => {
    let subject: Subject<FlowsWithOutbox>;
    let flows: DeviceFlowStore;
    let outbox: AuditOutboxStore;

    beforeAll(async () => {
      subject = await implementation.open();
      ({ flows, outbox } = subject.store);
    });

    afterAll(() => subject.close());

    /** Takes everything there is and acknowledges it, so each test starts from an empty outbox. */
    async function emptied(): Promise<void> {
      for (;;) {
        const entries = await outbox.take('cleaner', 100, 0);
        await outbox.acknowledge(entries.map((entry) => entry.id));
        if (entries.length === 0) return;
      }
    }

    beforeEach(emptied);

    it('takes the event a flow was created with, in order, and forgets it once acknowledged', async () => {
      await flows.create(newFlow(), RETAIN_MS, '{"n":1}');
      // Entry time counts in milliseconds: on a Cluster two flows of one millisecond sit in two streams, in no order.
      await sleep(2);
      await flows.create(newFlow(), RETAIN_MS, '{"n":2}');
      const taken = await outbox.take('drainer-a', 10, 60_000);
      expect(taken.map((entry) => entry.payload)).toEqual(['{"n":1}', '{"n":2}']);
      expect((await outbox.lag(Date.now())).length).toBe(2);
      await outbox.acknowledge(taken.map((entry) => entry.id));
      expect(await outbox.take('drainer-a', 10, 0)).toEqual([]);
      expect(await outbox.lag(Date.now())).toEqual({ length: 0, oldestAgeMs: 0 });
    });

    it('writes no event for a flow it refused (user-code collision) and none for a flow created without one', async () => {
      const first = newFlow();
      await flows.create(first, RETAIN_MS, '{"n":"first"}');
      expect(await flows.create(newFlow({ userCodeHash: first.userCodeHash }), RETAIN_MS, '{"n":"collided"}')).toBe(false);
      await flows.create(newFlow(), RETAIN_MS);
      expect((await outbox.take('drainer-a', 10, 60_000)).map((entry) => entry.payload)).toEqual(['{"n":"first"}']);
    });

    it('counts a request\'s limits with its flow where it can: past one, neither the flow nor its event is stored', async () => {
      if (!flows.countsLimits) {
        await expect(async () => flows.createCounted(newFlow(), RETAIN_MS, '{}', [])).rejects.toThrow('does not count rate limits');
        return;
      }
      const perIp = { name: 'device-code-ip' as const, key: `ip-${randomUUID()}`, limit: 2, windowMs: 60_000, blockMs: 60_000 };
      const perClient = { name: 'device-code-client' as const, key: `client-${randomUUID()}`, limit: 10, windowMs: 60_000, blockMs: 60_000 };
      const tally = (totalHits: number, isBlocked = false) => ({ totalHits, timeToExpire: 60, isBlocked, timeToBlockExpire: isBlocked ? 60 : 0 });
      const first = newFlow();
      expect(await flows.createCounted(first, RETAIN_MS, '{"n":"counted"}', [perIp, perClient])).toEqual({
        created: true,
        tallies: [tally(1), tally(1)],
      });
      // A user-code collision stores nothing, and counts all the same.
      const collided = newFlow({ userCodeHash: first.userCodeHash });
      expect(await flows.createCounted(collided, RETAIN_MS, '{"n":"collided"}', [perIp, perClient])).toEqual({
        created: false,
        tallies: [tally(2), tally(2)],
      });
      const limited = newFlow();
      expect(await flows.createCounted(limited, RETAIN_MS, '{"n":"limited"}', [perIp, perClient])).toEqual({
        created: false,
        tallies: [tally(3, true), tally(3)],
      });
      expect(await flows.findByDeviceCode(limited.deviceCodeHash)).toBeUndefined();
      expect(await flows.findByUserCode(limited.userCodeHash)).toBeUndefined();
      expect((await outbox.take('drainer-a', 10, 60_000)).map((entry) => entry.payload)).toEqual(['{"n":"counted"}']);
      // The same counts as the throttler storage's, where a request refused before its flow is counted.
      const storage = subject.store.throttler as ThrottlerStorage;
      expect(await storage.increment(perClient.key, perClient.windowMs, perClient.limit, perClient.blockMs, perClient.name)).toEqual(tally(4));
      expect(await storage.increment(perIp.key, perIp.windowMs, perIp.limit, perIp.blockMs, perIp.name)).toEqual(tally(4, true));
    });

    it('counts the limits of requests made at once in their order, each limit against its own caller', async () => {
      const limit = (name: 'device-code-ip' | 'device-code-client', key: string, max: number) => ({
        name,
        key,
        limit: max,
        windowMs: 60_000,
        blockMs: 30_000,
      });
      const sharedIp = limit('device-code-ip', `ip-${randomUUID()}`, 2);
      const otherIp = limit('device-code-ip', `ip-${randomUUID()}`, 2);
      const sharedClient = limit('device-code-client', `client-${randomUUID()}`, 3);
      const requests = [[sharedIp, sharedClient], [otherIp, sharedClient], [sharedIp, sharedClient], [sharedIp, sharedClient], []];
      const made = requests.map((limits, n) => ({ flow: newFlow(), limits, event: `{"n":${n}}` }));
      // One turn: where the store batches a turn's flows, these go together.
      const counting = Promise.all(made.map(({ flow, limits, event }) => flows.createCounted(flow, RETAIN_MS, event, limits)));
      if (!flows.countsLimits) {
        // A store that counts limits before the flow (Cluster, memory) refuses every one of them, and stores nothing.
        await expect(counting).rejects.toThrow('does not count rate limits');
        for (const { flow } of made) expect(await flows.findByDeviceCode(flow.deviceCodeHash)).toBeUndefined();
        return;
      }
      const counted = await counting;
      const tally = (totalHits: number, isBlocked = false) => ({ totalHits, timeToExpire: 60, isBlocked, timeToBlockExpire: isBlocked ? 30 : 0 });
      expect(counted).toEqual([
        { created: true, tallies: [tally(1), tally(1)] },
        { created: true, tallies: [tally(1), tally(2)] },
        { created: true, tallies: [tally(2), tally(3)] },
        { created: false, tallies: [tally(3, true), tally(4, true)] },
        { created: true, tallies: [] },
      ]);
      for (const [n, { flow }] of made.entries()) {
        expect(await flows.findByDeviceCode(flow.deviceCodeHash)).toEqual(n === 3 ? undefined : flow);
      }
      const events = (await outbox.take('drainer-a', 10, 60_000)).map((entry) => entry.payload);
      expect(events.sort()).toEqual(['{"n":0}', '{"n":1}', '{"n":2}', '{"n":4}']);
    });

    it('gives each entry to one drainer, and an unacknowledged one to another only after it was idle long enough', async () => {
      await flows.create(newFlow(), RETAIN_MS, '{"n":"held"}');
      const [held] = await outbox.take('drainer-a', 10, 200);
      expect(held.payload).toBe('{"n":"held"}');
      expect(await outbox.take('drainer-b', 10, 200)).toEqual([]);
      await subject.elapse(300);
      expect(await outbox.take('drainer-b', 10, 200)).toEqual([held]);
      await outbox.acknowledge([held.id]);
      await subject.elapse(300);
      expect(await outbox.take('drainer-a', 10, 200)).toEqual([]);
    });

    it('gives a drainer back what it took and did not acknowledge, before anything new', async () => {
      await flows.create(newFlow(), RETAIN_MS, '{"n":"failed"}');
      const [failed] = await outbox.take('drainer-a', 10, 60_000);
      await flows.create(newFlow(), RETAIN_MS, '{"n":"next"}');
      expect((await outbox.take('drainer-a', 10, 60_000)).map((entry) => entry.payload)).toEqual(['{"n":"failed"}', '{"n":"next"}']);
      expect((await outbox.take('drainer-a', 1, 60_000))[0]).toEqual(failed);
    });

    it('without a recovery idle time takes only entries no drainer took: unacknowledged ones wait for a recovering take', async () => {
      await flows.create(newFlow(), RETAIN_MS, '{"n":"own"}');
      const [own] = await outbox.take('drainer-a', 10, 200);
      await flows.create(newFlow(), RETAIN_MS, '{"n":"theirs"}');
      const [theirs] = await outbox.take('drainer-b', 10, 200);
      await subject.elapse(300);
      await flows.create(newFlow(), RETAIN_MS, '{"n":"fresh"}');
      const fresh = await outbox.take('drainer-a', 10);
      expect(fresh.map((entry) => entry.payload)).toEqual(['{"n":"fresh"}']);
      expect(await outbox.take('drainer-a', 10)).toEqual([]);
      // Its own first (both unacknowledged), then the abandoned one.
      expect(await outbox.take('drainer-a', 10, 200)).toEqual([own, ...fresh, theirs]);
    });

    it('takes no more than it returns without a recovery idle time, whatever stream the entries are in', async () => {
      for (let n = 0; n < 6; n++) await flows.create(newFlow(), RETAIN_MS, `{"n":${n}}`);
      expect(await outbox.take('drainer-a', 2)).toHaveLength(2);
      expect(await outbox.take('drainer-b', 10, 60_000)).toHaveLength(4);
    });

    it('takes at most the count asked for', async () => {
      for (let n = 0; n < 5; n++) await flows.create(newFlow(), RETAIN_MS, `{"n":${n}}`);
      const first = await outbox.take('drainer-a', 3, 60_000);
      expect(first).toHaveLength(3);
      await outbox.acknowledge(first.map((entry) => entry.id));
      expect(await outbox.take('drainer-a', 3, 60_000)).toHaveLength(2);
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  // DeviceFlowStore

  const deviceFlowStores = implementations<DeviceFlowStore>(
    { name: 'RedisDeviceFlowStore', open: async () => redisSubject((redis) => new RedisDeviceFlowStore(redis)) },
    { name: 'MemoryDeviceFlowStore', open: async () => memorySubject((clock) => new MemoryDeviceFlowStore(clock)) },
  );

  /** Protocol time of the flows below: a fixed instant, unrelated to the wall clock. */
  const T0 = 1_900_000_000_000;
  const at = (seconds: number) => T0 + seconds * 1000;
  const LIFETIME_MS = 600_000;
  const RETAIN_MS = 20 * 60_000;
  const LEASE_MS = 10_000;

  const ALICE: Approver = {
    subjectId: '6f1c7a52-95f4-4d53-9b0e-6f3c1f0a2b11',
    issuer: 'https://idp.example.com/realms/acme',
    externalId: 'auth0|alice:42',
    email: 'alice@example.com',
    name: 'Alice Ünïcødé "Example" O\'Brien',
    organizationId: 'acme',
  };

  /** Where each approves from: Alice's browser has an id, Bob's none. */
const FROM_ALICE: ApprovalOrigin = { ip: '2001:db8::7', userAgent: 'Mozilla/5.0 (Macintosh) Firefox/140.0', browserHash: 'b'.repeat(64) };
const FROM_BOB: ApprovalOrigin = { ip: '198.51.100.9', userAgent: '' };

const BOB: Approver = {
    subjectId: '0b5a8e0e-1d7b-4c8e-8b48-0d1f1e6a9c22',
    issuer: 'urn:devicegate:local',
    externalId: 'bob',
    email: 'bob@example.com',
    name: 'Bob',
  };

  function newFlow(overrides: Partial<DeviceFlow> = {}): DeviceFlow {
    return {
      deviceCodeHash: `device-${randomUUID()}`,
      userCodeHash: `user-${randomUUID()}`,
      clientId: 'test-cli',
      scopes: ['profile', 'read'],
      deviceLabel: 'ci runner #7',
      status: 'pending',
      createdAt: T0,
      expiresAt: T0 + LIFETIME_MS,
      interval: 5,
      requestIp: '203.0.113.7',
      userAgent: 'mycli/1.4 (linux; x64)',
      ...overrides,
    };
  }

  describe.each(deviceFlowStores)('DeviceFlowStore contract: $name', (implementation) => {
    let subject: Subject<DeviceFlowStore>;
    let store: DeviceFlowStore;

    beforeAll(async () => {
      subject = await implementation.open();
      store = subject.store;
    });

    afterAll(() => subject.close());

    async function created(overrides: Partial<DeviceFlow> = {}): Promise<DeviceFlow> {
      const flow = newFlow(overrides);
      expect(await store.create(flow, RETAIN_MS)).toBe(true);
      return flow;
    }

    /** Decided, and confirmed as once its audit event is committed. */
    async function decided(flow: DeviceFlow, decision: Decision): Promise<void> {
      expect(await store.decide(flow.deviceCodeHash, decision, at(1))).toBe('decided');
      expect(await store.confirmDecision(flow.deviceCodeHash, decision.status)).toBe(true);
    }

    async function approved(overrides: Partial<DeviceFlow> = {}, approver = ALICE): Promise<DeviceFlow> {
      const flow = await created(overrides);
      await decided(flow, { status: 'approved', approver, origin: approver === ALICE ? FROM_ALICE : FROM_BOB });
      return flow;
    }

    describe('create and find', () => {
      it('finds a new flow by its device code and by its user code', async () => {
        const flow = await created();
        expect(await store.findByDeviceCode(flow.deviceCodeHash)).toEqual(flow);
        expect(await store.findByUserCode(flow.userCodeHash)).toEqual(flow);
      });

      it('keeps an empty device label and an empty scope list', async () => {
        const flow = await created({ deviceLabel: '', scopes: [], userAgent: '', requestIp: '' });
        expect(await store.findByDeviceCode(flow.deviceCodeHash)).toEqual(flow);
      });

      it('finds nothing for unknown codes', async () => {
        expect(await store.findByDeviceCode(`device-${randomUUID()}`)).toBeUndefined();
        expect(await store.findByUserCode(`user-${randomUUID()}`)).toBeUndefined();
      });

      it('hands out copies: changing what it returned changes nothing stored', async () => {
        const flow = await created();
        const found = (await store.findByDeviceCode(flow.deviceCodeHash)) as DeviceFlow;
        found.status = 'approved';
        found.scopes.push('admin');
        expect(await store.findByDeviceCode(flow.deviceCodeHash)).toEqual(flow);
      });

      it('refuses a user code that collides with a live one, and keeps the first flow', async () => {
        const first = await created();
        const second = newFlow({ userCodeHash: first.userCodeHash });
        expect(await store.create(second, RETAIN_MS)).toBe(false);
        expect(await store.findByUserCode(first.userCodeHash)).toEqual(first);
        expect(await store.findByDeviceCode(second.deviceCodeHash)).toBeUndefined();
      });

      it('lets a user code be drawn again once its flow has expired', async () => {
        const first = await created({ expiresAt: T0 + 50 });
        await subject.elapse(250);
        const second = newFlow({ userCodeHash: first.userCodeHash });
        expect(await store.create(second, RETAIN_MS)).toBe(true);
        expect(await store.findByUserCode(first.userCodeHash)).toEqual(second);
      });

      it('forgets a flow after its retention', async () => {
        const flow = newFlow({ expiresAt: T0 + 50 });
        expect(await store.create(flow, 100)).toBe(true);
        await subject.elapse(300);
        expect(await store.findByDeviceCode(flow.deviceCodeHash)).toBeUndefined();
        expect(await store.poll(flow.deviceCodeHash, flow.clientId, at(0), LEASE_MS)).toEqual({ kind: 'unknown' });
      });
    });

    describe('poll (RFC 8628 §3.4–3.5)', () => {
      it('answers unknown for a device code it never saw', async () => {
        expect(await store.poll(`device-${randomUUID()}`, 'test-cli', at(0), LEASE_MS)).toEqual({ kind: 'unknown' });
      });

      it('answers other_client to another client, without counting it as a poll', async () => {
        const flow = await created();
        expect(await store.poll(flow.deviceCodeHash, 'someone-else', at(0), LEASE_MS)).toEqual({ kind: 'other_client' });
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(1), LEASE_MS)).toEqual({ kind: 'pending' });
      });

      it('answers pending while nobody decided', async () => {
        const flow = await created();
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(0), LEASE_MS)).toEqual({ kind: 'pending' });
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(5), LEASE_MS)).toEqual({ kind: 'pending' });
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(10), LEASE_MS)).toEqual({ kind: 'pending' });
      });

      it('answers slow_down to a poll inside the interval, and the interval grows by 5 and stays', async () => {
        const flow = await created();
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(0), LEASE_MS)).toEqual({ kind: 'pending' });
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(2), LEASE_MS)).toEqual({ kind: 'slow_down', interval: 10 });
        expect((await store.findByDeviceCode(flow.deviceCodeHash))?.interval).toBe(10);

        // 6 s was enough before; now it is too fast.
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(8), LEASE_MS)).toEqual({ kind: 'slow_down', interval: 15 });
        expect((await store.findByDeviceCode(flow.deviceCodeHash))?.interval).toBe(15);

        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(23), LEASE_MS)).toEqual({ kind: 'pending' });
        expect((await store.findByDeviceCode(flow.deviceCodeHash))?.interval).toBe(15);
      });

      it('stops growing the interval at 60 s, so a burst cannot lock the client out', async () => {
        const flow = await created();
        await store.poll(flow.deviceCodeHash, 'test-cli', at(0), LEASE_MS);
        const intervals: number[] = [];
        for (let i = 1; i <= 15; i++) {
          const outcome = await store.poll(flow.deviceCodeHash, 'test-cli', at(0) + i, LEASE_MS);
          if (outcome.kind === 'slow_down') intervals.push(outcome.interval);
        }
        expect(intervals).toEqual([10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 60, 60, 60, 60]);
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(0) + 15 + 60_000, LEASE_MS)).toEqual({ kind: 'pending' });
      });

      it('forgives a poll up to 250 ms early, not more', async () => {
        const flow = await created();
        await store.poll(flow.deviceCodeHash, 'test-cli', at(0), LEASE_MS);
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(0) + 4750, LEASE_MS)).toEqual({ kind: 'pending' });
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(0) + 4750 + 4749, LEASE_MS)).toEqual({
          kind: 'slow_down',
          interval: 10,
        });
      });

      it('answers expired from the moment the flow expires', async () => {
        const flow = await created();
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', flow.expiresAt - 1, LEASE_MS)).toEqual({ kind: 'pending' });
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', flow.expiresAt, LEASE_MS)).toEqual({ kind: 'expired' });
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', flow.expiresAt + 60_000, LEASE_MS)).toEqual({ kind: 'expired' });
      });

      it('answers expired for an approved flow that was never collected in time', async () => {
        const flow = await approved();
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', flow.expiresAt, LEASE_MS)).toEqual({ kind: 'expired' });
      });

      it('answers denied after a denial, on every poll', async () => {
        const flow = await created();
        await decided(flow, { status: 'denied' });
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(2), LEASE_MS)).toEqual({ kind: 'denied' });
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(8), LEASE_MS)).toEqual({ kind: 'denied' });
      });

      it('hands an approved flow to one poll as attempt 1, with the approver', async () => {
        const flow = await approved();
        const outcome = await store.poll(flow.deviceCodeHash, 'test-cli', at(2), LEASE_MS);
        expect(outcome).toEqual({
          kind: 'claimed',
          attempt: 1,
          flow: { ...flow, status: 'delivering', approver: ALICE, approvalOrigin: FROM_ALICE, decidedAt: at(1) },
        });
      });

      it('answers pending to a second poll while the delivery lease runs', async () => {
        const flow = await approved();
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(2), LEASE_MS)).toMatchObject({ kind: 'claimed', attempt: 1 });
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(8), LEASE_MS)).toEqual({ kind: 'pending' });
        expect((await store.findByDeviceCode(flow.deviceCodeHash))?.status).toBe('delivering');
      });

      it('hands the flow to the next poll as attempt 2 once the lease has run out', async () => {
        const flow = await approved();
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(2), LEASE_MS)).toMatchObject({ kind: 'claimed', attempt: 1 });
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(2) + LEASE_MS - 1, LEASE_MS)).toEqual({ kind: 'pending' });
        const retried = await store.poll(flow.deviceCodeHash, 'test-cli', at(2) + 2 * LEASE_MS, LEASE_MS);
        expect(retried).toMatchObject({ kind: 'claimed', attempt: 2, flow: { approver: ALICE, status: 'delivering' } });
      });

      it('still answers slow_down during a delivery (the interval check comes first)', async () => {
        const flow = await approved();
        await store.poll(flow.deviceCodeHash, 'test-cli', at(2), LEASE_MS);
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(3), LEASE_MS)).toEqual({ kind: 'slow_down', interval: 10 });
      });
    });

    describe('delivery', () => {
      it('completes only for the attempt that holds the lease, then answers consumed', async () => {
        const flow = await approved();
        await store.poll(flow.deviceCodeHash, 'test-cli', at(2), LEASE_MS);
        await store.poll(flow.deviceCodeHash, 'test-cli', at(2) + LEASE_MS + 1, LEASE_MS);

        expect(await store.completeDelivery(flow.deviceCodeHash, 1)).toBe(false);
        expect(await store.completeDelivery(flow.deviceCodeHash, 3)).toBe(false);
        expect(await store.completeDelivery(flow.deviceCodeHash, 2)).toBe(true);
        expect(await store.completeDelivery(flow.deviceCodeHash, 2)).toBe(false);

        expect((await store.findByDeviceCode(flow.deviceCodeHash))?.status).toBe('consumed');
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(30), LEASE_MS)).toEqual({ kind: 'consumed' });
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(31), LEASE_MS)).toEqual({ kind: 'consumed' });
      });

      it('answers consumed rather than expired after the flow expires', async () => {
        const flow = await approved();
        await store.poll(flow.deviceCodeHash, 'test-cli', at(2), LEASE_MS);
        expect(await store.completeDelivery(flow.deviceCodeHash, 1)).toBe(true);
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', flow.expiresAt + 1, LEASE_MS)).toEqual({ kind: 'consumed' });
      });

      it('does not complete a flow that nobody is delivering', async () => {
        const pending = await created();
        expect(await store.completeDelivery(pending.deviceCodeHash, 1)).toBe(false);
        const approvedFlow = await approved();
        expect(await store.completeDelivery(approvedFlow.deviceCodeHash, 1)).toBe(false);
        expect((await store.findByDeviceCode(approvedFlow.deviceCodeHash))?.status).toBe('approved');
        expect(await store.completeDelivery(`device-${randomUUID()}`, 1)).toBe(false);
      });

      it('hands the lease back on release, so the next poll claims at once', async () => {
        const flow = await approved();
        await store.poll(flow.deviceCodeHash, 'test-cli', at(2), LEASE_MS);
        await store.releaseDelivery(flow.deviceCodeHash, 1);
        expect((await store.findByDeviceCode(flow.deviceCodeHash))?.status).toBe('approved');
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(8), LEASE_MS)).toMatchObject({ kind: 'claimed', attempt: 2 });
        expect(await store.completeDelivery(flow.deviceCodeHash, 1)).toBe(false);
        expect(await store.completeDelivery(flow.deviceCodeHash, 2)).toBe(true);
      });

      it('ignores a release by an attempt that no longer holds the lease', async () => {
        const flow = await approved();
        await store.poll(flow.deviceCodeHash, 'test-cli', at(2), LEASE_MS);
        await store.releaseDelivery(flow.deviceCodeHash, 1);
        await store.poll(flow.deviceCodeHash, 'test-cli', at(8), LEASE_MS);

        await store.releaseDelivery(flow.deviceCodeHash, 1);
        expect((await store.findByDeviceCode(flow.deviceCodeHash))?.status).toBe('delivering');
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(14), LEASE_MS)).toEqual({ kind: 'pending' });
        expect(await store.completeDelivery(flow.deviceCodeHash, 2)).toBe(true);
      });

      it('does not reopen a consumed flow on a late release', async () => {
        const flow = await approved();
        await store.poll(flow.deviceCodeHash, 'test-cli', at(2), LEASE_MS);
        expect(await store.completeDelivery(flow.deviceCodeHash, 1)).toBe(true);
        await store.releaseDelivery(flow.deviceCodeHash, 1);
        expect(await store.poll(flow.deviceCodeHash, 'test-cli', at(8), LEASE_MS)).toEqual({ kind: 'consumed' });
      });
    });

    describe('decide', () => {
      it('decides once; every later decision is not_pending and changes nothing', async () => {
        const flow = await created();
        expect(await store.decide(flow.deviceCodeHash, { status: 'approved', approver: ALICE, origin: FROM_ALICE }, at(1))).toBe('decided');
        expect(await store.decide(flow.deviceCodeHash, { status: 'approved', approver: BOB, origin: FROM_BOB }, at(2))).toBe('not_pending');
        expect(await store.decide(flow.deviceCodeHash, { status: 'denied' }, at(3))).toBe('not_pending');
        expect(await store.findByDeviceCode(flow.deviceCodeHash)).toEqual({ ...flow, status: 'approving', approver: ALICE, approvalOrigin: FROM_ALICE, decidedAt: at(1) });
        expect(await store.confirmDecision(flow.deviceCodeHash, 'approved')).toBe(true);
        expect(await store.decide(flow.deviceCodeHash, { status: 'approved', approver: BOB, origin: FROM_BOB }, at(4))).toBe('not_pending');
        expect(await store.findByDeviceCode(flow.deviceCodeHash)).toEqual({ ...flow, status: 'approved', approver: ALICE, approvalOrigin: FROM_ALICE, decidedAt: at(1) });
      });

      it('keeps a denial without an approver', async () => {
        const flow = await created();
        expect(await store.decide(flow.deviceCodeHash, { status: 'denied' }, at(1))).toBe('decided');
        expect(await store.decide(flow.deviceCodeHash, { status: 'approved', approver: ALICE, origin: FROM_ALICE }, at(2))).toBe('not_pending');
        expect(await store.confirmDecision(flow.deviceCodeHash, 'denied')).toBe(true);
        const found = await store.findByDeviceCode(flow.deviceCodeHash);
        expect(found).toEqual({ ...flow, status: 'denied', decidedAt: at(1) });
        expect(found?.approver).toBeUndefined();
      });

      it('holds a decision until it is confirmed: every poll meanwhile hears pending', async () => {
        const approving = await created();
        expect(await store.decide(approving.deviceCodeHash, { status: 'approved', approver: ALICE, origin: FROM_ALICE }, at(1))).toBe('decided');
        expect(await store.poll(approving.deviceCodeHash, 'test-cli', at(2), LEASE_MS)).toEqual({ kind: 'pending' });
        expect(await store.poll(approving.deviceCodeHash, 'test-cli', at(8), LEASE_MS)).toEqual({ kind: 'pending' });
        expect(await store.confirmDecision(approving.deviceCodeHash, 'approved')).toBe(true);
        expect(await store.poll(approving.deviceCodeHash, 'test-cli', at(14), LEASE_MS)).toMatchObject({ kind: 'claimed', attempt: 1 });

        const denying = await created();
        expect(await store.decide(denying.deviceCodeHash, { status: 'denied' }, at(1))).toBe('decided');
        expect(await store.poll(denying.deviceCodeHash, 'test-cli', at(2), LEASE_MS)).toEqual({ kind: 'pending' });
        expect(await store.confirmDecision(denying.deviceCodeHash, 'denied')).toBe(true);
        expect(await store.poll(denying.deviceCodeHash, 'test-cli', at(8), LEASE_MS)).toEqual({ kind: 'denied' });
      });

      it('confirms only the decision it holds, once', async () => {
        const flow = await created();
        expect(await store.confirmDecision(flow.deviceCodeHash, 'approved')).toBe(false);
        expect((await store.findByDeviceCode(flow.deviceCodeHash))?.status).toBe('pending');
        await store.decide(flow.deviceCodeHash, { status: 'approved', approver: ALICE, origin: FROM_ALICE }, at(1));
        expect(await store.confirmDecision(flow.deviceCodeHash, 'denied')).toBe(false);
        expect(await store.confirmDecision(flow.deviceCodeHash, 'approved')).toBe(true);
        expect(await store.confirmDecision(flow.deviceCodeHash, 'approved')).toBe(false);
        expect(await store.confirmDecision(`device-${randomUUID()}`, 'approved')).toBe(false);
      });

      it('refuses to decide an expired flow, which stays pending', async () => {
        const flow = await created();
        expect(await store.decide(flow.deviceCodeHash, { status: 'approved', approver: ALICE, origin: FROM_ALICE }, flow.expiresAt)).toBe('expired');
        expect(await store.decide(flow.deviceCodeHash, { status: 'denied' }, flow.expiresAt + 1)).toBe('expired');
        expect((await store.findByDeviceCode(flow.deviceCodeHash))?.status).toBe('pending');
        expect(await store.decide(flow.deviceCodeHash, { status: 'approved', approver: ALICE, origin: FROM_ALICE }, flow.expiresAt - 1)).toBe('decided');
      });

      it('undoes a held decision back to pending, only while nothing moved on', async () => {
        const held = await created();
        await store.decide(held.deviceCodeHash, { status: 'approved', approver: ALICE, origin: FROM_ALICE }, at(1));
        expect(await store.undoDecision(held.deviceCodeHash, 'denied')).toBe(false);
        expect(await store.undoDecision(held.deviceCodeHash, 'approved')).toBe(true);
        expect(await store.findByDeviceCode(held.deviceCodeHash)).toEqual(held);
        expect(await store.decide(held.deviceCodeHash, { status: 'denied' }, at(2))).toBe('decided');
        expect(await store.undoDecision(held.deviceCodeHash, 'denied')).toBe(true);
        expect(await store.findByDeviceCode(held.deviceCodeHash)).toEqual(held);

        const confirmed = await approved();
        expect(await store.undoDecision(confirmed.deviceCodeHash, 'approved')).toBe(false);
        expect((await store.findByDeviceCode(confirmed.deviceCodeHash))?.status).toBe('approved');

        const delivering = await approved();
        expect((await store.poll(delivering.deviceCodeHash, delivering.clientId, at(2), LEASE_MS)).kind).toBe('claimed');
        expect(await store.undoDecision(delivering.deviceCodeHash, 'approved')).toBe(false);
        expect((await store.findByDeviceCode(delivering.deviceCodeHash))?.status).toBe('delivering');
      });

      it('leaves nothing of an undone approval behind: the next approver, of no organization, mints into none', async () => {
        const flow = await created();
        expect(await store.decide(flow.deviceCodeHash, { status: 'approved', approver: ALICE, origin: FROM_ALICE }, at(1))).toBe('decided');
        expect(await store.undoDecision(flow.deviceCodeHash, 'approved')).toBe(true);
        expect(await store.findByDeviceCode(flow.deviceCodeHash)).toEqual(flow);

        expect(await store.decide(flow.deviceCodeHash, { status: 'approved', approver: BOB, origin: FROM_BOB }, at(2))).toBe('decided');
        expect(await store.confirmDecision(flow.deviceCodeHash, 'approved')).toBe(true);
        expect(await store.findByDeviceCode(flow.deviceCodeHash)).toEqual({ ...flow, status: 'approved', approver: BOB, approvalOrigin: FROM_BOB, decidedAt: at(2) });
        const claimed = await store.poll(flow.deviceCodeHash, flow.clientId, at(3), LEASE_MS);
        expect(claimed).toEqual({ kind: 'claimed', attempt: 1, flow: { ...flow, status: 'delivering', approver: BOB, approvalOrigin: FROM_BOB, decidedAt: at(2) } });
        expect(claimed.kind === 'claimed' && claimed.flow.approver?.organizationId).toBeUndefined();
      });

      it('leaves nothing of an undone denial behind either', async () => {
        const flow = await created();
        expect(await store.decide(flow.deviceCodeHash, { status: 'denied' }, at(1))).toBe('decided');
        expect(await store.undoDecision(flow.deviceCodeHash, 'denied')).toBe(true);
        expect(await store.findByDeviceCode(flow.deviceCodeHash)).toEqual(flow);
      });

      it('answers unknown for a device code it never saw', async () => {
        expect(await store.decide(`device-${randomUUID()}`, { status: 'approved', approver: ALICE, origin: FROM_ALICE }, at(1))).toBe('unknown');
        expect(await store.decide(`device-${randomUUID()}`, { status: 'denied' }, at(1))).toBe('unknown');
      });

      it('keeps every approver field as it was given', async () => {
        const flow = await approved({}, ALICE);
        expect((await store.findByDeviceCode(flow.deviceCodeHash))?.approver).toEqual(ALICE);
        expect((await store.findByUserCode(flow.userCodeHash))?.approver).toEqual(ALICE);
        const other = await approved({}, BOB);
        expect((await store.findByDeviceCode(other.deviceCodeHash))?.approver).toEqual(BOB);
      });

      it('answers not_pending once the flow is being delivered or consumed', async () => {
        const flow = await approved();
        await store.poll(flow.deviceCodeHash, 'test-cli', at(2), LEASE_MS);
        expect(await store.decide(flow.deviceCodeHash, { status: 'denied' }, at(3))).toBe('not_pending');
        await store.completeDelivery(flow.deviceCodeHash, 1);
        expect(await store.decide(flow.deviceCodeHash, { status: 'denied' }, at(4))).toBe('not_pending');
      });
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  // OnceStore and CounterStore

  const onceStores = implementations<OnceStore>(
    { name: 'RedisOnceStore', open: async () => redisSubject((redis) => new RedisOnceStore(redis)) },
    { name: 'MemoryOnceStore', open: async () => memorySubject((clock) => new MemoryOnceStore(clock)) },
  );

  describe.each(onceStores)('OnceStore contract: $name', (implementation) => {
    let subject: Subject<OnceStore>;

    beforeAll(async () => {
      subject = await implementation.open();
    });

    afterAll(() => subject.close());

    const key = () => `approval-grant:${randomUUID()}`;

    it('is true for the first consumer only', async () => {
      const nonce = key();
      expect(await subject.store.isConsumed(nonce)).toBe(false);
      expect(await subject.store.consume(nonce, 60_000)).toBe(true);
      expect(await subject.store.isConsumed(nonce)).toBe(true);
      expect(await subject.store.consume(nonce, 60_000)).toBe(false);
      expect(await subject.store.consume(nonce, 60_000)).toBe(false);
    });

    it('keeps keys apart', async () => {
      const first = key();
      const second = key();
      expect(await subject.store.consume(first, 60_000)).toBe(true);
      expect(await subject.store.isConsumed(second)).toBe(false);
      expect(await subject.store.consume(second, 60_000)).toBe(true);
    });

    it('lets exactly one of many concurrent consumers win', async () => {
      const nonce = key();
      const results = await Promise.all(Array.from({ length: 20 }, () => subject.store.consume(nonce, 60_000)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('forgets a marker once it expires', async () => {
      const nonce = key();
      expect(await subject.store.consume(nonce, 50)).toBe(true);
      await subject.elapse(250);
      expect(await subject.store.isConsumed(nonce)).toBe(false);
      expect(await subject.store.consume(nonce, 50)).toBe(true);
    });

    it('accepts a fractional or tiny TTL', async () => {
      expect(await subject.store.consume(key(), 0.4)).toBe(true);
      expect(await subject.store.consume(key(), 1500.7)).toBe(true);
    });
  });

  const valueStores = implementations<ValueStore>(
    { name: 'RedisValueStore', open: async () => redisSubject((redis) => new RedisValueStore(redis)) },
    { name: 'MemoryValueStore', open: async () => memorySubject((clock) => new MemoryValueStore(clock)) },
  );

  describe.each(valueStores)('ValueStore contract: $name', (implementation) => {
    let subject: Subject<ValueStore>;

    beforeAll(async () => {
      subject = await implementation.open();
    });

    afterAll(() => subject.close());

    const key = () => `sso-transaction:${randomUUID()}`;

    it('hands a value over once: get reads it, take reads and removes it', async () => {
      const name = key();
      expect(await subject.store.get(name)).toBeUndefined();
      await subject.store.put(name, '{"verifier":"v"}', 60_000);
      expect(await subject.store.get(name)).toBe('{"verifier":"v"}');
      expect(await subject.store.take(name)).toBe('{"verifier":"v"}');
      expect(await subject.store.take(name)).toBeUndefined();
      expect(await subject.store.get(name)).toBeUndefined();
    });

    it('lets exactly one of many concurrent takers have the value', async () => {
      const name = key();
      await subject.store.put(name, 'once', 60_000);
      const taken = await Promise.all(Array.from({ length: 20 }, () => subject.store.take(name)));
      expect(taken.filter((value) => value === 'once')).toHaveLength(1);
    });

    it('forgets a value once it expires', async () => {
      const name = key();
      await subject.store.put(name, 'short', 50);
      await subject.elapse(250);
      expect(await subject.store.take(name)).toBeUndefined();
    });
  });

  const consoleSessionStores = implementations<ConsoleSessionStore>(
    { name: 'RedisConsoleSessionStore', open: async () => redisSubject((redis) => new RedisConsoleSessionStore(redis)) },
    { name: 'MemoryConsoleSessionStore', open: async () => memorySubject((clock) => new MemoryConsoleSessionStore(clock)) },
  );

  describe.each(consoleSessionStores)('ConsoleSessionStore contract: $name', (implementation) => {
    let subject: Subject<ConsoleSessionStore>;

    beforeAll(async () => {
      subject = await implementation.open();
    });

    afterAll(() => subject.close());

    const key = () => sha256Hex(randomUUID());
    const record: ConsoleSessionRecord = {
      subjectId: ALICE.subjectId,
      issuer: ALICE.issuer,
      externalId: ALICE.externalId,
      email: ALICE.email,
      name: ALICE.name,
      organizationId: 'acme',
      connector: 'acme-oidc',
      csrfToken: 'csrf-token-of-the-session',
      createdAt: at(0),
      lastSeenAt: at(0),
    };

    it('keeps a session until it is removed, and says whether there was one to remove', async () => {
      const name = key();
      expect(await subject.store.get(name)).toBeUndefined();
      await subject.store.create(name, record, 60_000, 120_000);
      expect(await subject.store.get(name)).toEqual(record);
      expect(await subject.store.remove(name)).toBe(true);
      expect(await subject.store.get(name)).toBeUndefined();
      expect(await subject.store.remove(name)).toBe(false);
    });

    it('refreshes a live session, and never brings back one that was removed', async () => {
      const name = key();
      await subject.store.create(name, record, 60_000, 120_000);
      expect(await subject.store.refresh(name, { ...record, lastSeenAt: at(60) }, 60_000)).toBe(true);
      expect(await subject.store.get(name)).toEqual({ ...record, lastSeenAt: at(60) });
      await subject.store.remove(name);
      expect(await subject.store.refresh(name, { ...record, lastSeenAt: at(120) }, 60_000)).toBe(false);
      expect(await subject.store.get(name)).toBeUndefined();
    });

    it("removes every other session of the person, and no one else's", async () => {
    const person = { ...record, subjectId: randomUUID() };
    const [kept, other, third, closed] = [key(), key(), key(), key()];
    for (const name of [kept, other, third, closed]) await subject.store.create(name, person, 60_000, 120_000);
    const stranger = key();
    await subject.store.create(stranger, { ...record, subjectId: randomUUID() }, 60_000, 120_000);
    await subject.store.remove(closed);
    expect(await subject.store.removeOthers(person.subjectId, kept)).toBe(2);
    expect(await subject.store.get(kept)).toEqual(person);
    for (const name of [other, third]) expect(await subject.store.get(name)).toBeUndefined();
    expect(await subject.store.get(stranger)).toBeDefined();
    expect(await subject.store.removeOthers(person.subjectId, kept)).toBe(0);
    expect(await subject.store.removeOthers(randomUUID(), kept)).toBe(0);
  });

  it('forgets a session once its lifetime passes', async () => {
      const name = key();
      await subject.store.create(name, record, 50, 120_000);
      await subject.elapse(250);
      expect(await subject.store.get(name)).toBeUndefined();
      expect(await subject.store.refresh(name, record, 60_000)).toBe(false);
    });
  });

  const tokenCacheStores = implementations<TokenCacheStore>(
    {
      name: 'RedisTokenCacheStore',
      open: async () => {
        const subject = redisSubject((redis) => new RedisTokenCacheStore(redis));
        // The store's own subscriber connection goes first.
        const close = async () => {
          await subject.store.onApplicationShutdown();
          await subject.close();
        };
        return { ...subject, close };
      },
    },
    { name: 'MemoryTokenCacheStore', open: async () => memorySubject((clock) => new MemoryTokenCacheStore(clock)) },
  );

  describe.each(tokenCacheStores)('TokenCacheStore contract: $name', (implementation) => {
    let subject: Subject<TokenCacheStore>;
    const heard: string[] = [];

    beforeAll(async () => {
      subject = await implementation.open();
      await subject.store.subscribe((hashes) => heard.push(...hashes), () => undefined);
    });

    afterAll(() => subject.close());

    const hash = () => randomUUID().replace(/-/g, '');

    it('keeps a row, and never replaces one that is there', async () => {
      const token = hash();
      expect(await subject.store.get(token)).toBeUndefined();
      await subject.store.set(token, '{"row":1}', 60_000);
      await subject.store.set(token, '{"row":2}', 60_000);
      expect(await subject.store.get(token)).toBe('{"row":1}');
    });

    it('marks an invalidated token, so a row read before the revocation cannot be cached after it', async () => {
      const token = hash();
      await subject.store.set(token, '{"live":true}', 60_000);
      await subject.store.invalidate([token], 200);
      expect(await subject.store.get(token)).toBe(INVALIDATED);
      await subject.store.set(token, '{"live":true}', 60_000);
      expect(await subject.store.get(token)).toBe(INVALIDATED);

      await subject.elapse(400);
      expect(await subject.store.get(token)).toBeUndefined();
    });

    it('announces invalidated hashes to its subscribers, who have heard them by the time it resolves', async () => {
      const tokens = [hash(), hash()];
      expect(await subject.store.invalidate(tokens, 60_000)).toEqual({ unconfirmed: 0 });
      expect(heard.slice(-2)).toEqual(tokens);
    });
  });

  const counterStores = implementations<CounterStore>(
    { name: 'RedisCounterStore', open: async () => redisSubject((redis) => new RedisCounterStore(redis)) },
    { name: 'MemoryCounterStore', open: async () => memorySubject((clock) => new MemoryCounterStore(clock)) },
  );

  describe.each(counterStores)('CounterStore contract: $name', (implementation) => {
    let subject: Subject<CounterStore>;

    beforeAll(async () => {
      subject = await implementation.open();
    });

    afterAll(() => subject.close());

    const key = () => `failed-user-codes:${randomUUID()}`;

    it('reads an unknown counter as zero with no window', async () => {
      expect(await subject.store.read(key())).toEqual({ count: 0, resetInMs: 0 });
    });

    it('counts up within one window', async () => {
      const counter = key();
      const counts = [];
      for (let i = 0; i < 3; i++) {
        const result = await subject.store.increment(counter, 60_000);
        expect(result.resetInMs).toBeGreaterThan(0);
        expect(result.resetInMs).toBeLessThanOrEqual(60_000);
        counts.push(result.count);
      }
      expect(counts).toEqual([1, 2, 3]);
      const read = await subject.store.read(counter);
      expect(read.count).toBe(3);
      expect(read.resetInMs).toBeGreaterThan(0);
      expect(read.resetInMs).toBeLessThanOrEqual(60_000);
    });

    it('keeps counters apart', async () => {
      const first = key();
      const second = key();
      await subject.store.increment(first, 60_000);
      await subject.store.increment(first, 60_000);
      expect((await subject.store.increment(second, 60_000)).count).toBe(1);
      expect((await subject.store.read(first)).count).toBe(2);
    });

    it('counts every one of many concurrent increments', async () => {
      const counter = key();
      const results = await Promise.all(Array.from({ length: 20 }, () => subject.store.increment(counter, 60_000)));
      expect(results.map((result) => result.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect((await subject.store.read(counter)).count).toBe(20);
    });

    it('keeps a fixed window: later increments do not extend it', async () => {
      const counter = key();
      await subject.store.increment(counter, 1000);
      await subject.elapse(300);
      expect((await subject.store.increment(counter, 1000)).resetInMs).toBeLessThanOrEqual(750);
      expect((await subject.store.read(counter)).resetInMs).toBeLessThanOrEqual(750);
    });

    it('starts again from one after the window', async () => {
      const counter = key();
      await subject.store.increment(counter, 50);
      await subject.store.increment(counter, 50);
      await subject.elapse(250);
      expect(await subject.store.read(counter)).toEqual({ count: 0, resetInMs: 0 });
      expect((await subject.store.increment(counter, 50)).count).toBe(1);
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  // Rate-limit storage (@nestjs/throttler)

  const throttlerStorages = implementations<ThrottlerStorage>(
    {
      name: 'RedisThrottlerStorage',
      open: async () => redisSubject((redis) => new RedisThrottlerStorage(redis)),
    },
    {
      name: 'ThrottlerStorageService',
      open: async () => {
        const store = new ThrottlerStorageService();
        return { store, elapse: sleep, close: async () => store.onApplicationShutdown() };
      },
    },
  );

  describe.each(throttlerStorages)('rate-limit storage contract: $name', (implementation) => {
    let subject: Subject<ThrottlerStorage>;

    beforeAll(async () => {
      subject = await implementation.open();
    });

    afterAll(() => subject.close());

    /** What ThrottlerGuard passes as the key: one per route, named limit and tracker (here: the name and a tracker). */
    const guardKey = (name: string, tracker = `203.0.113.7-${randomUUID()}`) => `${name}-${tracker}`;

    it('counts hits and blocks once the limit is passed', async () => {
      const key = guardKey('device-code-ip');
      for (let hit = 1; hit <= 3; hit++) {
        const record = await subject.store.increment(key, 60_000, 3, 60_000, 'device-code-ip');
        expect(record).toMatchObject({ totalHits: hit, isBlocked: false });
        expect(record.timeToExpire).toBeGreaterThanOrEqual(1);
        expect(record.timeToExpire).toBeLessThanOrEqual(60);
      }
      for (let extra = 0; extra < 2; extra++) {
        const blocked = await subject.store.increment(key, 60_000, 3, 60_000, 'device-code-ip');
        expect(blocked.isBlocked).toBe(true);
        expect(blocked.totalHits).toBeGreaterThan(3);
        // Becomes Retry-After.
        expect(blocked.timeToBlockExpire).toBeGreaterThanOrEqual(1);
        expect(blocked.timeToBlockExpire).toBeLessThanOrEqual(60);
      }
    });

    it('keeps trackers and named limits apart', async () => {
      const tracker = `203.0.113.8-${randomUUID()}`;
      await subject.store.increment(guardKey('login-ip', tracker), 60_000, 1, 60_000, 'login-ip');
      expect((await subject.store.increment(guardKey('login-ip', tracker), 60_000, 1, 60_000, 'login-ip')).isBlocked).toBe(true);
      expect(await subject.store.increment(guardKey('lookup-ip', tracker), 60_000, 1, 60_000, 'lookup-ip')).toMatchObject({
        totalHits: 1,
        isBlocked: false,
      });
      expect(await subject.store.increment(guardKey('login-ip'), 60_000, 1, 60_000, 'login-ip')).toMatchObject({
        totalHits: 1,
        isBlocked: false,
      });
    });

    it('lets requests through again once the block and the window are over', async () => {
      const key = guardKey('approval-ip');
      await subject.store.increment(key, 100, 1, 100, 'approval-ip');
      expect((await subject.store.increment(key, 100, 1, 100, 'approval-ip')).isBlocked).toBe(true);
      await subject.elapse(350);
      expect(await subject.store.increment(key, 100, 1, 100, 'approval-ip')).toMatchObject({ totalHits: 1, isBlocked: false });
    });
  });

  describe('Redis stores write only under their key prefix', () => {
    it('puts every key of every store under the prefix, and leaves none after closing', async () => {
      const subject = redisSubject((redis) => ({
        flows: new RedisDeviceFlowStore(redis),
        once: new RedisOnceStore(redis),
        counters: new RedisCounterStore(redis),
        throttler: new RedisThrottlerStorage(redis),
        outbox: new RedisAuditOutboxStore(redis),
        consoleSessions: new RedisConsoleSessionStore(redis),
      }));
      const flow = newFlow();
      await subject.store.flows.create(flow, RETAIN_MS, '{}');
      await subject.store.outbox.take('drainer', 10, 60_000);
      await subject.store.outbox.lag(Date.now());
      await subject.store.flows.poll(flow.deviceCodeHash, flow.clientId, at(0), LEASE_MS);
      await subject.store.once.consume('nonce', 60_000);
      await subject.store.counters.increment('failed', 60_000);
      await subject.store.throttler.increment('203.0.113.9', 60_000, 1, 60_000, 'lookup-ip');
      await subject.store.throttler.increment('203.0.113.9', 60_000, 1, 60_000, 'lookup-ip');
      await subject.store.consoleSessions.create('session-hash', { subjectId: 'subject-id', createdAt: 0 } as ConsoleSessionRecord, 60_000, 60_000);

      const sharded = redisUrl().startsWith('redis-cluster:');
      const keys = (await redisKeys(subject.prefix, redisUrl())).map((key) => key.slice(subject.prefix.length)).sort();
      expect(keys).toEqual(
        [
          sharded ? `flow:${shardTagOf(flow.deviceCodeHash)}:${flow.deviceCodeHash}` : `flow:${flow.deviceCodeHash}`,
          `user-code:${flow.userCodeHash}`,
          ...(sharded ? SHARD_TAGS.map(auditOutboxShardKey) : ['audit-outbox']),
          'once:nonce',
          'count:failed',
          'throttle:{203.0.113.9:lookup-ip}:hits',
          'throttle:{203.0.113.9:lookup-ip}:blocked',
          'console-session:session-hash',
          'console-sessions-of:subject-id',
        ].sort(),
      );
      await subject.close();
      expect(await redisKeys(subject.prefix, redisUrl())).toEqual([]);
    });
  });
}
