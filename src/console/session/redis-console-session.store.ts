import { Injectable } from '@nestjs/common';
import type { RedisConnection } from '../../redis/redis-connection';
import { type ConsoleSessionRecord, ConsoleSessionStore } from './console-session.store';

const key = (name: string) => `console-session:${name}`;
const personKey = (subjectId: string) => `console-sessions-of:${subjectId}`;
const ttl = (ms: number) => Math.max(1, Math.ceil(ms));

@Injectable()
export class RedisConsoleSessionStore extends ConsoleSessionStore {
  constructor(private readonly redis: RedisConnection) {
    super();
  }

  /** The person's set outlives every session in it: each sign-in pushes its end past the newest session's. */
  async create(name: string, record: ConsoleSessionRecord, ttlMs: number, personTtlMs: number): Promise<void> {
    await Promise.all([
      this.redis.set(key(name), JSON.stringify(record), 'PX', ttl(ttlMs)),
      this.redis.sadd(personKey(record.subjectId), name).then(() => this.redis.pexpire(personKey(record.subjectId), ttl(personTtlMs))),
    ]);
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

  /** Key by key (a session and its person's set may sit in different Cluster slots); a session opened meanwhile stays. */
  async removeOthers(subjectId: string, keep: string): Promise<number> {
    const others = (await this.redis.smembers(personKey(subjectId))).filter((name) => name !== keep);
    if (others.length === 0) return 0;
    const removed = await Promise.all(others.map((name) => this.remove(name)));
    await this.redis.srem(personKey(subjectId), ...others);
    return removed.filter(Boolean).length;
  }
}
