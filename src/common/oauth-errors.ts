import { HttpStatus } from '@nestjs/common';

/**
 * One class per protocol error code. The exception filter writes every one of
 * them as `{"error": code, "error_description": description}` with its status.
 */
export abstract class OAuthError extends Error {
  abstract readonly code: string;
  abstract readonly status: HttpStatus;
  readonly headers: Record<string, string> = {};
  /** Members added to the JSON body beside `error` and `error_description`. */
  readonly extra: Record<string, unknown> = {};

  constructor(readonly description: string) {
    // A protocol answer, not a fault: its stack is never read, and capturing one cost a pending poll more than its Redis call.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(description);
    Error.stackTraceLimit = stackTraceLimit;
  }
}

// RFC 6749 §5.2
export class InvalidRequest extends OAuthError {
  readonly code = 'invalid_request';
  readonly status = HttpStatus.BAD_REQUEST;
}

export class InvalidClient extends OAuthError {
  readonly code = 'invalid_client';
  readonly status = HttpStatus.UNAUTHORIZED;

  constructor(description: string, challengeBasic = false) {
    super(description);
    if (challengeBasic) this.headers['WWW-Authenticate'] = 'Basic realm="devicegate"';
  }
}

export class InvalidGrant extends OAuthError {
  readonly code = 'invalid_grant';
  readonly status = HttpStatus.BAD_REQUEST;
}

export class UnauthorizedClient extends OAuthError {
  readonly code = 'unauthorized_client';
  readonly status = HttpStatus.BAD_REQUEST;
}

/** RFC 7662 §2.3: an authenticated client that is not a resource server may not introspect. */
export class NotAResourceServer extends OAuthError {
  readonly code = 'unauthorized_client';
  readonly status = HttpStatus.FORBIDDEN;

  constructor() {
    super('Only a client configured as a resource server (resource_server: true) may introspect tokens');
  }
}

export class UnsupportedGrantType extends OAuthError {
  readonly code = 'unsupported_grant_type';
  readonly status = HttpStatus.BAD_REQUEST;
}

export class InvalidScope extends OAuthError {
  readonly code = 'invalid_scope';
  readonly status = HttpStatus.BAD_REQUEST;
}

// RFC 8628 §3.5
export class AuthorizationPending extends OAuthError {
  readonly code = 'authorization_pending';
  readonly status = HttpStatus.BAD_REQUEST;
}

export class SlowDown extends OAuthError {
  readonly code = 'slow_down';
  readonly status = HttpStatus.BAD_REQUEST;

  constructor(description: string, interval: number) {
    super(description);
    this.extra.interval = interval;
  }
}

export class AccessDenied extends OAuthError {
  readonly code = 'access_denied';
  readonly status = HttpStatus.BAD_REQUEST;
}

export class ExpiredToken extends OAuthError {
  readonly code = 'expired_token';
  readonly status = HttpStatus.BAD_REQUEST;
}

/**
 * RFC 6750 §3: error_description (and scope) in a challenge hold only
 * %x20-21 / %x23-5B / %x5D-7E; text echoed from a request (a path segment)
 * may carry anything, so every other character becomes '?'.
 */
export function challengeText(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '?');
}

// RFC 6750 §3.1
export class InvalidToken extends OAuthError {
  readonly code = 'invalid_token';
  readonly status = HttpStatus.UNAUTHORIZED;

  constructor(description: string, withErrorInChallenge = true) {
    super(description);
    this.headers['WWW-Authenticate'] = withErrorInChallenge
      ? `Bearer realm="devicegate", error="invalid_token", error_description="${challengeText(description)}"`
      : 'Bearer realm="devicegate"';
  }
}

export class MalformedAuthorization extends InvalidRequest {
  constructor() {
    super('The Authorization header must be "Bearer <token>"');
    this.headers['WWW-Authenticate'] = 'Bearer realm="devicegate", error="invalid_request"';
  }
}

export class InsufficientScope extends OAuthError {
  readonly code = 'insufficient_scope';
  readonly status = HttpStatus.FORBIDDEN;

