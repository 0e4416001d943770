import type { ScopeDefinition, ScopeGrantee } from '../config/app-config';

/** Who is asking to hold a scope: the subject, the organization it signed in for, and its email. */
export interface ScopeHolder {
  subjectId: string;
  organizationId?: string | null;
  email: string;
}

/**
 * Who may hold which scope: a scope must be in the catalog, and a scope the
 * config restricts (`granted_to`) is only for the people listed, each named
 * by subject id or by organization and email; a bare email names a person
 * of no organization (a local user), never an identity any organization's
 * IdP asserts. Applied when a token is minted and again whenever it is
 * validated, so taking someone off the list takes the scope from their live
 * tokens at once.
 */
export class ScopePolicy {
  private readonly scopes: Map<string, ScopeDefinition>;

  constructor(definitions: ScopeDefinition[]) {
    this.scopes = new Map(definitions.map((scope) => [scope.name, scope]));
  }

  grantable(scope: string, holder: ScopeHolder): boolean {
    const definition = this.scopes.get(scope);
    if (!definition) return false;
    return !definition.grantedTo || definition.grantedTo.some((grantee) => matches(grantee, holder));
  }

  /** Whether the catalog restricts `scope` and lists this holder: what opens a view of the console, where no client asks for the scope. */
  grantedExplicitly(scope: string, holder: ScopeHolder): boolean {
    return this.scopes.get(scope)?.grantedTo?.some((grantee) => matches(grantee, holder)) ?? false;
  }
}

function matches(grantee: ScopeGrantee, holder: ScopeHolder): boolean {
  if ('subjectId' in grantee) return grantee.subjectId === holder.subjectId;
  return grantee.organizationId === (holder.organizationId ?? null) && grantee.email === holder.email.toLowerCase();
}
