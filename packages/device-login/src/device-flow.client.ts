import { DEVICE_CODE_GRANT, discover, type AuthorizationServerMetadata, type DiscoverOptions } from './discovery';
import {
  AuthorizationPending,
  DeviceLoginError,
  ExpiredToken,
  NetworkError,
  oauthErrorFromResponse,
  ProtocolError,
  ServerError,
  SlowDown,
  TemporarilyUnavailable,
  TooManyRequests,
} from './errors';
import { HttpClient, type HttpAnswer, type HttpOptions } from './http';
import { type MonotonicClock, sleepUntil, systemClock } from './monotonic-clock';

/** RFC 8628 §3.2, read and checked. */
export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /** Seconds the codes live. */
  expiresIn: number;
  /** Seconds to wait between polls (5 when the server says nothing, RFC 8628 §3.2). */
  interval: number;
  /** When the answer arrived, on the client's monotonic clock: the codes' lifetime and the first wait count from here. */
  receivedAt: number;
}

/** RFC 6749 §5.1, read and checked. */
export interface TokenSet {
  accessToken: string;
  tokenType: 'Bearer';
  /** Seconds, when the server said. */
  expiresIn?: number;
  refreshToken?: string;
  /** The granted scopes, when the server said. */
  scope?: string[];
}

export type PollEvent =
  /** The person has not decided yet; the next poll is `interval` seconds away. */
  | { type: 'pending'; interval: number }
  /** RFC 8628 §3.5 slow_down: every later poll waits `interval` seconds. */
  | { type: 'slow_down'; interval: number }
  /** The poll failed in a way that may pass (network, 5xx, 429); it is tried again in `retryInMs`. */
  | { type: 'retry'; error: DeviceLoginError; retryInMs: number; failures: number };

export interface PollOptions {
  signal?: AbortSignal;
  onEvent?: (event: PollEvent) => void;
  /** Transient failures in a row before giving up; 5 by default. */
  maxConsecutiveFailures?: number;
}

export interface DeviceFlowClientOptions extends HttpOptions {
  clientId: string;
  /** Confidential clients only: sent as client_secret_basic (RFC 6749 §2.3.1). */
  clientSecret?: string;
  clock?: MonotonicClock;
}

/** RFC 8628 §3.5: what a slow_down adds to the interval. */
export const SLOW_DOWN_STEP_SECONDS = 5;
export const DEFAULT_INTERVAL_SECONDS = 5;
const MAX_BACKOFF_MS = 60_000;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function text(body: Record<string, unknown>, member: string, required: true): string;
function text(body: Record<string, unknown>, member: string, required: false): string | undefined;
function text(body: Record<string, unknown>, member: string, required: boolean): string | undefined {
  const value = body[member];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value === '' || CONTROL.test(value)) throw new ProtocolError(`The answer has no valid ${member}`);
  return value;
}

function seconds(body: Record<string, unknown>, member: string): number | undefined {
  const value = body[member];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ProtocolError(`The answer's ${member} is not a number of seconds`);
  return value;
}

function webUrl(value: string, member: string): string {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new ProtocolError(`The answer's ${member} is not an http(s) URL`);
  return value;
}

function object(answer: HttpAnswer): Record<string, unknown> {
  if (typeof answer.body !== 'object' || answer.body === null || Array.isArray(answer.body)) {
    throw new ProtocolError(`The server answered ${answer.status} without a JSON object`);
  }
  return answer.body as Record<string, unknown>;
}

export function readTokenSet(answer: HttpAnswer): TokenSet {
  const body = object(answer);
  const tokenType = text(body, 'token_type', true);
  if (tokenType.toLowerCase() !== 'bearer') throw new ProtocolError(`Token type ${tokenType} is not supported (only Bearer)`);
  const scope = text(body, 'scope', false);
  return {
    accessToken: text(body, 'access_token', true),
    tokenType: 'Bearer',
    expiresIn: seconds(body, 'expires_in'),
    refreshToken: text(body, 'refresh_token', false),
    scope: scope === undefined ? undefined : scope.split(' ').filter(Boolean),
  };
}

/** Failures worth another poll: the network, the server's own trouble, a rate limit. */
function transient(error: unknown): error is DeviceLoginError {
  return error instanceof NetworkError || error instanceof ServerError || error instanceof TemporarilyUnavailable || error instanceof TooManyRequests;
}

/** The protocol half of a device login: RFC 8628 device authorization and polling, RFC 6749 refresh, RFC 7009 revocation. */
export class DeviceFlowClient {
  readonly clientId: string;
  private readonly clientSecret?: string;
  private readonly clock: MonotonicClock;
  readonly http: HttpClient;

  constructor(
    readonly metadata: AuthorizationServerMetadata,
    options: DeviceFlowClientOptions,
  ) {
    this.clientId = options.clientId;
    this.clientSecret = options.clientSecret;
    this.clock = options.clock ?? systemClock;
    this.http = new HttpClient(options);
  }

  static async discover(issuer: string, options: DeviceFlowClientOptions & DiscoverOptions): Promise<DeviceFlowClient> {
    const metadata = await discover(new HttpClient(options), issuer, options);
    return new DeviceFlowClient(metadata, options);
  }

  get issuer(): string {
    return this.metadata.issuer.replace(/\/+$/, '');
  }

