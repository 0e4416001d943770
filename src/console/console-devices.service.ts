import { Injectable } from '@nestjs/common';
import { userActor } from '../audit/audit-event';
import { type AuthorizationEntry, AuthorizationInventoryService } from '../tokens/authorization-inventory.service';
import { TokensService } from '../tokens/tokens.service';
import { type ConsoleSession, ConsoleSessionService } from './session/console-session.service';

/** One row of "my devices": an authorization, and whether this browser approved it. */
export interface ConsoleDevice extends AuthorizationEntry {
  thisBrowser: boolean;
}

/** "My devices": the person's live authorizations, and revoking them as the API does (pub/sub invalidation included). */
@Injectable()
export class ConsoleDevicesService {
  constructor(
    private readonly inventory: AuthorizationInventoryService,
    private readonly tokens: TokensService,
    private readonly sessions: ConsoleSessionService,
  ) {}

  /** `browserHash`: the hash of the asking browser's id, if it sent one. */
  async list(session: ConsoleSession, browserHash: string | undefined): Promise<{ devices: ConsoleDevice[] }> {
    const entries = await this.inventory.list(session.person.subjectId);
    return { devices: entries.map((entry) => ({ ...entry, thisBrowser: !!browserHash && entry.approvedFrom?.browserHash === browserHash })) };
  }

  /** True when one of the person's own live authorizations was revoked; audited with the person as actor. */
  async revoke(session: ConsoleSession, id: string): Promise<boolean> {
    const revoked = await this.tokens.revoke(session.origin, { kind: 'authorization', id, subjectId: session.person.subjectId }, 'user', userActor(session.person));
    return revoked.length > 0;
  }

  /**
   * "Revoke all but this browser's": every live authorization of the person
   * not approved from the browser of `browserHash` (those approved before
   * origins were kept, or from a browser without an id, included) is revoked
   * in one transaction, each audited with the person as actor; then every
   * other console session of the person ends.
   */
  async revokeAllButBrowser(session: ConsoleSession, browserHash: string): Promise<{ revoked: number; sessions: number }> {
    const revoked = await this.tokens.revoke(
      session.origin,
      { kind: 'subject_except_browser', subjectId: session.person.subjectId, browserHash },
      'user',
      userActor(session.person),
    );
    return { revoked: revoked.length, sessions: await this.sessions.closeOthers(session) };
  }
}
