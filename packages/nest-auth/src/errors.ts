import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * Every refusal of the module: an `HttpException` whose response is the
 * RFC 6749 §5.2 / RFC 6750 §3 JSON body `{"error", "error_description"}`.
 *
 * The guard writes `headers` (the `WWW-Authenticate` challenge) on the response
 * itself before throwing, through the application's HTTP adapter, so the
 * header survives Nest's default exception handling and any exception filter of
 * the application that keeps the response it is given. A filter that builds a
 * response from scratch can copy them from `headers`.
 */
export class DevicegateAuthException extends HttpException {
  constructor(
    status: HttpStatus,
    readonly error: string,
    readonly description: string,
    readonly headers: Readonly<Record<string, string>>,
  ) {
    super({ error, error_description: description }, status);
  }
}

/** An RFC 7230 quoted-string: backslash and DQUOTE escaped, control characters dropped. */
export function quoted(value: string): string {
  return `"${value.replace(/[\u0000-\u001f\u007f]/g, '').replace(/(["\\])/g, '\\$1')}"`;
}

function challenge(realm: string, params: Record<string, string> = {}): string {
  return ['Bearer', [`realm=${quoted(realm)}`, ...Object.entries(params).map(([name, value]) => `${name}=${quoted(value)}`)].join(', ')].join(' ');
}

/** RFC 6750 §3.1: no credentials, or another scheme; the challenge carries no error. */
export function missingToken(realm: string): DevicegateAuthException {
  return new DevicegateAuthException(HttpStatus.UNAUTHORIZED, 'invalid_token', 'A bearer token is required', {
    'WWW-Authenticate': challenge(realm),
  });
}

/** RFC 6750 §3.1 invalid_request: a Bearer header that is not `Bearer <b64token>`. */
export function malformedAuthorization(realm: string): DevicegateAuthException {
  const description = 'The Authorization header must be "Bearer <token>"';
  return new DevicegateAuthException(HttpStatus.BAD_REQUEST, 'invalid_request', description, {
    'WWW-Authenticate': challenge(realm, { error: 'invalid_request', error_description: description }),
  });
}

/** RFC 6750 §3.1 invalid_token: devicegate says the token is not active (unknown, expired, revoked, malformed). */
export function invalidToken(realm: string): DevicegateAuthException {
  const description = 'The access token is invalid, expired or revoked';
  return new DevicegateAuthException(HttpStatus.UNAUTHORIZED, 'invalid_token', description, {
    'WWW-Authenticate': challenge(realm, { error: 'invalid_token', error_description: description }),
  });
}

/** RFC 6750 §3.1 insufficient_scope, with the scopes the resource needs (§3). */
export function insufficientScope(realm: string, required: string[]): DevicegateAuthException {
  const description = `This resource needs the scope${required.length > 1 ? 's' : ''} ${required.join(' ')}`;
  return new DevicegateAuthException(HttpStatus.FORBIDDEN, 'insufficient_scope', description, {
    'WWW-Authenticate': challenge(realm, { error: 'insufficient_scope', scope: required.join(' ') }),
  });
}

/**
 * A token of another organization (or of none) on an organization's resource.
 * RFC 6750 has no closer code than insufficient_scope ("the request requires
 * higher privileges than provided by the access token"); the description says
 * which privilege is missing. The organization named in the URL is not echoed.
 */
export function wrongOrganization(realm: string): DevicegateAuthException {
  const description = 'The access token does not belong to this organization';
  return new DevicegateAuthException(HttpStatus.FORBIDDEN, 'insufficient_scope', description, {
    'WWW-Authenticate': challenge(realm, { error: 'insufficient_scope', error_description: description }),
  });
}

/**
 * devicegate could not say whether the token is active: unreachable, timed out,
 * 5xx, an unreadable answer, or it refused this service's own credentials. The
 * token is not let through, and the user is not told their token is bad.
 */
export function introspectionUnavailable(): DevicegateAuthException {
  return new DevicegateAuthException(
    HttpStatus.SERVICE_UNAVAILABLE,
    'temporarily_unavailable',
    'The access token cannot be checked right now; try again shortly',
    {},
  );
}
