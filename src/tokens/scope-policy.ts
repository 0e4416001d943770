import type { ScopeDefinition } from '../config/app-config';

/**
 * Who may hold which scope: a scope must be in the catalog, and a scope the
 * config restricts (`granted_to`) is only for the people listed. Applied when
 * a token is minted and again whenever it is validated, so taking someone off
 * the list takes the scope from their live tokens at once.
 */
export class ScopePolicy {
  private readonly scopes: Map<string, ScopeDefinition>;

  constructor(definitions: ScopeDefinition[]) {
    this.scopes = new Map(definitions.map((scope) => [scope.name, scope]));
  }

  grantable(scope: string, email: string): boolean {
    const definition = this.scopes.get(scope);
    if (!definition) return false;
    return !definition.grantedTo || definition.grantedTo.includes(email.toLowerCase());
  }
}
