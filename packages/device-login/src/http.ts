import { Cancelled, NetworkError, ProtocolError } from './errors';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface HttpOptions {
  /** The fetch to use (tests, proxies); the global one by default. */
  fetch?: FetchLike;
  /** Per request, milliseconds; 30 s by default. */
  timeoutMs?: number;
  /** Shown on devicegate's consent page as the device's user agent. */
  userAgent?: string;
}

export interface HttpRequest {
  url: string;
  method?: string;
  /** Sent as application/x-www-form-urlencoded (what RFC 6749 and 8628 specify); undefined values are left out. */
  form?: Record<string, string | undefined>;
  /** Sent as application/json (devicegate's own API). */
  json?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or undefined when there was none or it was not JSON. */
  body: unknown;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_USER_AGENT = `devicegate-device-login/0.1.0 node/${process.versions.node} ${process.platform}`;

/** Failures of these kinds happen before a byte of the request is sent. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The innermost message: undici says only "fetch failed" on the outside. */
function innermostMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

export class HttpClient {
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;
  readonly userAgent: string;

  constructor(options: HttpOptions = {}) {
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  }

  /** The raw response (for streaming); throws `Cancelled` or `NetworkError`. */
  async send(request: HttpRequest): Promise<Response> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.userAgent, ...request.headers };
    let body: string | undefined;
    if (request.form) {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(request.form)) if (value !== undefined) params.append(name, value);
      body = params.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (request.json !== undefined) {
      body = JSON.stringify(request.json);
      headers['content-type'] = 'application/json';
    }
    try {
      return await this.fetchImpl(request.url, { method: request.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, signal, redirect: 'manual' });
    } catch (error) {
      throw this.failure(error, request, timeout);
    }
  }

  /** Sends the request and reads the whole answer, parsing JSON. */
  async json(request: HttpRequest): Promise<HttpAnswer> {
    const response = await this.send(request);
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw this.failure(error, request, undefined, true);
    }
    let body: unknown;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        if (response.ok) {
          throw new ProtocolError(`${new URL(request.url).pathname} answered ${response.status} with a body that is not JSON`);
        }
      }
    }
    return { status: response.status, headers: response.headers, body };
  }

  private failure(error: unknown, request: HttpRequest, timeout?: AbortSignal, afterHeaders = false): Error {
    if (request.signal?.aborted) return new Cancelled();
    const where = new URL(request.url).origin;
    if (timeout?.aborted) return new NetworkError(`${where} did not answer within ${this.timeoutMs / 1000} s`, true, error);
    const code = causeCode(error);
    const sent = afterHeaders || !code || !NOT_SENT.has(code);
    const detail = code ?? innermostMessage(error);
    return new NetworkError(`Cannot reach ${where} (${detail})`, sent, error);
  }
}
