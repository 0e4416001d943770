import { InvalidIssuer } from '../discovery';
import {
  AccessDenied,
  Cancelled,
  CredentialStoreError,
  ExpiredToken,
  InsufficientScope,
  InvalidClient,
  InvalidScope,
  NetworkError,
  NotFound,
  NotAvailable,
  NotLoggedIn,
  OAuthError,
  ProtocolError,
  RefreshOutcomeUnknown,
  ServerError,
  TemporarilyUnavailable,
  TooManyRequests,
} from '../errors';
import { AuditChainBroken, UsageError } from './cli-errors';

/** The documented exit codes of `devicegate` (README of the package). */
export const EXIT = {
  ok: 0,
  usage: 1,
  notLoggedIn: 2,
  denied: 3,
  expired: 4,
  unavailable: 5,
  refused: 6,
  notAvailable: 7,
  credentialStore: 8,
  auditBroken: 9,
  interrupted: 130,
} as const;

export interface Failure {
  exitCode: number;
  code: string;
  message: string;
  hint?: string;
}

/** What the person (or script) is told about an error, and the exit code. */
export function describeFailure(error: unknown, context: { clientId?: string; command?: string } = {}): Failure {
  const base = (exitCode: number, code: string, message: string, hint?: string): Failure => ({ exitCode, code, message, hint });
  if (error instanceof UsageError || error instanceof InvalidIssuer) return base(EXIT.usage, error.code, error.message, 'Run "devicegate help" for usage.');
  if (error instanceof Cancelled) return base(EXIT.interrupted, error.code, 'Interrupted.');
  if (error instanceof NotLoggedIn) {
    return base(EXIT.notLoggedIn, error.code, `${error.message}.`, 'Run "devicegate login --issuer <URL>" to log in.');
  }
  if (error instanceof AccessDenied && context.command === 'login') {
    return base(EXIT.denied, error.error, 'The login was denied on the approval page. Nothing was stored.');
  }
  if (error instanceof ExpiredToken) {
    return base(EXIT.expired, error.error, 'The code expired before it was approved. Nothing was stored.', 'Run "devicegate login" again for a new code.');
  }
  if (error instanceof RefreshOutcomeUnknown) return base(EXIT.unavailable, error.code, error.message);
  if (error instanceof NetworkError || error instanceof ProtocolError) return base(EXIT.unavailable, error.code, error.message);
  if (error instanceof ServerError || error instanceof TemporarilyUnavailable || error instanceof TooManyRequests) {
    const wait = error.retryAfter ? ` Try again in ${error.retryAfter} s.` : ' Try again later.';
    return base(EXIT.unavailable, error.error, `The server cannot answer right now: ${error.description ?? error.error}.${wait}`);
  }
  if (error instanceof InvalidClient) {
    return base(
      EXIT.refused,
      error.error,
      `The server refused client ${context.clientId ?? '?'}: ${error.description ?? error.error}.`,
      'Pass the client id your administrator registered with --client (or DEVICEGATE_CLIENT_ID).',
    );
  }
  if (error instanceof InsufficientScope) {
    const scope = /scopes? (.+)$/.exec(error.description ?? '')?.[1];
    return base(
      EXIT.refused,
      error.error,
      `${error.description ?? 'This login lacks a scope this needs'}.`,
      scope ? `Log in with it: devicegate login --scope "${scope}" (with a client allowed it).` : undefined,
    );
  }
  if (error instanceof InvalidScope) return base(EXIT.refused, error.error, `${error.description ?? 'A scope was refused'}.`);
  if (error instanceof NotFound) return base(EXIT.refused, error.error, `${error.description ?? 'Not found'}.`);
  if (error instanceof AccessDenied || error instanceof OAuthError) {
    return base(EXIT.refused, error.error, `The server refused: ${error.description ?? error.error} (${error.error}).`);
  }
  if (error instanceof NotAvailable) return base(EXIT.notAvailable, error.code, error.message);
  if (error instanceof CredentialStoreError) return base(EXIT.credentialStore, error.code, error.message);
  if (error instanceof AuditChainBroken) return base(EXIT.auditBroken, error.code, error.message);
  const message = error instanceof Error ? error.message : String(error);
  return base(EXIT.usage, 'unexpected_error', `Unexpected error: ${message}`);
}
