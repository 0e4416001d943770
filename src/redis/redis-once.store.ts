import { Injectable } from '@nestjs/common';
import { CounterStore, OnceStore, ValueStore } from './once.store';
import type { RedisConnection } from './redis-connection';

@Injectable()
export class RedisOnceStore extends OnceStore {
  constructor(private readonly redis: RedisConnection) {
    super();
  }

  async consume(key: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(`once:${key}`, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK';
  }

  async isConsumed(key: string): Promise<boolean> {
    return (await this.redis.exists(`once:${key}`)) === 1;
  }
}

const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return { count, redis.call('PTTL', KEYS[1]) }`;

@Injectable()
export class RedisCounterStore extends CounterStore {
  constructor(private readonly redis: RedisConnection) {
    super();
  }

  async increment(key: string, windowMs: number) {
    const [count, ttl] = (await this.redis.eval(INCREMENT, 1, `count:${key}`, windowMs)) as [number, number];
    return { count, resetInMs: Math.max(0, ttl) };
  }

  async read(key: string) {
    const [count, ttl] = (await this.redis.multi().get(`count:${key}`).pttl(`count:${key}`).exec()) ?? [];
    return { count: Number(count?.[1] ?? 0), resetInMs: Math.max(0, Number(ttl?.[1] ?? 0)) };
  }
}

@Injectable()
export class RedisValueStore extends ValueStore {
  constructor(private readonly redis: RedisConnection) {
    super();
  }

  async put(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(`value:${key}`, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(`value:${key}`)) ?? undefined;
  }

  async take(key: string): Promise<string | undefined> {
    return (await this.redis.getdel(`value:${key}`)) ?? undefined;
  }
}
