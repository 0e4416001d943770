import type { ClientDefinition } from '../config/app-config';

export type TokenKindName = 'dgat' | 'dgrt';

export interface TokenKind {
  prefix: TokenKindName;
  /** Who a token of this kind speaks for. */
  subjectType: 'user';
  /** Presented to resource servers as `Authorization: Bearer` (a refresh token never is). */
  bearer: boolean;
  /** The most a token of this kind may do today, whatever scopes its row was granted. */
  ceiling(client: ClientDefinition, catalog: ReadonlySet<string>): ReadonlySet<string>;
}

/** What the client is allowed now, within the scope catalog: narrowing a client narrows its live tokens at once. */
const clientScopes = (client: ClientDefinition, catalog: ReadonlySet<string>) =>
  new Set(client.allowedScopes.filter((scope) => catalog.has(scope)));

/**
 * Every kind of token devicegate issues, by prefix. Validation stamps the
 * kind's ceiling on each token, so a scope column alone never grants anything.
 */
export const TOKEN_KINDS: Record<TokenKindName, TokenKind> = {
  dgat: { prefix: 'dgat', subjectType: 'user', bearer: true, ceiling: clientScopes },
  dgrt: { prefix: 'dgrt', subjectType: 'user', bearer: false, ceiling: clientScopes },
};

/** The scopes a token may use: what it was granted, within its kind's ceiling. */
export function effectiveScopes(kind: TokenKind, granted: string[], client: ClientDefinition, catalog: ReadonlySet<string>): string[] {
  const ceiling = kind.ceiling(client, catalog);
  return granted.filter((scope) => ceiling.has(scope));
}
