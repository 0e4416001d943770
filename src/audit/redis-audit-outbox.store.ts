import { Injectable } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { SHARD_TAGS } from '../redis/cluster-shards';
import type { RedisConnection } from '../redis/redis-connection';
import {
  AUDIT_OUTBOX_GROUP,
  AUDIT_OUTBOX_KEY,
  AuditOutboxStore,
  auditOutboxShardKey,
  type OutboxEntry,
  type OutboxLag,
} from './audit-outbox.store';

type StreamEntry = [id: string, fields: string[]] | null;

/** What one stream gave a drainer, in the order `take` promises. */
interface Taken {
  own: OutboxEntry[];
  abandoned: OutboxEntry[];
  fresh: OutboxEntry[];
}

// KEYS[1] outbox; ARGV group. A script, so the key gets the connection's prefix (XGROUP's key is not prefixed).
const CREATE_GROUP = `
local ok, error = pcall(redis.call, 'XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
if not ok and not string.find(tostring(error.err or error), 'BUSYGROUP') then return redis.error_reply(error.err or tostring(error)) end
return 1`;

type ScriptedRedis = RedisConnection & { auditOutboxCreateGroup(key: string, group: string): Promise<number> };

/**
 * The outbox as Redis streams read through one consumer group each, so any
 * number of instances drain them safely: one stream, or on a Redis Cluster
 * one per shard (each in the slot of the flows that append to it). An
 * entry's id is `<stream index>/<stream entry id>`.
 */
@Injectable()
export class RedisAuditOutboxStore extends AuditOutboxStore {
  private groupsReady = false;
  /** Where the next fresh-only take starts, so no stream waits behind a busy one. */
  private nextStream = 0;
  private readonly redis: ScriptedRedis;
  private readonly streams: string[];

  constructor(redis: RedisConnection) {
    super();
    redis.defineCommand('auditOutboxCreateGroup', { numberOfKeys: 1, lua: CREATE_GROUP });
    this.redis = redis as ScriptedRedis;
    this.streams = redis instanceof Cluster ? SHARD_TAGS.map(auditOutboxShardKey) : [AUDIT_OUTBOX_KEY];
  }

  async take(consumer: string, count: number, recoverIdleMs?: number): Promise<OutboxEntry[]> {
    try {
      return await this.takeInGroups(consumer, count, recoverIdleMs);
    } catch (error) {
      // A Redis that restarted without persistence has lost the group along with the stream.
      if (!String((error as Error).message).includes('NOGROUP')) throw error;
      this.groupsReady = false;
      return this.takeInGroups(consumer, count, recoverIdleMs);
    }
  }

  /** Across streams: own entries, then abandoned ones, then fresh ones, each by the time they entered. */
  private async takeInGroups(consumer: string, count: number, recoverIdleMs?: number): Promise<OutboxEntry[]> {
    await this.ensureGroups();
    if (recoverIdleMs === undefined) return this.takeFresh(consumer, count);
    const taken = await Promise.all(this.streams.map((_, index) => this.takeInGroup(index, consumer, count, recoverIdleMs)));
    const merged = (pick: (from: Taken) => OutboxEntry[]) => taken.flatMap(pick).sort(byEntryTime);
    return [...merged((from) => from.own), ...merged((from) => from.abandoned), ...merged((from) => from.fresh)].slice(0, count);
  }

  /**
   * Fresh entries only, stream after stream until `count` are taken, each
   * call starting at the next stream: nothing is taken that is not returned.
   */
  private async takeFresh(consumer: string, count: number): Promise<OutboxEntry[]> {
    const fresh: OutboxEntry[] = [];
    const first = this.nextStream;
    this.nextStream = (first + 1) % this.streams.length;
    for (let step = 0; step < this.streams.length && fresh.length < count; step++) {
      const index = (first + step) % this.streams.length;
      fresh.push(...toEntries(index, await this.read(this.streams[index], consumer, count - fresh.length, '>')));
    }
    // One stream reads in entry order already.
    return this.streams.length === 1 ? fresh : fresh.sort(byEntryTime);
  }

