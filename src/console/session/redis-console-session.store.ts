import { Injectable } from '@nestjs/common';
import type { RedisConnection } from '../../redis/redis-connection';
import { type ConsoleSessionRecord, ConsoleSessionStore } from './console-session.store';

const key = (name: string) => `console-session:${name}`;
const ttl = (ms: number) => Math.max(1, Math.ceil(ms));

@Injectable()
export class RedisConsoleSessionStore extends ConsoleSessionStore {
  constructor(private readonly redis: RedisConnection) {
    super();
  }

  async create(name: string, record: ConsoleSessionRecord, ttlMs: number): Promise<void> {
    await this.redis.set(key(name), JSON.stringify(record), 'PX', ttl(ttlMs));
  }

  async get(name: string): Promise<ConsoleSessionRecord | undefined> {
    const value = await this.redis.get(key(name));
    return value ? (JSON.parse(value) as ConsoleSessionRecord) : undefined;
  }

  async refresh(name: string, record: ConsoleSessionRecord, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(key(name), JSON.stringify(record), 'PX', ttl(ttlMs), 'XX')) === 'OK';
  }

  async remove(name: string): Promise<boolean> {
    return (await this.redis.del(key(name))) === 1;
  }
}
