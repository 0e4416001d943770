/**
 * Storage port of the audit outbox: audit events that travel with the Redis
 * state they describe (written by the same atomic step of another store,
 * e.g. the device flow's create) and wait there until a drainer copies them
 * into audit_events. Entries a drainer took and never acknowledged (it died)
 * are handed to another drainer once they have been idle long enough.
 */

/**
 * The stream the Redis stores append to, under the connection's key prefix;
 * on a Redis Cluster one stream per shard, `audit-outbox:{tag}`, in the slot
 * of the flows of that shard (see cluster-shards.ts).
 */
export const AUDIT_OUTBOX_KEY = 'audit-outbox';
export const auditOutboxShardKey = (shardTag: string) => `${AUDIT_OUTBOX_KEY}:${shardTag}`;
export const AUDIT_OUTBOX_GROUP = 'audit-drainers';

export interface OutboxEntry {
  /** The store's id of the entry (a stream id): what `acknowledge` takes. */
  id: string;
  /** The event as AuditService serialized it. */
  payload: string;
}

export interface OutboxLag {
  /** Entries not yet acknowledged (waiting or taken by a drainer). */
  length: number;
  /** Age of the oldest of them in milliseconds; 0 when there is none. */
  oldestAgeMs: number;
}

export abstract class AuditOutboxStore {
  /**
   * Up to `count` entries for `consumer`. With `recoverIdleMs`: first those
   * it took before and has not acknowledged (a write that failed), then
   * those another drainer took and left unacknowledged for that long, then
   * entries no drainer took yet. Without it, only the last. Each group in
   * the order its entries entered, to the millisecond: on a Redis Cluster,
   * entries of one millisecond in different streams come in stream order
   * (one flow's entries share a stream, so they keep their own order).
   */
  abstract take(consumer: string, count: number, recoverIdleMs?: number): Promise<OutboxEntry[]>;

  /** The entries are in audit_events: they leave the outbox. */
  abstract acknowledge(ids: string[]): Promise<void>;

  abstract lag(now: number): Promise<OutboxLag>;
}
