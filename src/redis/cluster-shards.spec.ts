import { SHARD_TAGS, SHARDS, shardTagOf, slotOf } from './cluster-shards';

describe('cluster shards', () => {
  it('hashes keys as Redis Cluster does (CLUSTER KEYSLOT)', () => {
    expect(slotOf('foo')).toBe(12182);
    expect(slotOf('123456789')).toBe(12739);
  });

  it('has one tag per sixteenth of the slots, so even slot ranges hold the shards evenly', () => {
    expect(SHARD_TAGS).toHaveLength(SHARDS);
    const sixteenths = SHARD_TAGS.map((tag) => Math.floor(slotOf(tag.slice(1, -1)) / (16384 / SHARDS)));
    expect(sixteenths).toEqual(Array.from({ length: SHARDS }, (_, shard) => shard));
  });

  it('puts an id in the same shard every time, and spreads ids over all shards', () => {
    expect(shardTagOf('device-code-hash')).toBe(shardTagOf('device-code-hash'));
    const used = new Set(Array.from({ length: 2000 }, (_, n) => shardTagOf(`id-${n}`)));
    expect(used.size).toBe(SHARDS);
  });
});
