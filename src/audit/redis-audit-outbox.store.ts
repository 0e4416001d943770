import { Injectable } from '@nestjs/common';
import type { RedisConnection } from '../redis/redis-connection';
import { AUDIT_OUTBOX_GROUP, AUDIT_OUTBOX_KEY, AuditOutboxStore, type OutboxEntry, type OutboxLag } from './audit-outbox.store';

type StreamEntry = [id: string, fields: string[]] | null;

// KEYS[1] outbox; ARGV group. A script, so the key gets the connection's prefix (XGROUP's key is not prefixed).
const CREATE_GROUP = `
local ok, error = pcall(redis.call, 'XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
if not ok and not string.find(tostring(error.err or error), 'BUSYGROUP') then return redis.error_reply(error.err or tostring(error)) end
return 1`;

type ScriptedRedis = RedisConnection & { auditOutboxCreateGroup(key: string, group: string): Promise<number> };

/** The outbox as a Redis stream read through one consumer group, so any number of instances drain it safely. */
@Injectable()
export class RedisAuditOutboxStore extends AuditOutboxStore {
  private groupReady = false;
  private readonly redis: ScriptedRedis;

  constructor(redis: RedisConnection) {
    super();
    redis.defineCommand('auditOutboxCreateGroup', { numberOfKeys: 1, lua: CREATE_GROUP });
    this.redis = redis as ScriptedRedis;
  }

  async take(consumer: string, count: number, idleMs: number): Promise<OutboxEntry[]> {
    try {
      return await this.takeInGroup(consumer, count, idleMs);
    } catch (error) {
      // A Redis that restarted without persistence has lost the group along with the stream.
      if (!String((error as Error).message).includes('NOGROUP')) throw error;
      this.groupReady = false;
      return this.takeInGroup(consumer, count, idleMs);
    }
  }

  private async takeInGroup(consumer: string, count: number, idleMs: number): Promise<OutboxEntry[]> {
    await this.ensureGroup();
    const own = toEntries(await this.read(consumer, count, '0'));
    if (own.length >= count) return own;
    const [, abandoned] = (await this.redis.xautoclaim(AUDIT_OUTBOX_KEY, AUDIT_OUTBOX_GROUP, consumer, idleMs, '0-0', 'COUNT', count)) as [
      string,
      StreamEntry[],
    ];
    const entries = own.concat(toEntries(abandoned).slice(0, count - own.length));
    if (entries.length >= count) return entries;
    return entries.concat(toEntries(await this.read(consumer, count - entries.length, '>')));
  }

  /** `0`: this consumer's unacknowledged entries; `>`: entries no consumer took yet. */
  private async read(consumer: string, count: number, from: '0' | '>'): Promise<StreamEntry[]> {
    const reply = (await this.redis.xreadgroup('GROUP', AUDIT_OUTBOX_GROUP, consumer, 'COUNT', count, 'STREAMS', AUDIT_OUTBOX_KEY, from)) as
      | [string, StreamEntry[]][]
      | null;
    return reply?.[0]?.[1] ?? [];
  }

  async acknowledge(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.redis
      .multi()
      .xack(AUDIT_OUTBOX_KEY, AUDIT_OUTBOX_GROUP, ...ids)
      .xdel(AUDIT_OUTBOX_KEY, ...ids)
      .exec();
  }

  async lag(now: number): Promise<OutboxLag> {
    const [length, oldest] = await Promise.all([
      this.redis.xlen(AUDIT_OUTBOX_KEY),
      this.redis.xrange(AUDIT_OUTBOX_KEY, '-', '+', 'COUNT', 1),
    ]);
    const addedAt = oldest[0] ? Number(oldest[0][0].split('-')[0]) : now;
    return { length, oldestAgeMs: Math.max(0, now - addedAt) };
  }

  private async ensureGroup(): Promise<void> {
    if (this.groupReady) return;
    await this.redis.auditOutboxCreateGroup(AUDIT_OUTBOX_KEY, AUDIT_OUTBOX_GROUP);
    this.groupReady = true;
  }
}

function toEntries(entries: StreamEntry[]): OutboxEntry[] {
  const result: OutboxEntry[] = [];
  for (const entry of entries) {
    if (!entry) continue;
    const [id, fields] = entry;
    const at = fields.indexOf('event');
    if (at >= 0) result.push({ id, payload: fields[at + 1] });
  }
  return result;
}
