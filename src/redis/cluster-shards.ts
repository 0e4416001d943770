/**
 * Redis Cluster runs a script only on keys of one slot. Keys that one script
 * touches together carry the same hash tag (`{…}`): the tag of one of
 * SHARDS shards, chosen from an id that every caller of the script knows.
 * The tags are picked so that shard i hashes into the i-th sixteenth of the
 * 16384 slots, so a cluster whose masters hold even slot ranges (what
 * `redis-cli --cluster create` makes) holds the shards evenly too.
 */
export const SHARDS = 16;

const SLOTS = 16384;

/** The CRC16 (XMODEM) of Redis Cluster's key hashing. */
function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The slot of a key without a hash tag, or of the text between braces. */
export function slotOf(text: string): number {
  return crc16(text) % SLOTS;
}

function tagInRange(shard: number): string {
  const width = SLOTS / SHARDS;
  for (let n = 0; ; n++) {
    const tag = `s${shard}.${n}`;
    if (Math.floor(slotOf(tag) / width) === shard) return tag;
  }
}

/** The hash tags of the shards, braces included. */
export const SHARD_TAGS: readonly string[] = Array.from({ length: SHARDS }, (_, shard) => `{${tagInRange(shard)}}`);

/** The hash tag of the shard an id belongs to. */
export function shardTagOf(id: string): string {
  return SHARD_TAGS[crc16(id) % SHARDS];
}
