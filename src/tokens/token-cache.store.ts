import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { Clock } from '../common/clock';
import { ExpiringMap } from '../redis/expiring-map';

/** What an invalidated token's shared entry holds until it expires. */
export const INVALIDATED = 'invalidated';

/**
 * The validation cache shared by all instances (Redis), and the channel on
 * which a revocation tells every instance to drop a token at once. Keys are
 * token hashes; a value is the token's row as JSON, or INVALIDATED.
 */
export abstract class TokenCacheStore {
  abstract get(tokenHash: string): Promise<string | undefined>;
  /**
   * Stores a row unless the hash has an entry already. A row read from
   * Postgres just before a revocation therefore never replaces the revocation's
   * INVALIDATED mark: a row under one hash only ever changes by being revoked.
   */
  abstract set(tokenHash: string, record: string, ttlMs: number): Promise<void>;
  /**
   * Marks the hashes INVALIDATED for `markMs` and announces them to every
   * instance; resolves once every instance that heard the announcement has
   * dropped them, or says how many did not confirm in time.
   */
  abstract invalidate(tokenHashes: string[], markMs: number): Promise<{ unconfirmed: number }>;
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
    this.entries.setIfAbsent(tokenHash, record, ttlMs);
  }

  async invalidate(tokenHashes: string[], markMs: number): Promise<{ unconfirmed: number }> {
    for (const hash of tokenHashes) this.entries.set(hash, INVALIDATED, markMs);
    // Listeners run before emit returns: every one has dropped the tokens.
    this.channel.emit('invalidated', tokenHashes);
    return { unconfirmed: 0 };
  }

  async subscribe(onInvalidated: (tokenHashes: string[]) => void): Promise<void> {
    this.channel.on('invalidated', onInvalidated);
  }

  onApplicationShutdown(): void {
    this.entries.close();
    this.channel.removeAllListeners();
  }
}
