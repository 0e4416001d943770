import { Cluster } from 'ioredis';
import { auditOutboxShardKey } from '../audit/audit-outbox.store';
import { shardTagOf } from '../redis/cluster-shards';
import type { RedisConnection } from '../redis/redis-connection';
import type { DeviceFlow } from './device-flow.store';
import { RedisDeviceFlowStore } from './redis-device-flow.store';

/** A Redis Cluster connection without servers: the create's two steps on a Cluster, and what happens when the second fails. */
function clusterConnection(createInShard: jest.Mock) {
  const calls = { set: jest.fn().mockResolvedValue('OK'), del: jest.fn().mockResolvedValue(1), createInShard };
  const connection = Object.assign(Object.create(Cluster.prototype) as object, {
    defineCommand: () => undefined,
    set: calls.set,
    del: calls.del,
    deviceFlowCreateInShard: createInShard,
  });
  return { connection: connection as unknown as RedisConnection, calls };
}

const flow: DeviceFlow = {
  deviceCodeHash: 'device-code-hash',
  userCodeHash: 'user-code-hash',
  clientId: 'cli',
  scopes: ['read'],
  deviceLabel: '',
  status: 'pending',
  createdAt: 1_000,
  expiresAt: 601_000,
  interval: 5,
  requestIp: '203.0.113.5',
  userAgent: 'cli/1.0',
};

describe('RedisDeviceFlowStore.create on a Redis Cluster', () => {
  it('claims the user code, then writes the flow and its event into the slot of its shard', async () => {
    const { connection, calls } = clusterConnection(jest.fn().mockResolvedValue(null));
    expect(await new RedisDeviceFlowStore(connection).create(flow, 900_000, '{"type":"device_code.issued"}')).toBe(true);
    expect(calls.set).toHaveBeenCalledWith('user-code:user-code-hash', 'device-code-hash', 'PX', 600_000, 'NX');
    const tag = shardTagOf('device-code-hash');
    expect(calls.createInShard.mock.calls[0].slice(0, 4)).toEqual([
      `flow:${tag}:device-code-hash`,
      auditOutboxShardKey(tag),
      900_000,
      '{"type":"device_code.issued"}',
    ]);
    expect(calls.del).not.toHaveBeenCalled();
  });

  it('writes nothing more when the user code is taken', async () => {
    const { connection, calls } = clusterConnection(jest.fn());
    calls.set.mockResolvedValue(null);
    expect(await new RedisDeviceFlowStore(connection).create(flow, 900_000, '{}')).toBe(false);
    expect(calls.createInShard).not.toHaveBeenCalled();
  });

  it('takes the claim back when the flow cannot be written, and fails', async () => {
    const { connection, calls } = clusterConnection(jest.fn().mockRejectedValue(new Error('CLUSTERDOWN The cluster is down')));
    await expect(new RedisDeviceFlowStore(connection).create(flow, 900_000, '{}')).rejects.toThrow('CLUSTERDOWN');
    expect(calls.del).toHaveBeenCalledWith('user-code:user-code-hash');
  });
});
