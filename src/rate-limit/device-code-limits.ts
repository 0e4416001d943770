import { Injectable } from '@nestjs/common';
import { InjectThrottlerStorage, type ThrottlerStorage } from '@nestjs/throttler';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { TooManyRequests } from '../common/oauth-errors';
import type { RequestContext } from '../common/request-context';
import { AppConfig } from '../config/app-config';
import type { ThrottlerStorageRecord } from '../redis/redis-throttler.store';
import { clientTracker, DEVICE_CODE_LIMITS, type LimitName, limitKey, RATE_LIMITS, recordTrip, tooManyRequests } from './rate-limit';

/** The keys the guard gave these limits on the device authorization route: a rolling upgrade keeps counting where it was. */
const SCOPE = 'DeviceAuthorizationController-deviceAuthorization';
/** Blocks this instance remembers at most; past it, the expired ones are forgotten, and all of them if none has expired. */
const MAX_REMEMBERED_BLOCKS = 10_000;

/** One limit a device authorization counts against: the throttler key of its caller and the limit's settings. */
export interface LimitCount {
  name: LimitName;
  key: string;
  limit: number;
  windowMs: number;
  blockMs: number;
}

/** A device authorization's limits, counted once: with its flow when the flow store can, else on their own. */
export class RequestLimits {
  counted = false;

  constructor(
    readonly counts: LimitCount[],
    readonly origin: RequestContext,
  ) {}
}

/**
 * RATE_LIMIT_DEVICE_CODE_PER_IP and _PER_CLIENT. Every device authorization
 * counts against both, as a guard would count it, but the count of a request
 * that gets its code is made by the flow store's create script, in the same
 * Redis step as the flow (a guard would cost a script call of its own); a
 * request refused before (a failed client authentication, a scope not
 * allowed) is counted in the throttler storage on its way out. A caller this
 * instance saw blocked is refused before anything else, until its block ends.
 */
@Injectable()
export class DeviceCodeLimits {
  private readonly limits: { name: LimitName; limit: number; windowMs: number }[];
  /** Throttler key → when its block ends (ms); only an early refusal, the count in Redis decides. */
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    config: AppConfig,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {
    this.limits = DEVICE_CODE_LIMITS.map((key) => ({
      name: RATE_LIMITS[key],
      limit: config.rateLimits[key].limit,
      windowMs: config.rateLimits[key].windowSeconds * 1000,
    }));
  }

  /** The request's counts, per address and per client (body client_id, else the Basic user); a caller known blocked gets 429 now. */
  start(origin: RequestContext, clientId: unknown, authorization: string | undefined): RequestLimits {
    const trackers = [origin.ip, clientTracker(clientId, authorization)];
    const now = this.clock.now();
    const counts = this.limits.map(({ name, limit, windowMs }, index) => {
      const key = limitKey(SCOPE, name, trackers[index]);
      const until = this.blockedUntil.get(key);
      if (until !== undefined && until > now) throw tooManyRequests(Math.ceil((until - now) / 1000));
      return { name, key, limit, windowMs, blockMs: windowMs };
    });
    return new RequestLimits(counts, origin);
  }

  /** Counts the request in the throttler storage, unless it was counted already; 429 if a limit is exceeded. */
  async count(request: RequestLimits): Promise<void> {
    if (request.counted) return;
    request.counted = true;
    const tallies = await Promise.all(
      request.counts.map((count) => this.storage.increment(count.key, count.windowMs, count.limit, count.blockMs, count.name)),
    );
    this.settle(request, tallies);
  }

  /** Reads the request's counts (in its order), made by the flow store or `count`: 429 if a limit is exceeded. */
  settle(request: RequestLimits, tallies: ThrottlerStorageRecord[]): void {
    request.counted = true;
    let refusal: TooManyRequests | undefined;
    tallies.forEach((tally, index) => {
      if (!tally.isBlocked) return;
      const count = request.counts[index];
      this.remember(count.key, tally.timeToBlockExpire);
      recordTrip(this.audit, request.origin, count.name, { ...tally, limit: count.limit, ttl: count.windowMs });
      refusal ??= tooManyRequests(tally.timeToBlockExpire);
    });
    if (refusal) throw refusal;
  }

  /** What a request refused before its count answers with: counted now, a 429 if that exceeds a limit, else its own error. */
  async refused(request: RequestLimits, error: unknown): Promise<unknown> {
    if (request.counted) return error;
    try {
      await this.count(request);
    } catch (limited) {
      if (limited instanceof TooManyRequests) return limited;
    }
    return error;
  }

  /** Remembers a block for its whole seconds but the last, so that this instance never refuses past the block in Redis. */
  private remember(key: string, blockSeconds: number): void {
    if (this.blockedUntil.size >= MAX_REMEMBERED_BLOCKS) {
      const now = this.clock.now();
      for (const [known, until] of this.blockedUntil) if (until <= now) this.blockedUntil.delete(known);
      if (this.blockedUntil.size >= MAX_REMEMBERED_BLOCKS) this.blockedUntil.clear();
    }
    this.blockedUntil.set(key, this.clock.now() + Math.max(0, blockSeconds - 1) * 1000);
  }
}
