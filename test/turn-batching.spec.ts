import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { AUDIT_OUTBOX_KEY } from '../src/audit/audit-outbox.store';
import type { DeviceFlow } from '../src/device-flow/device-flow.store';
import { RedisDeviceFlowStore } from '../src/device-flow/redis-device-flow.store';
import { createRedisConnection, type RedisConnection } from '../src/redis/redis-connection';
import { RedisThrottlerStorage } from '../src/redis/redis-throttler.store';
import { TurnBatch } from '../src/redis/turn-batch';
import { REDIS_URL } from './support/test-app';

/**
 * The calls of one event-loop turn share one Redis script call: the rate
 * limits of every request read in that turn, and the flows they issue.
 * Against a real Redis, under a key prefix of this run.
 */
describe('Batching per event-loop turn', () => {
  const prefix = `turn-batching-${randomUUID()}:`;
  let redis: RedisConnection;

  beforeAll(() => {
    redis = createRedisConnection(REDIS_URL, prefix);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys.map((key) => key.slice(prefix.length)));
    redis.disconnect();
  });

  /** Counts the script calls a store makes through the connection (ioredis hands the method on to its auto-pipelines, as `this`). */
  function countCalls(command: string): { calls: number } {
    const counter = { calls: 0 };
    const methods = redis as unknown as Record<string, (...args: unknown[]) => unknown>;
    const original = methods[command];
    methods[command] = function (this: unknown, ...args: unknown[]) {
      if (this === redis) counter.calls += 1;
      return original.apply(this, args);
    };
    return counter;
  }

  it('TurnBatch runs the calls of one turn together, splits at its maximum, and fails every call of a failed run', async () => {
    const runs: number[][] = [];
    const batch = new TurnBatch(async (inputs: number[]) => {
      runs.push(inputs);
      if (inputs.includes(-1)) throw new Error('refused');
      return inputs.map((input) => input * 2);
    }, 4);
    expect(await Promise.all([1, 2, 3, 4, 5, 6].map((input) => batch.call(input)))).toEqual([2, 4, 6, 8, 10, 12]);
    expect(runs).toEqual([
      [1, 2, 3, 4],
      [5, 6],
    ]);
    // The next turn is a batch of its own.
    expect(await batch.call(7)).toBe(14);
    expect(runs.at(-1)).toEqual([7]);

    const failed = await Promise.allSettled([batch.call(8), batch.call(-1)]);
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
  });

  it('counts the rate-limit hits of one turn in one script call, in order, blocking past the limit', async () => {
    const storage = new RedisThrottlerStorage(redis);
    const script = countCalls('throttlerIncrement');
    const limited = Array.from({ length: 30 }, () => storage.increment('address-1', 60_000, 10, 30_000, 'per-ip'));
    const other = storage.increment('address-2', 60_000, 10, 30_000, 'per-ip');
    const records = await Promise.all(limited);
    expect(script.calls).toBe(1);
    expect(records.map((record) => record.totalHits)).toEqual(Array.from({ length: 30 }, (_, index) => index + 1));
    expect(records.map((record) => record.isBlocked)).toEqual([...Array(10).fill(false), ...Array(20).fill(true)]);
    expect(records[10].timeToBlockExpire).toBe(30);
    expect(records[0].timeToExpire).toBe(60);
    expect(await other).toMatchObject({ totalHits: 1, isBlocked: false });

    // A later turn sees the block the earlier one set.
    expect(await storage.increment('address-1', 60_000, 10, 30_000, 'per-ip')).toMatchObject({ totalHits: 31, isBlocked: true });
  });

  function newFlow(userCodeHash: string): DeviceFlow {
    return {
      deviceCodeHash: randomUUID(),
      userCodeHash,
      clientId: 'cli',
      scopes: ['read'],
      deviceLabel: '',
      status: 'pending',
      createdAt: Date.now(),
      expiresAt: Date.now() + 600_000,
      interval: 5,
      requestIp: '203.0.113.5',
      userAgent: 'cli/1.0',
    };
  }

  it('writes the flows issued in one turn, each with its audit event, in one script call; a taken user code writes nothing', async () => {
    const store = new RedisDeviceFlowStore(redis);
    const script = countCalls('deviceFlowCreateAudited');
    const flows = Array.from({ length: 40 }, () => newFlow(randomUUID()));
    // The same user code twice in one turn: the first flow gets it, the second is told to draw again.
    const rival = newFlow(flows[0].userCodeHash);
    const created = await Promise.all([...flows, rival].map((flow, index) => store.create(flow, 900_000, `{"flow":${index}}`)));
    expect(script.calls).toBe(1);
    expect(created).toEqual([...Array(40).fill(true), false]);

    for (const flow of flows) expect(await store.findByUserCode(flow.userCodeHash)).toMatchObject({ deviceCodeHash: flow.deviceCodeHash });
    expect(await store.findByDeviceCode(rival.deviceCodeHash)).toBeUndefined();
    const events = (await redis.xrange(AUDIT_OUTBOX_KEY, '-', '+')) as [string, string[]][];
    expect(events.map(([, fields]) => fields[1])).toEqual(flows.map((_, index) => `{"flow":${index}}`));
  });

  it('writes a turn\'s script call at once: ioredis does not hold it for an auto-pipeline of the next turn', async () => {
    const storage = new RedisThrottlerStorage(redis);
    const store = new RedisDeviceFlowStore(redis);
    const pending = [storage.increment('address-3', 60_000, 10, 30_000, 'per-ip'), store.create(newFlow(randomUUID()), 900_000, '{}')];
    // This runs right after the batches' own turn-end callbacks (queued before it), which made their script calls.
    const heldAfterBatches = await new Promise<number>((resolve) => setImmediate(() => resolve((redis as Redis).autoPipelineQueueSize)));
    expect(heldAfterBatches).toBe(0);
    expect(await Promise.all(pending)).toEqual([expect.objectContaining({ totalHits: 1 }), true]);
    // Other commands still share a write per turn.
    const other = redis.get('unrelated');
    expect((redis as Redis).autoPipelineQueueSize).toBe(1);
    await other;
  });
});
