import { Cancelled } from '../errors';
import type { FetchLike } from '../http';
import type { MonotonicClock } from '../monotonic-clock';

export interface FakeRequest {
  method: string;
  path: string;
  /** The raw body, and the same read as a form. */
  body: string;
  form: URLSearchParams;
  headers: Headers;
  /** The fake clock's time when the request was sent. */
  at: number;
}

export type FakeAnswer = { status: number; body?: unknown; headers?: Record<string, string> } | Error;
type Handler = (request: FakeRequest) => FakeAnswer | Promise<FakeAnswer>;

/** Virtual time: `sleep` moves it forward at once; nothing in a spec waits for real. */
export class FakeClock implements MonotonicClock {
  time = 1_000;

  now(): number {
    return this.time;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new Cancelled();
    this.time += ms;
    await Promise.resolve();
  }
}

export const ISSUER = 'https://login.example.com';

/**
 * An authorization server as a `fetch`: discovery answers by default, other
 * routes answer what the spec scripts (`on`), and every request is recorded
 * with the fake clock's time.
 */
export class FakeAuthorizationServer {
  readonly requests: FakeRequest[] = [];
  readonly metadata: Record<string, unknown> = {
    issuer: ISSUER,
    device_authorization_endpoint: `${ISSUER}/oauth/device/code`,
    token_endpoint: `${ISSUER}/oauth/token`,
    revocation_endpoint: `${ISSUER}/oauth/revoke`,
    grant_types_supported: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
  };
  private readonly handlers = new Map<string, Handler[]>();

  constructor(private readonly clock: { now(): number } = { now: () => 0 }) {
    this.on('GET /.well-known/oauth-authorization-server', () => ({ status: 200, body: this.metadata }));
  }

  /** Answers `METHOD /path`; several handlers for one route answer in turn, the last one for ever after. */
  on(route: string, ...handlers: (Handler | FakeAnswer)[]): this {
    this.handlers.set(
      route,
      handlers.map((handler) => (typeof handler === 'function' ? handler : () => handler)),
    );
    return this;
  }

  calls(route: string): FakeRequest[] {
    return this.requests.filter((request) => `${request.method} ${request.path}` === route);
  }

  readonly fetch: FetchLike = async (input, init) => {
    const url = new URL(input);
    const request: FakeRequest = {
      method: init.method ?? 'GET',
      path: url.pathname,
      body: typeof init.body === 'string' ? init.body : '',
      form: new URLSearchParams(typeof init.body === 'string' ? init.body : ''),
      headers: new Headers(init.headers as Record<string, string>),
      at: this.clock.now(),
    };
    if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    this.requests.push(request);
    const route = `${request.method} ${request.path}`;
    const handlers = this.handlers.get(route);
    if (!handlers || handlers.length === 0) return new Response(JSON.stringify({ error: 'not_found' }), { status: 404 });
    const handler = handlers.length > 1 ? (handlers.shift() as Handler) : handlers[0];
    const answer = await handler(request);
    if (answer instanceof Error) throw answer;
    const body = answer.body === undefined ? null : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    return new Response(body, { status: answer.status, headers: { 'content-type': 'application/json', ...answer.headers } });
  };
}

/** A fetch failure as undici reports it: TypeError("fetch failed") with the system error as its cause. */
export function fetchFailed(code: string): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(`connect ${code}`), { code }) });
}

export const DEVICE_CODES = {
  device_code: 'device-code-0123456789',
  user_code: 'BCDF-GHJK',
  verification_uri: `${ISSUER}/device`,
  verification_uri_complete: `${ISSUER}/device?user_code=BCDF-GHJK`,
  expires_in: 600,
  interval: 5,
};

export const pending = { status: 400, body: { error: 'authorization_pending', error_description: 'The user has not yet approved' } };
export const slowDown = (interval?: number) => ({ status: 400, body: { error: 'slow_down', ...(interval === undefined ? {} : { interval }) } });
export const tokens = (extra: Record<string, unknown> = {}) => ({
  status: 200,
  body: { access_token: 'dgat_access', token_type: 'Bearer', expires_in: 3600, scope: 'profile read', ...extra },
});
