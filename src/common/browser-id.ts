import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { randomToken, sha256Hex } from './crypto';
import { readCookie, type ResponseHeaders, serializeCookie } from './http';
import { normalizeIp } from './request-context';

/**
 * A random id a browser keeps for as long as it lets us (Chromium caps a
 * cookie at 400 days), set by /device and /console: an approval records the
 * hash of the id of the browser that approved, so the console can tell the
 * person which authorizations "this browser" approved. It authenticates
 * nothing; only its hash is stored.
 */
export const BROWSER_ID_COOKIE = 'devicegate_browser';
const BROWSER_ID = /^[\w-]{43}$/;
const MAX_AGE_SECONDS = 400 * 24 * 3600;

/** Where an approval came from: the approving browser's address and software, and the hash of its browser id when it had one. */
export interface ApprovalOrigin {
  ip: string;
  userAgent: string;
  browserHash?: string;
}

/** The stored form of a browser's id; undefined when the request carries none (or a malformed one). */
export function browserIdHash(cookie: string | undefined): string | undefined {
  return cookie && BROWSER_ID.test(cookie) ? sha256Hex(cookie) : undefined;
}

/** Gives a browser without a well-formed id a new one (path `/`, so the approve call and the console both see it). */
export function ensureBrowserId(cookie: string | undefined, headers: ResponseHeaders, secure: boolean): void {
  if (browserIdHash(cookie)) return;
  headers.append('Set-Cookie', serializeCookie(BROWSER_ID_COOKIE, randomToken(32), { path: '/', maxAgeSeconds: MAX_AGE_SECONDS, secure }));
}

/** The browser a request comes from, as an approval records it. */
export const ApprovingBrowser = createParamDecorator((_data: unknown, context: ExecutionContext): ApprovalOrigin => {
  const request = context.switchToHttp().getRequest<{ ip?: string; headers: Record<string, string | string[] | undefined> }>();
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join('; ') : value;
  };
  const browserHash = browserIdHash(readCookie(header('cookie'), BROWSER_ID_COOKIE));
  return { ip: normalizeIp(request.ip), userAgent: (header('user-agent') ?? '').slice(0, 512), ...(browserHash ? { browserHash } : {}) };
});
