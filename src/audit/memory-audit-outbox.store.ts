import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AuditOutboxStore, type OutboxEntry, type OutboxLag } from './audit-outbox.store';

interface Held extends OutboxEntry {
  addedAt: number;
  consumer?: string;
  takenAt?: number;
}

/** The in-process twin of RedisAuditOutboxStore for the embedded dev mode; the in-process stores append to it. */
@Injectable()
export class MemoryAuditOutboxStore extends AuditOutboxStore {
  private readonly entries: Held[] = [];
  private sequence = 0;

  constructor(private readonly clock: Clock) {
    super();
  }

  append(payload: string): void {
    const addedAt = this.clock.now();
    this.entries.push({ id: `${addedAt}-${this.sequence++}`, payload, addedAt });
  }

  async take(consumer: string, count: number, recoverIdleMs?: number): Promise<OutboxEntry[]> {
    const now = this.clock.now();
    const fresh = this.entries.filter((entry) => entry.consumer === undefined);
    const taken = (recoverIdleMs === undefined ? fresh : [...this.unacknowledged(consumer, now, recoverIdleMs), ...fresh]).slice(0, count);
    for (const entry of taken) {
      entry.consumer = consumer;
      entry.takenAt = now;
    }
    return taken.map(({ id, payload }) => ({ id, payload }));
  }

  /** This consumer's entries, then those other consumers took at least `idleMs` ago. */
  private unacknowledged(consumer: string, now: number, idleMs: number): Held[] {
    const own = this.entries.filter((entry) => entry.consumer === consumer);
    const abandoned = this.entries.filter(
      (entry) => entry.consumer !== undefined && entry.consumer !== consumer && now - (entry.takenAt as number) >= idleMs,
    );
    return [...own, ...abandoned];
  }

  async acknowledge(ids: string[]): Promise<void> {
    const gone = new Set(ids);
    for (let index = this.entries.length - 1; index >= 0; index--) {
      if (gone.has(this.entries[index].id)) this.entries.splice(index, 1);
    }
  }

  async lag(now: number): Promise<OutboxLag> {
    const oldest = this.entries[0];
    return { length: this.entries.length, oldestAgeMs: oldest ? Math.max(0, now - oldest.addedAt) : 0 };
  }

  onApplicationShutdown(): void {
    this.entries.length = 0;
  }
}
