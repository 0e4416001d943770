import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { IntrospectionClient, IntrospectionError, type IntrospectionOutcome } from './introspection-client';
import { DEVICEGATE_AUTH_OPTIONS, type ResolvedDevicegateAuthOptions } from './options';
import { TokenCache } from './token-cache';
import type { DevicegateTokenInfo } from './token-info';

/** Replaces the clock of the cache and of the expiry check (tests). */
export const DEVICEGATE_AUTH_CLOCK = Symbol('DEVICEGATE_AUTH_CLOCK');

/** The same failure is logged at most once per this many milliseconds, with a count of the ones left out. */
const LOG_INTERVAL_MS = 10_000;

/**
 * Says whether a token is active, asking devicegate at most once per token per
 * cache lifetime: answers are cached under the SHA-256 of the token (never the
 * token), active ones for `cacheTtlSeconds` but never past `exp`, inactive ones
 * for `negativeCacheTtlSeconds`; concurrent checks of one token share one call;
 * failures are never cached.
 */
@Injectable()
export class DevicegateTokenVerifier {
  private readonly logger = new Logger('DevicegateAuthModule');
  private readonly client: IntrospectionClient;
  private readonly cache: TokenCache<DevicegateTokenInfo | null>;
  private readonly inFlight = new Map<string, Promise<DevicegateTokenInfo | null>>();
  /** Bumped by forget() and clear(): an answer that was in flight before is not cached. */
  private generation = 0;
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();
  private readonly now: () => number;

  constructor(
    @Inject(DEVICEGATE_AUTH_OPTIONS) private readonly options: ResolvedDevicegateAuthOptions,
    @Optional() @Inject(DEVICEGATE_AUTH_CLOCK) clock?: () => number,
  ) {
    this.now = clock ?? Date.now;
    this.client = new IntrospectionClient(options, this.now);
    this.cache = new TokenCache(options.maxCacheEntries, this.now);
  }

  /**
   * The token's introspection result when it is active, null when it is not.
   * Throws IntrospectionError when devicegate cannot tell (unreachable, timeout,
   * 5xx, refused credentials): the caller must refuse the request.
   */
  async verify(token: string): Promise<DevicegateTokenInfo | null> {
    const key = cacheKey(token);
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const pending = this.inFlight.get(key);
    if (pending) return pending;

    const generation = this.generation;
    const call = this.client
      .introspect(token)
      .then((outcome) => this.remember(key, outcome, generation))
      .catch((error: unknown) => {
        if (error instanceof IntrospectionError) this.logFailure(error);
        throw error;
      })
      .finally(() => {
        if (this.inFlight.get(key) === call) this.inFlight.delete(key);
      });
    this.inFlight.set(key, call);
    return call;
  }

  /** Drops what is cached about one token (e.g. after the service learns it was revoked). */
  forget(token: string): void {
    const key = cacheKey(token);
    this.generation += 1;
    this.cache.delete(key);
    this.inFlight.delete(key);
  }

  /** Drops every cached answer. */
  clear(): void {
    this.generation += 1;
    this.cache.clear();
    this.inFlight.clear();
  }

  private remember(key: string, outcome: IntrospectionOutcome, generation: number): DevicegateTokenInfo | null {
    const result = outcome.active ? outcome.token : null;
    if (generation !== this.generation) return result;
    if (outcome.active) {
      const ttl = Math.min(this.options.cacheTtlMs, outcome.token.exp * 1000 - this.now());
      this.cache.set(key, result, ttl);
    } else {
      this.cache.set(key, null, this.options.negativeCacheTtlMs);
    }
    return result;
  }

  private logFailure(error: IntrospectionError): void {
    const now = this.now();
    const last = this.lastLogged.get(error.reason);
    if (last && now - last.at < LOG_INTERVAL_MS) {
      last.suppressed += 1;
      return;
    }
    const suppressed = last?.suppressed ? ` (${last.suppressed} more since the last report)` : '';
    this.lastLogged.set(error.reason, { at: now, suppressed: 0 });
    const message = `token introspection at ${this.options.introspectionEndpoint} failed, answering 503: ${error.message}${suppressed}`;
    if (error.reason === 'client_rejected' || error.reason === 'issuer_mismatch') this.logger.error(message);
    else this.logger.warn(message);
  }
}

/** What the cache is keyed by: never the token itself. */
export function cacheKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
