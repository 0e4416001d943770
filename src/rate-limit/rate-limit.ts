import { applyDecorators, type ExecutionContext, Injectable, Logger, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  SkipThrottle,
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
import { TemporarilyUnavailable, TooManyRequests } from '../common/oauth-errors';
import type { RateLimits } from '../config/app-config';

/** The named limits of @nestjs/throttler; each route opts into the ones it needs with @RateLimited(). */
export const RATE_LIMITS = {
  deviceCodePerIp: 'device-code-ip',
  deviceCodePerClient: 'device-code-client',
  lookupPerIp: 'lookup-ip',
  loginPerIp: 'login-ip',
  approvalPerIp: 'approval-ip',
} as const satisfies Partial<Record<keyof RateLimits, string>>;

type LimitName = (typeof RATE_LIMITS)[keyof typeof RATE_LIMITS];

interface TrackedRequest {
  ip?: string;
  body?: { client_id?: unknown };
  headers: Record<string, string | string[] | undefined>;
}

/** The client a device-code request speaks for: body client_id, else the Basic user. */
function clientTracker(request: TrackedRequest): string {
  if (typeof request.body?.client_id === 'string') return request.body.client_id;
  const match = /^Basic\s+(\S+)/i.exec(String(request.headers.authorization ?? ''));
  return match ? Buffer.from(match[1], 'base64').toString('utf8').split(':')[0] : 'anonymous';
}

export function throttlers(limits: RateLimits): ThrottlerOptions[] {
  return (Object.entries(RATE_LIMITS) as [keyof typeof RATE_LIMITS, LimitName][]).map(([key, name]) => ({
    name,
    limit: limits[key].limit,
    ttl: limits[key].windowSeconds * 1000,
    setHeaders: false,
    getTracker: key === 'deviceCodePerClient' ? (request) => clientTracker(request as TrackedRequest) : undefined,
  }));
}

@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private readonly auditLogger = new Logger('RateLimit');

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly audit: AuditService,
  ) {
    super(options, storage, reflector);
  }

  private readonly checks = new WeakMap<object, Promise<boolean>[]>();

  /**
   * The base guard awaits each named limit in turn; here every limit of the
   * route starts at once and they are awaited together, so their Redis
   * calls share one round trip.
   */
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<object>();
    const checks: Promise<boolean>[] = [];
    this.checks.set(request, checks);
    try {
      await super.canActivate(context);
      return (await Promise.all(checks)).every(Boolean);
    } finally {
      this.checks.delete(request);
    }
  }

  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    const check = this.check(request);
    const checks = this.checks.get(request.context.switchToHttp().getRequest<object>());
    if (!checks) return check;
    // Swallowed here, raised by canActivate's Promise.all.
    check.catch(() => undefined);
    checks.push(check);
    return true;
  }

  private async check(request: ThrottlerRequest): Promise<boolean> {
    try {
      return await super.handleRequest(request);
    } catch (error) {
      if (error instanceof Tripped) {
        // Sampled: the request that starts a block is recorded, the rest of the block is not.
        if (error.detail.totalHits === error.detail.limit + 1) this.recordTrip(request.throttler.name, error.detail);
        throw new TooManyRequests('Too many requests; wait a moment and try again', error.detail.timeToBlockExpire);
      }
      throw error;
    }
  }

  /** The base guard's key (a SHA-256 of class, handler, limit and tracker), hashed without a Hash object per call. */
  protected override generateKey(context: ExecutionContext, suffix: string, name: string): string {
    return sha256Hex(`${context.getClass().name}-${context.getHandler().name}-${name}-${suffix}`);
  }

  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    throw new Tripped(detail);
  }

  private recordTrip(limit: string | undefined, detail: ThrottlerLimitDetail): void {
    this.audit
      .record({
        type: 'rate_limit.tripped',
        outcome: 'failure',
        details: { limit, max: detail.limit, window_seconds: detail.ttl / 1000, blocked_seconds: detail.timeToBlockExpire },
      })
      .catch((error: Error) => this.auditLogger.warn({ msg: 'rate-limit trip not recorded', error: error.message }));
  }
}

class Tripped extends Error {
  constructor(readonly detail: ThrottlerLimitDetail) {
    super('rate limit tripped');
  }
}

/** Applies exactly the named limits to a route. */
export function RateLimited(...names: LimitName[]) {
  const skipped = Object.fromEntries(
    Object.values(RATE_LIMITS)
      .filter((name) => !names.includes(name))
      .map((name) => [name, true]),
  );
  return applyDecorators(SkipThrottle(skipped), UseGuards(RateLimitGuard), ApiErrors(TooManyRequests, TemporarilyUnavailable));
}
