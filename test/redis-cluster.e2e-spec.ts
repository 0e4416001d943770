import { startRedisCluster, type RedisCluster } from './support/redis-servers';
import { describeStoreContracts } from './support/store-contracts';

describe('on a Redis Cluster of three masters with a replica each', () => {
  let cluster: RedisCluster;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 1 });
  }, 60_000);

  afterAll(() => cluster?.stop());

  describe('the store contracts', () => describeStoreContracts(() => cluster.url, { memoryTwins: false }));
});
