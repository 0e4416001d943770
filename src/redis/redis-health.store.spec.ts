import { Cluster } from 'ioredis';
import type { RedisConnection } from './redis-connection';
import { RedisHealthStore } from './redis-health.store';

/** A connection that answers what a spec tells it to, without a server. */
function connection(fields: Record<string, unknown>, cluster = false): RedisConnection {
  const base = cluster ? Object.create(Cluster.prototype) : {};
  return Object.assign(base, { on: () => base, options: {}, ...fields }) as RedisConnection;
}

describe('RedisHealthStore.unavailability', () => {
  it('is nothing without Redis (embedded mode) and for a standalone Redis that answers PING', async () => {
    expect(await new RedisHealthStore(null).unavailability()).toBeUndefined();
    expect(await new RedisHealthStore(connection({ ping: async () => 'PONG' })).unavailability()).toBeUndefined();
  });

  it('says unreachable when Redis does not answer', async () => {
    const down = connection({ ping: async () => Promise.reject(new Error('Connection is closed.')) });
    expect(await new RedisHealthStore(down).unavailability()).toBe('redis unreachable');
  });

  it('reads CLUSTER INFO of a Cluster: ok is ready, fail means lost slots', async () => {
    const info = (state: string) => connection({ cluster: async () => `cluster_enabled:1\r\ncluster_state:${state}\r\ncluster_slots_assigned:16384\r\n` }, true);
    expect(await new RedisHealthStore(info('ok')).unavailability()).toBeUndefined();
    expect(await new RedisHealthStore(info('fail')).unavailability()).toBe('redis cluster has lost slots (cluster_state:fail)');
  });

  it('asks a Sentinel-named master for its ROLE: a replica is no master', async () => {
    const named = (role: string) => connection({ options: { sentinels: [{ host: 's1', port: 26379 }] }, role: async () => [role, 0, []] });
    expect(await new RedisHealthStore(named('master')).unavailability()).toBeUndefined();
    expect(await new RedisHealthStore(named('slave')).unavailability()).toBe('redis has no master');
  });
});
