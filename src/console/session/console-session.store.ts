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
 * Console sessions by the hash of their id. `refresh` writes only over a
 * session that still exists, so a request racing a sign-out never brings
 * the session back.
 */
export abstract class ConsoleSessionStore {
  abstract create(key: string, record: ConsoleSessionRecord, ttlMs: number): Promise<void>;
  abstract get(key: string): Promise<ConsoleSessionRecord | undefined>;
  abstract refresh(key: string, record: ConsoleSessionRecord, ttlMs: number): Promise<boolean>;
  /** True when there was a session to remove. */
  abstract remove(key: string): Promise<boolean>;
}

@Injectable()
export class MemoryConsoleSessionStore extends ConsoleSessionStore implements OnApplicationShutdown {
  private readonly sessions: ExpiringMap<ConsoleSessionRecord>;

  constructor(clock: Clock) {
    super();
    this.sessions = new ExpiringMap(clock);
  }

  async create(key: string, record: ConsoleSessionRecord, ttlMs: number): Promise<void> {
    this.sessions.set(key, { ...record }, ttlMs);
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

  onApplicationShutdown(): void {
    this.sessions.close();
  }
}
