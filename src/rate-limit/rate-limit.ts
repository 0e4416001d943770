import { applyDecorators, type ExecutionContext, Injectable, Logger, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  type ThrottlerGenerateKeyFunction,
  type ThrottlerGetTrackerFunction,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { AuditService } from '../audit/audit.service';
import { ApiErrors } from '../common/api-responses';
import { sha256Hex } from '../common/crypto';
import { originOf } from '../common/http';
import { TemporarilyUnavailable, TooManyRequests } from '../common/oauth-errors';
import type { RequestContext } from '../common/request-context';
import type { RateLimits } from '../config/app-config';
import type { ThrottlerStorageRecord } from '../redis/redis-throttler.store';

/** The named limits of @nestjs/throttler; each route opts into the ones it needs with @RateLimited(). */
export const RATE_LIMITS = {
  deviceCodePerIp: 'device-code-ip',
  deviceCodePerClient: 'device-code-client',
  lookupPerIp: 'lookup-ip',
  loginPerIp: 'login-ip',
  approvalPerIp: 'approval-ip',
} as const satisfies Partial<Record<keyof RateLimits, string>>;

export type LimitName = (typeof RATE_LIMITS)[keyof typeof RATE_LIMITS];

/** Counted by DeviceCodeLimits, with the flow when the flow store can. */
export const DEVICE_CODE_LIMITS: (keyof typeof RATE_LIMITS)[] = ['deviceCodePerIp', 'deviceCodePerClient'];

/** The client a device-code request speaks for: body client_id, else the Basic user. */
export function clientTracker(clientId: unknown, authorization: unknown): string {
  if (typeof clientId === 'string') return clientId;
  const match = /^Basic\s+(\S+)/i.exec(String(authorization ?? ''));
  return match ? Buffer.from(match[1], 'base64').toString('utf8').split(':')[0] : 'anonymous';
}

/** The throttler key of a limit's caller on a route (`scope`: its controller and handler), hashed. */
export function limitKey(scope: string, name: string, tracker: string): string {
  return sha256Hex(`${scope}-${name}-${tracker}`);
}

/** The 429 of a tripped limit. */
export function tooManyRequests(retryAfterSeconds: number): TooManyRequests {
  return new TooManyRequests('Too many requests; wait a moment and try again', retryAfterSeconds);
}

const tripLogger = new Logger('RateLimit');

/** Records the request that starts a block (sampled: the rest of the block is not recorded). */
export function recordTrip(
  audit: AuditService,
  origin: RequestContext,
  limit: string,
  detail: ThrottlerStorageRecord & { limit: number; ttl: number },
): void {
  if (detail.totalHits !== detail.limit + 1) return;
  audit
    .record({
      origin,
      type: 'rate_limit.tripped',
      outcome: 'failure',
      details: { limit, max: detail.limit, window_seconds: detail.ttl / 1000, blocked_seconds: detail.timeToBlockExpire },
    })
    .catch((error: Error) => tripLogger.warn({ msg: 'rate-limit trip not recorded', error: error.message }));
}

/** The limits RateLimitGuard applies; the device-code limits are DeviceCodeLimits' own. */
export function throttlers(limits: RateLimits): ThrottlerOptions[] {
  return (Object.entries(RATE_LIMITS) as [keyof typeof RATE_LIMITS, LimitName][])
    .filter(([key]) => !DEVICE_CODE_LIMITS.includes(key))
    .map(([key, name]) => ({ name, limit: limits[key].limit, ttl: limits[key].windowSeconds * 1000, setHeaders: false }));
}

@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly audit: AuditService,
  ) {
    super(options, storage, reflector);
  }

  /** Each route's limits, resolved from its metadata on its first request (they are static). */
  private readonly plans = new WeakMap<object, PlannedLimit[]>();

  /**
   * Every limit the route opted into starts at once and they are awaited
   * together, so their Redis calls share one round trip; the base guard
   * would look up five names' metadata and await each limit in turn on
   * every request.
   */
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const plan = this.planFor(context);
    if (plan.length === 1) return this.check({ context, ...plan[0] });
    return (await Promise.all(plan.map((limit) => this.check({ context, ...limit })))).every(Boolean);
  }

  private planFor(context: ExecutionContext): PlannedLimit[] {
    const handler = context.getHandler();
    const known = this.plans.get(handler);
    if (known) return known;
    const names = this.reflector.get(RouteLimits, handler) ?? [];
    const plan = this.throttlers
      .filter((throttler) => names.includes(throttler.name as LimitName))
      .map((throttler) => ({
        throttler,
        limit: throttler.limit as number,
        ttl: throttler.ttl as number,
        blockDuration: (throttler.blockDuration ?? throttler.ttl) as number,
        getTracker: throttler.getTracker ?? (this.commonOptions.getTracker as ThrottlerGetTrackerFunction),
        generateKey: throttler.generateKey ?? (this.commonOptions.generateKey as ThrottlerGenerateKeyFunction),
      }));
    this.plans.set(handler, plan);
    return plan;
  }

  private async check(request: ThrottlerRequest): Promise<boolean> {
    try {
      return await super.handleRequest(request);
    } catch (error) {
      if (error instanceof Tripped) {
        recordTrip(this.audit, originOf(request.context.switchToHttp().getRequest<object>()), request.throttler.name as string, error.detail);
        throw tooManyRequests(error.detail.timeToBlockExpire);
      }
      throw error;
    }
  }

  /** The base guard's key (a SHA-256 of class, handler, limit and tracker), hashed without a Hash object per call. */
  protected override generateKey(context: ExecutionContext, suffix: string, name: string): string {
    return limitKey(`${context.getClass().name}-${context.getHandler().name}`, name, suffix);
  }

  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    throw new Tripped(detail);
  }
}

class Tripped extends Error {
  constructor(readonly detail: ThrottlerLimitDetail) {
    super('rate limit tripped');
  }
}

/** The named limits a route applies; read by RateLimitGuard. */
const RouteLimits = Reflector.createDecorator<LimitName[]>();

/** Applies exactly the named limits to a route. */
export function RateLimited(...names: LimitName[]) {
  return applyDecorators(RouteLimits(names), UseGuards(RateLimitGuard), ApiErrors(TooManyRequests, TemporarilyUnavailable));
}

type PlannedLimit = Omit<ThrottlerRequest, 'context'>;
