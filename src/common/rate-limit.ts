import { applyDecorators, type ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { SkipThrottle, ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerOptions } from '@nestjs/throttler';
import type { RateLimits } from '../config/app-config';
import { TooManyRequests } from './oauth-errors';

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
  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail) {
    throw new TooManyRequests('Too many requests; wait a moment and try again', detail.timeToBlockExpire);
  }
}

/** Applies exactly the named limits to a route. */
export function RateLimited(...names: LimitName[]) {
  const skipped = Object.fromEntries(
    Object.values(RATE_LIMITS)
      .filter((name) => !names.includes(name))
      .map((name) => [name, true]),
  );
  return applyDecorators(SkipThrottle(skipped), UseGuards(RateLimitGuard));
}
