import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { Clock } from '../common/clock';
import { ExpiringMap } from '../redis/expiring-map';

/**
 * The validation cache shared by all instances (Redis), and the channel on
 * which a revocation tells every instance to drop a token at once. Keys are
 * token hashes; a value is the token's row as JSON.
 */
export abstract class TokenCacheStore {
  abstract get(tokenHash: string): Promise<string | undefined>;
  abstract set(tokenHash: string, record: string, ttlMs: number): Promise<void>;
  /** Deletes the shared entries and announces the hashes to every instance. */
  abstract invalidate(tokenHashes: string[]): Promise<void>;
  /**
   * Calls `onInvalidated` with every announced hash, and `onGap` whenever
   * announcements may have been missed (the subscription was cut off).
   */
  abstract subscribe(onInvalidated: (tokenHashes: string[]) => void, onGap: () => void): Promise<void>;
}

/** Dev mode: one process, so the channel is an event emitter. */
@Injectable()
export class MemoryTokenCacheStore extends TokenCacheStore implements OnApplicationShutdown {
  private readonly entries: ExpiringMap<string>;
  private readonly channel = new EventEmitter();

  constructor(clock: Clock) {
    super();
    this.entries = new ExpiringMap(clock);
  }

  async get(tokenHash: string): Promise<string | undefined> {
    return this.entries.get(tokenHash);
  }

  async set(tokenHash: string, record: string, ttlMs: number): Promise<void> {
    this.entries.set(tokenHash, record, ttlMs);
  }

  async invalidate(tokenHashes: string[]): Promise<void> {
    for (const hash of tokenHashes) this.entries.delete(hash);
    this.channel.emit('invalidated', tokenHashes);
  }

  async subscribe(onInvalidated: (tokenHashes: string[]) => void): Promise<void> {
    this.channel.on('invalidated', onInvalidated);
  }

  onApplicationShutdown(): void {
    this.entries.close();
    this.channel.removeAllListeners();
  }
}
