/**
 * Every failure of the library is a `DeviceLoginError` with a stable `code`.
 * Refusals of the server are `OAuthError`s, one class per RFC 6749 / 6750 /
 * 8628 error code a device client can meet, built from the
 * `{"error", "error_description"}` body by `oauthErrorFromResponse`.
 */
export class DeviceLoginError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export interface OAuthErrorDetails {
  description?: string;
  status?: number;
  errorUri?: string;
  /** Seconds, from `Retry-After`. */
  retryAfter?: number;
  /** RFC 8628 §3.5: the interval a `slow_down` answer carries. */
  interval?: number;
}

export class OAuthError extends DeviceLoginError {
  readonly error: string;
  readonly description?: string;
  readonly status?: number;
  readonly errorUri?: string;
  readonly retryAfter?: number;

  constructor(error: string, details: OAuthErrorDetails = {}) {
    super(error, details.description ? `${details.description} (${error})` : error);
    this.error = error;
    this.description = details.description;
    this.status = details.status;
    this.errorUri = details.errorUri;
    this.retryAfter = details.retryAfter;
  }
}

// RFC 6749 §5.2
export class InvalidRequest extends OAuthError {}
export class InvalidClient extends OAuthError {}
export class InvalidGrant extends OAuthError {}
export class UnauthorizedClient extends OAuthError {}
export class UnsupportedGrantType extends OAuthError {}
export class InvalidScope extends OAuthError {}
// RFC 8628 §3.5
export class AuthorizationPending extends OAuthError {}
export class SlowDown extends OAuthError {
  readonly interval?: number;

  constructor(error: string, details: OAuthErrorDetails = {}) {
    super(error, details);
    this.interval = details.interval;
  }
}
export class AccessDenied extends OAuthError {}
export class ExpiredToken extends OAuthError {}
// RFC 6750 §3.1
export class InvalidToken extends OAuthError {}
export class InsufficientScope extends OAuthError {}
// RFC 6749 §4.1.2.1, and what servers say when they cannot answer
export class ServerError extends OAuthError {}
export class TemporarilyUnavailable extends OAuthError {}
export class TooManyRequests extends OAuthError {}
export class NotFound extends OAuthError {}

type OAuthErrorClass = new (error: string, details?: OAuthErrorDetails) => OAuthError;

const BY_CODE: Record<string, OAuthErrorClass> = {
  invalid_request: InvalidRequest,
  invalid_client: InvalidClient,
  invalid_grant: InvalidGrant,
  unauthorized_client: UnauthorizedClient,
  unsupported_grant_type: UnsupportedGrantType,
  invalid_scope: InvalidScope,
  authorization_pending: AuthorizationPending,
  slow_down: SlowDown,
  access_denied: AccessDenied,
  expired_token: ExpiredToken,
  invalid_token: InvalidToken,
  insufficient_scope: InsufficientScope,
  server_error: ServerError,
  temporarily_unavailable: TemporarilyUnavailable,
  too_many_requests: TooManyRequests,
  not_found: NotFound,
};

function byStatus(status: number): [string, OAuthErrorClass] {
  if (status === 401) return ['invalid_token', InvalidToken];
  if (status === 403) return ['insufficient_scope', InsufficientScope];
  if (status === 404) return ['not_found', NotFound];
  if (status === 429) return ['too_many_requests', TooManyRequests];
  if (status === 503) return ['temporarily_unavailable', TemporarilyUnavailable];
  if (status >= 500) return ['server_error', ServerError];
  return ['invalid_request', InvalidRequest];
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP date. */
export function retryAfterSeconds(value: string | null | undefined, nowMs = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/**
 * The error of a non-2xx answer: the class of its `error` code when the body
 * is RFC 6749 §5.2 JSON, else one chosen by the status.
 */
export function oauthErrorFromResponse(status: number, body: unknown, headers?: { get(name: string): string | null }): OAuthError {
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const code = typeof fields.error === 'string' && /^[\x20-\x7e]{1,128}$/.test(fields.error) ? fields.error : undefined;
  const [fallbackCode, fallbackClass] = byStatus(status);
  const ErrorClass = code ? (BY_CODE[code] ?? OAuthError) : fallbackClass;
  const description =
    typeof fields.error_description === 'string' ? fields.error_description.slice(0, 500) : code ? undefined : `HTTP ${status}`;
  return new ErrorClass(code ?? fallbackCode, {
    description,
    status,
    errorUri: typeof fields.error_uri === 'string' ? fields.error_uri : undefined,
    retryAfter: retryAfterSeconds(headers?.get('retry-after')),
    interval: typeof fields.interval === 'number' && Number.isFinite(fields.interval) && fields.interval > 0 ? fields.interval : undefined,
  });
}

/**
 * The server could not be reached, or its answer did not arrive.
 * `mayHaveBeenProcessed` is false only when the request certainly never left
 * (connection refused, name not resolved): only then is a request that
 * changes state (a refresh) safe to send again.
 */
export class NetworkError extends DeviceLoginError {
  constructor(
    message: string,
    readonly mayHaveBeenProcessed: boolean,
    cause?: unknown,
  ) {
    super('network_error', message, { cause });
  }
}

/** An answer that is not what the protocol says: not JSON, a field missing, metadata of another issuer. */
export class ProtocolError extends DeviceLoginError {
  constructor(message: string) {
    super('protocol_error', message);
  }
}

/** The wait was cancelled through its AbortSignal. */
export class Cancelled extends DeviceLoginError {
  constructor(message = 'Cancelled') {
    super('cancelled', message);
  }
}

export type NotLoggedInReason = 'none' | 'expired' | 'revoked';

/** No usable credential: none stored, its access token expired without a refresh token, or the server refused it. */
export class NotLoggedIn extends DeviceLoginError {
  constructor(
    readonly reason: NotLoggedInReason,
    message: string,
  ) {
    super('not_logged_in', message);
  }
}

/**
 * A refresh was sent but its answer was lost (the connection broke, a 5xx).
 * The server may have rotated the refresh token, and presenting a used one
 * revokes the whole authorization, so the library never sends it again: the
 * stored refresh token is dropped and the person logs in again when the
 * access token stops working.
 */
export class RefreshOutcomeUnknown extends DeviceLoginError {
  constructor(cause?: unknown) {
    super(
      'refresh_outcome_unknown',
      'The answer to a token refresh was lost; the refresh token was not used again (a reused one revokes the login). Log in again if requests start failing.',
      { cause },
    );
  }
}

/** The server has no such API (an older devicegate, or another server). */
export class NotAvailable extends DeviceLoginError {
  constructor(message: string) {
    super('not_available', message);
  }
}

export class CredentialStoreError extends DeviceLoginError {
  constructor(message: string, cause?: unknown, code = 'credential_store_error') {
    super(code, message, { cause });
  }
}

/** A credential file other users could read or change: refused, as ssh refuses such a private key. */
export class InsecureCredentialFile extends CredentialStoreError {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(
      `${path} ${detail}; the token in it may have been read by others. Run "chmod 600 ${path}" (and "devicegate logout" to revoke that token if others could read it).`,
      undefined,
      'insecure_credential_file',
    );
  }
}
