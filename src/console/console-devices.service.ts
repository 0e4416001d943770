import { Injectable } from '@nestjs/common';
import { userActor } from '../audit/audit-event';
import { type AuthorizationEntry, AuthorizationInventoryService } from '../tokens/authorization-inventory.service';
import { TokensService } from '../tokens/tokens.service';
import type { ConsoleSession } from './session/console-session.service';

/** "My devices": the person's live authorizations, and revoking one of them as the API does (pub/sub invalidation included). */
@Injectable()
export class ConsoleDevicesService {
  constructor(
    private readonly inventory: AuthorizationInventoryService,
    private readonly tokens: TokensService,
  ) {}

  async list(session: ConsoleSession): Promise<{ devices: AuthorizationEntry[] }> {
    return { devices: await this.inventory.list(session.person.subjectId) };
  }

  /** True when one of the person's own live authorizations was revoked; audited with the person as actor. */
  async revoke(session: ConsoleSession, id: string): Promise<boolean> {
    const revoked = await this.tokens.revoke({ kind: 'authorization', id, subjectId: session.person.subjectId }, 'user', userActor(session.person));
    return revoked.length > 0;
  }
}