  private async takeInGroup(index: number, consumer: string, count: number, idleMs: number): Promise<Taken> {
    const stream = this.streams[index];
    const own = toEntries(index, await this.read(stream, consumer, count, '0'));
    if (own.length >= count) return { own, abandoned: [], fresh: [] };
    const [, claimed] = (await this.redis.xautoclaim(stream, AUDIT_OUTBOX_GROUP, consumer, idleMs, '0-0', 'COUNT', count)) as [
      string,
      StreamEntry[],
    ];
    const abandoned = toEntries(index, claimed).slice(0, count - own.length);
    const missing = count - own.length - abandoned.length;
    if (missing <= 0) return { own, abandoned, fresh: [] };
    return { own, abandoned, fresh: toEntries(index, await this.read(stream, consumer, missing, '>')) };
  }

  /** `0`: this consumer's unacknowledged entries; `>`: entries no consumer took yet. */
  private async read(stream: string, consumer: string, count: number, from: '0' | '>'): Promise<StreamEntry[]> {
    const reply = (await this.redis.xreadgroup('GROUP', AUDIT_OUTBOX_GROUP, consumer, 'COUNT', count, 'STREAMS', stream, from)) as
      | [string, StreamEntry[]][]
      | null;
    return reply?.[0]?.[1] ?? [];
  }

  async acknowledge(ids: string[]): Promise<void> {
    const byStream = new Map<string, string[]>();
    for (const id of ids) {
      const at = id.indexOf('/');
      const stream = this.streams[Number(id.slice(0, at))];
      const entryIds = byStream.get(stream);
      if (entryIds) entryIds.push(id.slice(at + 1));
      else byStream.set(stream, [id.slice(at + 1)]);
    }
    await Promise.all(
      [...byStream].map(([stream, entryIds]) =>
        this.redis
          .multi()
          .xack(stream, AUDIT_OUTBOX_GROUP, ...entryIds)
          .xdel(stream, ...entryIds)
          .exec(),
      ),
    );
  }

  async lag(now: number): Promise<OutboxLag> {
    const streams = await Promise.all(
      this.streams.map((stream) => Promise.all([this.redis.xlen(stream), this.redis.xrange(stream, '-', '+', 'COUNT', 1)])),
    );
    let length = 0;
    let addedAt = now;
    for (const [streamLength, oldest] of streams) {
      length += streamLength;
      if (oldest[0]) addedAt = Math.min(addedAt, Number(oldest[0][0].split('-')[0]));
    }
    return { length, oldestAgeMs: Math.max(0, now - addedAt) };
  }

  private async ensureGroups(): Promise<void> {
    if (this.groupsReady) return;
    await Promise.all(this.streams.map((stream) => this.redis.auditOutboxCreateGroup(stream, AUDIT_OUTBOX_GROUP)));
    this.groupsReady = true;
  }
}

/** Orders entries by their stream entry ids (`<milliseconds>-<sequence>`), whichever stream they come from. */
function byEntryTime(a: OutboxEntry, b: OutboxEntry): number {
  const [aMs, aSequence] = a.id.slice(a.id.indexOf('/') + 1).split('-').map(Number);
  const [bMs, bSequence] = b.id.slice(b.id.indexOf('/') + 1).split('-').map(Number);
  return aMs - bMs || aSequence - bSequence;
}

function toEntries(index: number, entries: StreamEntry[]): OutboxEntry[] {
  const result: OutboxEntry[] = [];
  for (const entry of entries) {
    if (!entry) continue;
    const [id, fields] = entry;
    const at = fields.indexOf('event');
    if (at >= 0) result.push({ id: `${index}/${id}`, payload: fields[at + 1] });
  }
  return result;
}
