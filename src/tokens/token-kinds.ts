import type { ClientDefinition } from '../config/app-config';
import type { ScopeHolder, ScopePolicy } from './scope-policy';

export type TokenKindName = 'dgat' | 'dgrt';

export interface TokenKind {
  prefix: TokenKindName;
  /** Who a token of this kind speaks for. */
  subjectType: 'user';
  /** Presented to resource servers as `Authorization: Bearer` (a refresh token never is). */
  bearer: boolean;
  /** The most a token of this kind may do today, whatever scopes its row was granted. */
  ceiling(client: ClientDefinition, policy: ScopePolicy, holder: ScopeHolder): ReadonlySet<string>;
}

/**
 * What the client is allowed now, of the scopes the person may hold now:
 * narrowing a client, or taking someone off a restricted scope, narrows the
 * live tokens at once.
 */
const clientScopes = (client: ClientDefinition, policy: ScopePolicy, holder: ScopeHolder) =>
  new Set(client.allowedScopes.filter((scope) => policy.grantable(scope, holder)));

/**
 * Every kind of token devicegate issues, by prefix. Validation stamps the
 * kind's ceiling on each token, so a scope column alone never grants anything.
 */
export const TOKEN_KINDS: Record<TokenKindName, TokenKind> = {
  dgat: { prefix: 'dgat', subjectType: 'user', bearer: true, ceiling: clientScopes },
  dgrt: { prefix: 'dgrt', subjectType: 'user', bearer: false, ceiling: clientScopes },
};

/** The scopes a token may use: what it was granted, within its kind's ceiling. */
export function effectiveScopes(
  kind: TokenKind,
  granted: string[],
  client: ClientDefinition,
  policy: ScopePolicy,
  holder: ScopeHolder,
): string[] {
  const ceiling = kind.ceiling(client, policy, holder);
  return granted.filter((scope) => ceiling.has(scope));
}
