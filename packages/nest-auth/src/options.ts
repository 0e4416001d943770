import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';

/** How a service reaches devicegate and how long it may trust an answer. */
export interface DevicegateAuthOptions {
  /**
   * devicegate's issuer (its `PUBLIC_URL`, the `issuer` of
   * `/.well-known/oauth-authorization-server`), e.g. `https://auth.example.com`.
   * Introspection goes to `{issuer}/oauth/introspect` unless
   * `introspectionEndpoint` says otherwise; an answer naming another `iss` is refused.
   * Also the `realm` of every `WWW-Authenticate` challenge.
   */
  issuer: string;
  /** This service's client id at devicegate: a confidential client with `resource_server: true`. */
  clientId: string;
  /** Its secret, sent with HTTP Basic (RFC 6749 §2.3.1 `client_secret_basic`). */
  clientSecret: string;
  /**
   * How long an active answer is reused, in seconds (default 30); never past the
   * token's `exp`. It is also how long a token revoked at devicegate may still be
   * accepted here. 0 disables the cache: every request introspects.
   */
  cacheTtlSeconds?: number;
  /** How long an inactive answer is reused, in seconds (default 5); 0 disables it. */
  negativeCacheTtlSeconds?: number;
  /** The most answers kept (default 10 000); the least recently used goes first. 0 disables the cache. */
  maxCacheEntries?: number;
  /** How long one introspection may take, in milliseconds (default 3000); then the request gets 503. */
  timeoutMs?: number;
  /**
   * Registers the guard for every HTTP route of the application (default false):
   * every route needs a live token unless it is marked `@Public()`.
   */
  global?: boolean;
  /**
   * Where to introspect when the service reaches devicegate at another address
   * than its issuer (an internal host name); default `{issuer}/oauth/introspect`.
   */
  introspectionEndpoint?: string;
  /** The fetch to use (default `globalThis.fetch`): a proxy-aware fetch, or a spy in tests. */
  fetch?: typeof fetch;
}

/** forRootAsync: the options from a factory, e.g. from `ConfigService`. */
export interface DevicegateAuthAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  useFactory: (...args: any[]) => Omit<DevicegateAuthOptions, 'global'> | Promise<Omit<DevicegateAuthOptions, 'global'>>;
  /** Registers the guard for every route; known before the factory runs, so it is given here. */
  global?: boolean;
}

/** The options with every default applied; what the providers receive. */
export interface ResolvedDevicegateAuthOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  cacheTtlMs: number;
  negativeCacheTtlMs: number;
  maxCacheEntries: number;
  timeoutMs: number;
  global: boolean;
  introspectionEndpoint: string;
  /** undefined: `globalThis.fetch`, read at each call. */
  fetch: typeof fetch | undefined;
}

export const DEVICEGATE_AUTH_OPTIONS = Symbol('DEVICEGATE_AUTH_OPTIONS');

export const DEFAULTS = {
  cacheTtlSeconds: 30,
  negativeCacheTtlSeconds: 5,
  maxCacheEntries: 10_000,
  timeoutMs: 3000,
} as const;

/** "https://auth.example.com/" and "https://auth.example.com" name the same issuer. */
export function normalizeIssuer(issuer: string): string {
  return issuer.replace(/\/+$/, '');
}

function absoluteHttpUrl(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new Error(`DevicegateAuthModule: ${name} is required`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`DevicegateAuthModule: ${name} must be an absolute URL, got "${value}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`DevicegateAuthModule: ${name} must be an http(s) URL, got "${value}"`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new Error(`DevicegateAuthModule: ${name} must have no query, fragment or credentials`);
  }
  return value;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`DevicegateAuthModule: ${name} must be a number >= 0, got ${String(value)}`);
  }
  return value;
}

/** Validates the options and applies the defaults; throws at start-up rather than at the first request. */
export function resolveOptions(options: DevicegateAuthOptions): ResolvedDevicegateAuthOptions {
  if (!options || typeof options !== 'object') throw new Error('DevicegateAuthModule: options are required');
  const issuer = normalizeIssuer(absoluteHttpUrl(options.issuer, 'issuer'));
  if (typeof options.clientId !== 'string' || options.clientId.length === 0) {
    throw new Error('DevicegateAuthModule: clientId is required');
  }
  if (typeof options.clientSecret !== 'string' || options.clientSecret.length === 0) {
    throw new Error('DevicegateAuthModule: clientSecret is required');
  }
  const timeoutMs = nonNegative(options.timeoutMs, DEFAULTS.timeoutMs, 'timeoutMs');
  if (timeoutMs === 0) throw new Error('DevicegateAuthModule: timeoutMs must be greater than 0');
  const maxCacheEntries = nonNegative(options.maxCacheEntries, DEFAULTS.maxCacheEntries, 'maxCacheEntries');
  if (!Number.isInteger(maxCacheEntries)) throw new Error('DevicegateAuthModule: maxCacheEntries must be an integer');
  const customFetch = options.fetch;
  if (customFetch !== undefined && typeof customFetch !== 'function') {
    throw new Error('DevicegateAuthModule: fetch must be a function');
  }
  return {
    issuer,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    cacheTtlMs: nonNegative(options.cacheTtlSeconds, DEFAULTS.cacheTtlSeconds, 'cacheTtlSeconds') * 1000,
    negativeCacheTtlMs: nonNegative(options.negativeCacheTtlSeconds, DEFAULTS.negativeCacheTtlSeconds, 'negativeCacheTtlSeconds') * 1000,
    maxCacheEntries,
    timeoutMs,
    global: options.global === true,
    introspectionEndpoint: options.introspectionEndpoint
      ? absoluteHttpUrl(options.introspectionEndpoint, 'introspectionEndpoint')
      : `${issuer}/oauth/introspect`,
    fetch: customFetch,
  };
}