  constructor(requiredScopes: string[]) {
    super(`This resource needs the scope${requiredScopes.length > 1 ? 's' : ''} ${requiredScopes.join(' ')}`);
    this.headers['WWW-Authenticate'] =
      `Bearer realm="devicegate", error="insufficient_scope", scope="${requiredScopes.join(' ')}"`;
  }
}

/** A token of one organization (or of none) on a resource of another: RFC 6750's insufficient_scope, said plainly. */
export class ForeignOrganization extends OAuthError {
  readonly code = 'insufficient_scope';
  readonly status = HttpStatus.FORBIDDEN;

  constructor(description: string) {
    super(description);
    this.headers['WWW-Authenticate'] = `Bearer realm="devicegate", error="insufficient_scope", error_description="${challengeText(this.description)}"`;
  }
}

// Errors of the approval endpoints (the browser side); same JSON shape.
export class LoginRequired extends OAuthError {
  readonly code = 'login_required';
  readonly status = HttpStatus.UNAUTHORIZED;
}

export class InvalidCredentials extends OAuthError {
  readonly code = 'invalid_credentials';
  readonly status = HttpStatus.UNAUTHORIZED;

  constructor() {
    super('Unknown user or wrong password');
  }
}

export class InvalidCsrfToken extends OAuthError {
  readonly code = 'invalid_csrf_token';
  readonly status = HttpStatus.FORBIDDEN;
}

export class InvalidUserCode extends OAuthError {
  readonly code = 'invalid_user_code';
  readonly status = HttpStatus.BAD_REQUEST;

  constructor() {
    super('The code is wrong, has expired or has already been used. Start again on your device to get a new one.');
  }
}

/**
 * A sign-in at an identity provider that cannot be accepted: a response that
 * does not verify, a used or forged state envelope, an IdP error. `reason` is
 * what the audit trail records.
 */
export class SignInRejected extends OAuthError {
  readonly code = 'access_denied';
  readonly status = HttpStatus.BAD_REQUEST;

  constructor(
    readonly reason: string,
    description: string,
  ) {
    super(description);
  }
}

/** The application of the device belongs to another organization than the signed-in person. */
export class OrganizationMismatch extends OAuthError {
  readonly code = 'access_denied';
  readonly status = HttpStatus.FORBIDDEN;

  constructor(organizationName: string) {
    super(`This application belongs to ${organizationName}; only its members can approve it. Sign in with your ${organizationName} account.`);
  }
}

/** An identity provider that does not answer (discovery, token endpoint). */
export class IdentityProviderUnavailable extends OAuthError {
  readonly code = 'temporarily_unavailable';
  readonly status = HttpStatus.BAD_GATEWAY;

  constructor() {
    super('Your identity provider cannot be reached right now. Try again shortly.');
    this.headers['Retry-After'] = '5';
  }
}

export class TooManyRequests extends OAuthError {
  readonly code = 'too_many_requests';
  readonly status = HttpStatus.TOO_MANY_REQUESTS;

  constructor(description: string, retryAfterSeconds: number) {
    super(description);
    this.headers['Retry-After'] = String(Math.max(1, Math.ceil(retryAfterSeconds)));
  }
}

export class NotFound extends OAuthError {
  readonly code = 'not_found';
  readonly status = HttpStatus.NOT_FOUND;
}

// RFC 6749 §4.1.2.1 names it for the authorization endpoint; it is the
// honest answer wherever a dependency is down.
export class TemporarilyUnavailable extends OAuthError {
  readonly code = 'temporarily_unavailable';
  readonly status = HttpStatus.SERVICE_UNAVAILABLE;

  constructor(description = 'The service cannot reach its storage right now. Try again shortly.') {
    super(description);
    this.headers['Retry-After'] = '5';
  }
}

/** The organization's directory (LDAP) does not answer: a dependency outage, like Postgres or Redis. */
export class DirectoryUnavailable extends TemporarilyUnavailable {
  constructor() {
    super('Your company directory cannot be reached right now. Try again shortly.');
  }
}
