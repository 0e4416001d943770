import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { ExpiringMap } from '../../redis/expiring-map';
import type { Approver } from '../../tokens/approver';

/** What the server keeps of one console session; the browser holds only its id. */
export interface ConsoleSessionRecord extends Approver {
  connector: string;
  csrfToken: string;
  /** Epoch milliseconds of the sign-in and of the last request, for the absolute and idle lifetimes. */
  createdAt: number;
  lastSeenAt: number;
}

/**
 * Console sessions by the hash of their id, and which sessions each person
 * opened. `refresh` writes only over a session that still exists, so a
 * request racing a sign-out never brings the session back.
 */
export abstract class ConsoleSessionStore {
  /** `personTtlMs`: how long the person's list of sessions is kept, at least as long as any session of theirs may live. */
  abstract create(key: string, record: ConsoleSessionRecord, ttlMs: number, personTtlMs: number): Promise<void>;
  abstract get(key: string): Promise<ConsoleSessionRecord | undefined>;
  abstract refresh(key: string, record: ConsoleSessionRecord, ttlMs: number): Promise<boolean>;
  /** True when there was a session to remove. */
  abstract remove(key: string): Promise<boolean>;
  /** Removes every session of the person but `keep`; how many there were. */
  abstract removeOthers(subjectId: string, keep: string): Promise<number>;
}

@Injectable()
export class MemoryConsoleSessionStore extends ConsoleSessionStore implements OnApplicationShutdown {
  private readonly sessions: ExpiringMap<ConsoleSessionRecord>;
  private readonly people: ExpiringMap<Set<string>>;

  constructor(clock: Clock) {
    super();
    this.sessions = new ExpiringMap(clock);
    this.people = new ExpiringMap(clock);
  }

  async create(key: string, record: ConsoleSessionRecord, ttlMs: number, personTtlMs: number): Promise<void> {
    this.sessions.set(key, { ...record }, ttlMs);
    const live = [...(this.people.get(record.subjectId) ?? [])].filter((other) => this.sessions.get(other) !== undefined);
    this.people.set(record.subjectId, new Set([...live, key]), personTtlMs);
  }

  async get(key: string): Promise<ConsoleSessionRecord | undefined> {
    const record = this.sessions.get(key);
    return record && { ...record };
  }

  async refresh(key: string, record: ConsoleSessionRecord, ttlMs: number): Promise<boolean> {
    if (this.sessions.get(key) === undefined) return false;
    this.sessions.set(key, { ...record }, ttlMs);
    return true;
  }

  async remove(key: string): Promise<boolean> {
    const existed = this.sessions.get(key) !== undefined;
    this.sessions.delete(key);
    return existed;
  }

  async removeOthers(subjectId: string, keep: string): Promise<number> {
    let removed = 0;
    for (const key of this.people.get(subjectId) ?? []) {
      if (key !== keep && (await this.remove(key))) removed += 1;
    }
    return removed;
  }

  onApplicationShutdown(): void {
    this.sessions.close();
    this.people.close();
  }
}
