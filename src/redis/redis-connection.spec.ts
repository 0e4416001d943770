import { Cluster } from 'ioredis';
import { createRedisConnection, duplicateForSubscriber } from './redis-connection';

describe('createRedisConnection', () => {
  const lazy = { lazyConnect: true };

  it('makes a standalone connection from redis:// with the key prefix and fail-fast options', () => {
    const redis = createRedisConnection('redis://:pw@cache.internal:6380/2', 'dg:', lazy);
    expect(redis).not.toBeInstanceOf(Cluster);
    expect(redis.options).toMatchObject({
      host: 'cache.internal',
      port: 6380,
      db: 2,
      password: 'pw',
      keyPrefix: 'dg:',
      maxRetriesPerRequest: 0,
      commandTimeout: 1000,
    });
    redis.disconnect();
  });

  it('queues commands until the first connection is ready, and fails them at once afterwards', async () => {
    const redis = createRedisConnection(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', 'dg-spec:', lazy);
    try {
      const early = redis.ping();
      await redis.connect().catch(() => undefined);
      await expect(early).resolves.toBe('PONG');
      expect(redis.options.enableOfflineQueue).toBe(false);
      const subscriber = duplicateForSubscriber(redis);
      expect(subscriber.options.enableOfflineQueue).toBe(true);
      subscriber.disconnect();
    } finally {
      redis.disconnect();
    }
  });

  it('reads a Sentinel URL: sentinels, master name, db, passwords', () => {
    const redis = createRedisConnection(
      'redis-sentinel://:secret@s1.internal:26379,s2.internal/primary?db=3&sentinelPassword=spw',
      'dg:',
      lazy,
    );
    expect(redis.options).toMatchObject({
      sentinels: [
        { host: 's1.internal', port: 26379 },
        { host: 's2.internal', port: 26379 },
      ],
      name: 'primary',
      db: 3,
      password: 'secret',
      sentinelPassword: 'spw',
      keyPrefix: 'dg:',
    });
    redis.disconnect();
  });

  it('reads a Cluster URL: the seed nodes and the key prefix', () => {
    const cluster = createRedisConnection('redis-cluster://n1.internal:7000,n2.internal:7001', 'dg:', lazy) as Cluster;
    expect(cluster).toBeInstanceOf(Cluster);
    expect((cluster as unknown as { startupNodes: unknown }).startupNodes).toEqual([
      { host: 'n1.internal', port: 7000 },
      { host: 'n2.internal', port: 7001 },
    ]);
    expect(cluster.options.keyPrefix).toBe('dg:');
    cluster.disconnect();
  });
});
