import type { ThrottlerStorage } from '@nestjs/throttler';
import { Cluster } from 'ioredis';
import type { RedisConnection } from './redis-connection';
import { sendAtOnce, TurnBatch } from './turn-batch';

/**
 * Lua: counts one hit in a fixed window and starts a block past the limit;
 * returns hits, window left (ms), blocked (0/1), block left (ms). Shared by
 * the storage's own script and the device-flow create script, which counts a
 * device authorization's limits with its flow.
 */
export const COUNT_HIT_LUA = `
local function countHit(hitsKey, blockKey, windowMs, limit, blockMs)
  local hits = redis.call('INCR', hitsKey)
  local ttl = redis.call('PTTL', hitsKey)
  if ttl <= 0 then
    redis.call('PEXPIRE', hitsKey, windowMs)
    ttl = windowMs
  end
  local blocked = redis.call('PTTL', blockKey)
  if blocked <= 0 and hits > limit then
    redis.call('SET', blockKey, 1, 'PX', blockMs)
    blocked = blockMs
  end
  if blocked < 0 then blocked = 0 end
  return hits, ttl, blocked > 0 and 1 or 0, blocked
end`;

// KEYS hits, block, hits, block, ...; ARGV window ms, limit, block ms for each pair. Returns hits, window left ms,
// blocked (0/1), block left ms for each pair, in order: a key that comes twice counts twice.
const INCREMENT = `${COUNT_HIT_LUA}
local result = {}
for pair = 0, #KEYS / 2 - 1 do
  local at = pair * 4
  result[at + 1], result[at + 2], result[at + 3], result[at + 4] = countHit(KEYS[pair * 2 + 1], KEYS[pair * 2 + 2],
    tonumber(ARGV[pair * 3 + 1]), tonumber(ARGV[pair * 3 + 2]), tonumber(ARGV[pair * 3 + 3]))
end
return result`;

/** The hits and block keys of a throttler key and limit, under one hash tag (one Cluster slot). */
export function throttleKeys(key: string, throttlerName: string): [hits: string, blocked: string] {
  const tag = `throttle:{${key}:${throttlerName}}`;
  return [`${tag}:hits`, `${tag}:blocked`];
}

/** A count's four numbers (COUNT_HIT_LUA) as the throttler storage answers. */
export function toStorageRecord([totalHits, windowMs, isBlocked, blockMs]: number[]): ThrottlerStorageRecord {
  return {
    totalHits,
    timeToExpire: Math.ceil(windowMs / 1000),
    isBlocked: isBlocked === 1,
    timeToBlockExpire: Math.ceil(blockMs / 1000),
  };
}

/** Script calls a batch is split into at most (a script's keys and arguments travel in one command). */
const MAX_BATCH = 200;

export type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface Increment {
  keys: [hits: string, blocked: string];
  windowMs: number;
  limit: number;
  blockMs: number;
}

type ScriptedRedis = RedisConnection & {
  throttlerIncrement(keyCount: number, ...keysThenArgs: (string | number)[]): Promise<number[]>;
};

/**
 * @nestjs/throttler's storage on Redis: fixed windows, counted by one
 * script. On a single Redis (standalone or Sentinel) the increments of
 * every request read in one event-loop turn go out as one script call; on
 * a Cluster, where their keys live in different slots, each goes alone.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly redis: ScriptedRedis;
  private readonly batch?: TurnBatch<Increment, number[]>;

  constructor(redis: RedisConnection) {
    redis.defineCommand('throttlerIncrement', { lua: INCREMENT });
    this.redis = redis as ScriptedRedis;
    if (!(redis instanceof Cluster)) {
      this.batch = new TurnBatch((increments) => this.run(increments), MAX_BATCH);
      sendAtOnce(redis, 'throttlerIncrement');
    }
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    const increment = { keys: throttleKeys(key, throttlerName), windowMs: ttl, limit, blockMs: blockDuration };
    return toStorageRecord(this.batch ? await this.batch.call(increment) : (await this.run([increment]))[0]);
  }

  private async run(increments: Increment[]): Promise<number[][]> {
    const keys: string[] = [];
    const args: number[] = [];
    for (const { keys: [hits, blocked], windowMs, limit, blockMs } of increments) {
      keys.push(hits, blocked);
      args.push(windowMs, limit, blockMs);
    }
    const flat = await this.redis.throttlerIncrement(keys.length, ...keys, ...args);
    return increments.map((_, index) => flat.slice(index * 4, index * 4 + 4));
  }
}
