import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { InvalidRequest } from './oauth-errors';
import { normalizeIp, type RequestContext, requestContextOf } from './request-context';

/**
 * Adapter-neutral access to what controllers need from the request and
 * response, so no controller depends on Express or Fastify types.
 */
interface AnyRequest {
  ip?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
}

interface AnyResponse {
  append?: (name: string, value: string) => void;
  header: (name: string, value: string) => void;
}

/**
 * The request's id, the caller's address and user agent, as the edge read
 * them once (the address honours TRUST_PROXY through the adapter, never a raw
 * X-Forwarded-For): what the request's audit events record.
 */
export function originOf(request: object): RequestContext {
  const known = requestContextOf(request);
  if (known) return known;
  const { ip, headers } = request as AnyRequest;
  const userAgent = headers['user-agent'];
  return { requestId: '', ip: normalizeIp(ip), userAgent: (Array.isArray(userAgent) ? userAgent[0] : (userAgent ?? '')).slice(0, 512) };
}

export const Origin = createParamDecorator((_data: unknown, context: ExecutionContext): RequestContext =>
  originOf(context.switchToHttp().getRequest<AnyRequest>()),
);

/** One named cookie of the request. */
export const RequestCookie = createParamDecorator((name: string, context: ExecutionContext): string | undefined => {
  const header = context.switchToHttp().getRequest<AnyRequest>().headers.cookie;
  return readCookie(Array.isArray(header) ? header.join('; ') : header, name);
});

/** The request's path and query string, as the client sent them. */
export const RequestPath = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string => context.switchToHttp().getRequest<AnyRequest>().url ?? '/',
);

export interface ResponseHeaders {
  append(name: string, value: string): void;
}

/** Lets a handler add response headers (Set-Cookie) while Nest still writes its return value. */
export const ResponseHeaders = createParamDecorator((_data: unknown, context: ExecutionContext): ResponseHeaders => {
  const response = context.switchToHttp().getResponse<AnyResponse>();
  return {
    append: (name, value) => (response.append ? response.append(name, value) : response.header(name, value)),
  };
});

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) {
      const value = part.slice(separator + 1).trim();
      return value.length > 0 ? value : undefined;
    }
  }
  return undefined;
}

export interface CookieOptions {
  path: string;
  maxAgeSeconds: number;
  secure: boolean;
  httpOnly?: boolean;
  sameSite?: 'Lax' | 'Strict';
}

export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  return [
    `${name}=${value}`,
    `Path=${options.path}`,
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`,
    options.httpOnly === false ? undefined : 'HttpOnly',
    `SameSite=${options.sameSite ?? 'Lax'}`,
    options.secure ? 'Secure' : undefined,
  ]
    .filter(Boolean)
    .join('; ');
}

/**
 * The parameters of an OAuth request, from a form-encoded or JSON body (or
 * the query). RFC 6749 §3.1: a parameter sent twice is an invalid request,
 * and a parameter without a value is treated as omitted.
 */
export class OAuthParams {
  private readonly values: Record<string, unknown>;

  constructor(source: unknown) {
    if (source === undefined || source === null) source = {};
    if (typeof source !== 'object' || Array.isArray(source)) {
      throw new InvalidRequest('Send the parameters as application/x-www-form-urlencoded or a JSON object');
    }
    this.values = source as Record<string, unknown>;
  }

  optional(name: string): string | undefined {
    const value = this.values[name];
    if (value === undefined || value === null || value === '') return undefined;
    if (Array.isArray(value)) throw new InvalidRequest(`${name} must not be sent more than once`);
    if (typeof value !== 'string') throw new InvalidRequest(`${name} must be a string`);
    return value;
  }

  required(name: string): string {
    const value = this.optional(name);
    if (value === undefined) throw new InvalidRequest(`${name} is required`);
    return value;
  }
}
