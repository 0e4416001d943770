import { randomUUID } from 'node:crypto';
import { createRedisConnection, type RedisConnection } from '../src/redis/redis-connection';
import { ANNOUNCEMENT_CONFIRM_TIMEOUT_MS, RedisTokenCacheStore } from '../src/tokens/redis-token-cache.store';
import { deleteKeys, REDIS_URL } from './support/test-app';

/**
 * Invariant 6 between processes: a revocation is acknowledged only once every
 * instance that received its announcement has dropped the tokens. Two
 * instances' token caches on a real Redis; the second reads its subscription
 * late, as a busy event loop would.
 */
describe('Token invalidation across instances', () => {
  const prefix = `devicegate-test:invalidation:${randomUUID()}:`;
  const connections: RedisConnection[] = [];
  let announcer: RedisTokenCacheStore;
  let listener: RedisTokenCacheStore;
  const events: string[] = [];

  function instance(): RedisTokenCacheStore {
    const redis = createRedisConnection(REDIS_URL, prefix);
    connections.push(redis);
    return new RedisTokenCacheStore(redis);
  }

  /** The listener's subscription socket: paused, it reads nothing until resumed. */
  function listenerSocket(): { pause(): void; resume(): void } {
    return (listener as unknown as { subscriber: { stream: { pause(): void; resume(): void } } }).subscriber.stream;
  }

  beforeAll(async () => {
    announcer = instance();
    listener = instance();
    await announcer.subscribe(() => undefined, () => undefined);
    await listener.subscribe((hashes) => events.push(`dropped ${hashes.join(' ')}`), () => undefined);
  });

  afterAll(async () => {
    await Promise.all([announcer.onApplicationShutdown(), listener.onApplicationShutdown()]);
    await Promise.all(connections.map((redis) => redis.quit()));
    await deleteKeys(prefix);
  });

  it('resolves only after the other instance has dropped the tokens, however late it reads', async () => {
    listenerSocket().pause();
    setTimeout(() => listenerSocket().resume(), 100);
    const outcome = await announcer.invalidate(['a1', 'a2'], 60_000);
    events.push('acknowledged');
    expect(outcome).toEqual({ unconfirmed: 0 });
    expect(events.slice(-2)).toEqual(['dropped a1 a2', 'acknowledged']);
  });

  it('gives up waiting after the timeout and says how many instances did not confirm', async () => {
    listenerSocket().pause();
    const started = Date.now();
    const outcome = await announcer.invalidate(['b1'], 60_000);
    const waited = Date.now() - started;
    listenerSocket().resume();
    expect(outcome).toEqual({ unconfirmed: 1 });
    expect(waited).toBeGreaterThanOrEqual(ANNOUNCEMENT_CONFIRM_TIMEOUT_MS - 5);
    // The instance received it all the same, and drops the tokens as soon as it reads.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events.at(-1)).toBe('dropped b1');
  });

  it('an instance that cannot hear confirmations (its own subscription is down) counts every receiver as unconfirmed', async () => {
    const deaf = instance();
    expect(await deaf.invalidate(['d1'], 60_000)).toEqual({ unconfirmed: 2 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events.at(-1)).toBe('dropped d1');
  });

  it('subscribes again after a reconnect; one that drops again before its SUBSCRIBE is answered leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const subscriber = (listener as unknown as { subscriber: RedisConnection & { stream: { destroy(): void } } }).subscriber;
      const readies: number[] = [];
      const ready = (count: number) =>
        new Promise<void>((resolve) => {
          const seen = () => {
            readies.push(Date.now());
            if (readies.length >= count) {
              subscriber.off('ready', seen);
              resolve();
            }
          };
          subscriber.on('ready', seen);
        });
      // The first reconnect is cut while its SUBSCRIBE is in flight; the second one holds.
      subscriber.once('ready', () => setImmediate(() => subscriber.stream.destroy()));
      const twice = ready(2);
      subscriber.stream.destroy();
      await twice;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await announcer.invalidate(['r1'], 60_000)).toEqual({ unconfirmed: 0 });
      expect(events.at(-1)).toBe('dropped r1');
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('an announcement from an instance that asks no confirmation (an older version) is still heard', async () => {
    const redis = createRedisConnection(REDIS_URL, prefix);
    connections.push(redis);
    await redis.publish(`${prefix}token-invalidations`, 'c1,c2');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events.at(-1)).toBe('dropped c1 c2');
  });
});
