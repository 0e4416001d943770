import type { ThrottlerStorage } from '@nestjs/throttler';
import type { RedisConnection } from './redis-connection';

// KEYS[1] hits, KEYS[2] block; ARGV window ms, limit, block ms
const INCREMENT = `
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return { hits, ttl, 1, blocked } end
if hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], 1, 'PX', ARGV[3])
  return { hits, ttl, 1, tonumber(ARGV[3]) }
end
return { hits, ttl, 0, 0 }`;

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

type ScriptedRedis = RedisConnection & {
  throttlerIncrement(hits: string, block: string, windowMs: number, limit: number, blockMs: number): Promise<number[]>;
};

/**
 * @nestjs/throttler's storage on Redis: fixed windows, one round trip per
 * limit, the script sent once and then called by its SHA.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly redis: ScriptedRedis;

  constructor(redis: RedisConnection) {
    redis.defineCommand('throttlerIncrement', { numberOfKeys: 2, lua: INCREMENT });
    this.redis = redis as ScriptedRedis;
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    // One hash tag, so both keys live in one Cluster slot.
    const tag = `throttle:{${key}:${throttlerName}}`;
    const [totalHits, windowMs, isBlocked, blockMs] = await this.redis.throttlerIncrement(
      `${tag}:hits`,
      `${tag}:blocked`,
      ttl,
      limit,
      blockDuration,
    );
    return {
      totalHits,
      timeToExpire: Math.ceil(windowMs / 1000),
      isBlocked: isBlocked === 1,
      timeToBlockExpire: Math.ceil(blockMs / 1000),
    };
  }
}