  /** RFC 8628 §3.1–3.2. `deviceLabel` is devicegate's name for this device, shown on the consent page. */
  async authorize(params: { scope?: string | string[]; deviceLabel?: string; signal?: AbortSignal } = {}): Promise<DeviceAuthorization> {
    const scope = Array.isArray(params.scope) ? params.scope.join(' ') : params.scope;
    const answer = await this.post(this.metadata.device_authorization_endpoint, { scope, device_label: params.deviceLabel }, params.signal);
    const receivedAt = this.clock.now();
    if (answer.status !== 200) throw oauthErrorFromResponse(answer.status, answer.body, answer.headers);
    const body = object(answer);
    const verificationUriComplete = text(body, 'verification_uri_complete', false);
    const expiresIn = seconds(body, 'expires_in');
    if (expiresIn === undefined) throw new ProtocolError('The answer has no expires_in');
    const interval = seconds(body, 'interval');
    return {
      deviceCode: text(body, 'device_code', true),
      userCode: text(body, 'user_code', true),
      verificationUri: webUrl(text(body, 'verification_uri', true), 'verification_uri'),
      verificationUriComplete: verificationUriComplete && webUrl(verificationUriComplete, 'verification_uri_complete'),
      expiresIn,
      interval: interval && interval > 0 ? interval : DEFAULT_INTERVAL_SECONDS,
      receivedAt,
    };
  }

  /**
   * RFC 8628 §3.4–3.5: polls until the person decides or the codes expire.
   * Every poll is sent at least `interval` seconds after the previous answer
   * arrived (and the first one after the device authorization answer), timed
   * on the monotonic clock. `slow_down` adds 5 seconds for this and every
   * later poll, or takes the server's `interval` when that is longer.
   * Transient failures back off exponentially (never below the interval,
   * `Retry-After` honoured); the person's decision ends the wait with
   * `AccessDenied`, `ExpiredToken`, or the token set.
   */
  async poll(authorization: DeviceAuthorization, options: PollOptions = {}): Promise<TokenSet> {
    const maxFailures = options.maxConsecutiveFailures ?? 5;
    const deadline = authorization.receivedAt + authorization.expiresIn * 1000;
    let interval = authorization.interval;
    let lastAnswerAt = authorization.receivedAt;
    let waitMs = interval * 1000;
    let failures = 0;
    for (;;) {
      const due = lastAnswerAt + waitMs;
      if (due >= deadline) throw new ExpiredToken('expired_token', { description: 'The code expired before it was approved' });
      await sleepUntil(this.clock, due, options.signal);
      try {
        const answer = await this.post(
          this.metadata.token_endpoint,
          { grant_type: DEVICE_CODE_GRANT, device_code: authorization.deviceCode },
          options.signal,
        );
        lastAnswerAt = this.clock.now();
        if (answer.status === 200) return readTokenSet(answer);
        throw oauthErrorFromResponse(answer.status, answer.body, answer.headers);
      } catch (error) {
        lastAnswerAt = this.clock.now();
        if (error instanceof AuthorizationPending) {
          failures = 0;
          waitMs = interval * 1000;
          options.onEvent?.({ type: 'pending', interval });
        } else if (error instanceof SlowDown) {
          failures = 0;
          interval = Math.max(interval + SLOW_DOWN_STEP_SECONDS, error.interval ?? 0);
          waitMs = interval * 1000;
          options.onEvent?.({ type: 'slow_down', interval });
        } else if (transient(error) && ++failures < maxFailures) {
          const retryAfterMs = error instanceof TooManyRequests || error instanceof TemporarilyUnavailable ? (error.retryAfter ?? 0) * 1000 : 0;
          waitMs = Math.max(interval * 1000, retryAfterMs, Math.min(MAX_BACKOFF_MS, interval * 1000 * 2 ** failures));
          options.onEvent?.({ type: 'retry', error, retryInMs: waitMs, failures });
        } else {
          throw error;
        }
      }
    }
  }

  /**
   * RFC 6749 §6. Not cancellable on purpose: an answer abandoned halfway is a
   * lost answer, and a rotated refresh token must not be lost.
   */
  async refresh(refreshToken: string, params: { scope?: string } = {}): Promise<TokenSet> {
    const answer = await this.post(this.metadata.token_endpoint, { grant_type: 'refresh_token', refresh_token: refreshToken, scope: params.scope });
    if (answer.status !== 200) throw oauthErrorFromResponse(answer.status, answer.body, answer.headers);
    return readTokenSet(answer);
  }

  /** RFC 7009; false when the server has no revocation endpoint. A 200 says nothing about whether the token existed (§2.2). */
  async revoke(token: string, hint?: 'access_token' | 'refresh_token', signal?: AbortSignal): Promise<boolean> {
    const endpoint = this.metadata.revocation_endpoint;
    if (!endpoint) return false;
    const answer = await this.post(endpoint, { token, token_type_hint: hint }, signal);
    if (answer.status !== 200) throw oauthErrorFromResponse(answer.status, answer.body, answer.headers);
    return true;
  }

  private post(url: string, form: Record<string, string | undefined>, signal?: AbortSignal): Promise<HttpAnswer> {
    const headers: Record<string, string> = {};
    if (this.clientSecret === undefined) {
      form = { ...form, client_id: this.clientId };
    } else {
      const pair = `${encodeURIComponent(this.clientId)}:${encodeURIComponent(this.clientSecret)}`;
      headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    }
    return this.http.json({ url, form, headers, signal });
  }
}
