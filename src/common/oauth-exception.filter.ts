import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { isDependencyFailure } from './dependency-errors';
import { signInErrorPage } from '../web/sign-in-error.view';
import { PAGE_SECURITY_HEADERS } from './html';
import { BODY_LIMIT_BYTES } from '../http/http-edge';
import { InvalidRequest, NotFound, OAuthError, TemporarilyUnavailable } from './oauth-errors';

/**
 * The one place errors become responses: `{"error", "error_description"}`
 * with the RFC's status. Bad input is a 4xx, a down Postgres or Redis a 503,
 * anything else a 500 without details; never a stack trace.
 */
@Catch()
export class OAuthExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse();
    const error = this.toOAuthError(exception);
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of Object.entries({ ...error.headers, 'Cache-Control': 'no-store', Pragma: 'no-cache' })) {
      adapter.setHeader(response, name, headerSafe(value));
    }
    const request = http.getRequest();
    if (wantsPage(request)) {
      const page = signInErrorPage(error.description, request.headers?.['accept-language']);
      for (const [name, value] of Object.entries(pageHeaders(page.locale))) adapter.setHeader(response, name, value);
      adapter.reply(response, page.html, error.status);
      return;
    }
    // A route may have set another Content-Type (metadata XML) before it threw.
    adapter.setHeader(response, 'Content-Type', 'application/json; charset=utf-8');
    adapter.reply(
      response,
      { error: error.code, error_description: error.description, ...error.extra },
      error.status,
    );
  }

  private toOAuthError(exception: unknown): OAuthError {
    if (exception instanceof OAuthError) return exception;
    if (exception instanceof HttpException) return fromHttpException(exception);
    const status = adapterErrorStatus(exception);
    // Body-parser and content-type errors of the HTTP adapter.
    if (status !== undefined) return unreadableRequest(status);
    if (isUnstorableText(exception)) return new InvalidRequest('The request contains characters that cannot be stored');
    if (isDependencyFailure(exception)) {
      this.logger.warn({ msg: 'dependency unavailable', error: describe(exception) });
      return new TemporarilyUnavailable();
    }
    this.logger.error({ msg: 'unexpected error', error: describe(exception) });
    return new ServerError();
  }
}

class ServerError extends OAuthError {
  readonly code = 'server_error';
  readonly status = HttpStatus.INTERNAL_SERVER_ERROR;

  constructor() {
    super('Something went wrong on our side; it has been logged');
  }
}

class PayloadTooLarge extends OAuthError {
  readonly code = 'invalid_request';
  readonly status = HttpStatus.PAYLOAD_TOO_LARGE;

  constructor() {
    super(`The request body is larger than ${BODY_LIMIT_BYTES / 1024} KiB`);
  }
}

/** Express's body parsers and Fastify mark their own refusals (body too large, unreadable, media type) with a 4xx statusCode. */
function adapterErrorStatus(exception: unknown): number | undefined {
  const status = (exception as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/** Postgres refuses text it cannot store (a NUL character, an invalid byte sequence): bad input, not an outage. */
function isUnstorableText(exception: unknown): boolean {
  const code = (exception as { driverError?: { code?: unknown }; code?: unknown } | undefined)?.driverError?.code ?? (exception as { code?: unknown })?.code;
  return code === '22021' || code === '22P05';
}

/** A header value Node accepts: visible ASCII, space and tab; anything else (control or non-Latin-1 characters) becomes '?'. */
function headerSafe(value: string): string {
  return value.replace(/[^\t\x20-\x7e]/g, '?');
}

function unreadableRequest(status: number): OAuthError {
  if (status === HttpStatus.PAYLOAD_TOO_LARGE) return new PayloadTooLarge();
  if (status === HttpStatus.UNSUPPORTED_MEDIA_TYPE) return new InvalidRequest('Send application/x-www-form-urlencoded or application/json');
  return new InvalidRequest('The request body cannot be read');
}

function fromHttpException(exception: HttpException): OAuthError {
  const status = exception.getStatus();
  if (status === HttpStatus.NOT_FOUND) return new NotFound('No such endpoint');
  if (status === HttpStatus.PAYLOAD_TOO_LARGE || status === HttpStatus.UNSUPPORTED_MEDIA_TYPE) return unreadableRequest(status);
  if (status >= 500) return new ServerError();
  const error = new (class extends OAuthError {
    readonly code = status === HttpStatus.METHOD_NOT_ALLOWED ? 'method_not_allowed' : 'invalid_request';
    readonly status = status;
  })(exception.message);
  return error;
}

/**
 * A browser on its way through an identity provider (initiate, SAML ACS, OIDC
 * callback) gets an error page it can act on; API callers keep the JSON.
 */
export function wantsPage(request: { url?: string; headers?: Record<string, string | string[] | undefined> }): boolean {
  const accept = String(request.headers?.accept ?? '');
  return /^\/oauth\/device\/sso\/(initiate|saml\/[^/]+\/acs|oidc\/[^/]+\/callback)(\?|$)/.test(request.url ?? '') && accept.includes('text/html');
}

/** The headers of the sign-in error page, in the language it was written in. */
export function pageHeaders(locale: string): Record<string, string> {
  return { ...PAGE_SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8', 'Content-Language': locale, Vary: 'Accept, Accept-Language' };
}

/** Name, message and the top of the stack: enough to debug, never request data. */
function describe(exception: unknown): Record<string, unknown> {
  if (!(exception instanceof Error)) return { value: String(exception) };
  return {
    name: exception.name,
    message: exception.message,
    code: (exception as { code?: unknown }).code,
    stack: exception.stack?.split('\n').slice(0, 6).join('\n'),
  };
}
