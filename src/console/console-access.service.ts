import { HttpStatus, Injectable } from '@nestjs/common';
import { OAuthError } from '../common/oauth-errors';
import { AppConfig } from '../config/app-config';
import { ScopePolicy } from '../tokens/scope-policy';
import { CONSOLE_STRINGS } from './console-strings';
import type { ConsoleAccess } from './console.view';
import type { ConsoleSession } from './session/console-session.service';

export class ConsoleForbidden extends OAuthError {
  readonly code = 'access_denied';
  readonly status = HttpStatus.FORBIDDEN;

  constructor() {
    super(CONSOLE_STRINGS.forbidden);
  }
}

/**
 * What a person may open beyond "my devices", from the scope catalog's
 * `granted_to` lists, the same rules that let a token hold the scope: the
 * audit view needs `audit:read` granted to the person by name, the admin
 * view `admin`. Both are scoped as a token of the person would be: to the
 * organization the person signed in for, or to everything for a person of
 * no organization.
 */
@Injectable()
export class ConsoleAccessService {
  private readonly policy: ScopePolicy;

  constructor(config: AppConfig) {
    this.policy = new ScopePolicy(config.scopes);
  }

  of(session: ConsoleSession): ConsoleAccess {
    const holder = { subjectId: session.person.subjectId, organizationId: session.person.organizationId ?? null, email: session.person.email };
    return {
      audit: this.policy.grantedExplicitly('audit:read', holder),
      admin: this.policy.grantedExplicitly('admin', holder),
    };
  }

  assert(session: ConsoleSession, view: keyof ConsoleAccess): ConsoleAccess {
    const access = this.of(session);
    if (!access[view]) throw new ConsoleForbidden();
    return access;
  }
}
