import { Injectable } from '@nestjs/common';
import { userActor } from '../audit/audit-event';
import { AuditService } from '../audit/audit.service';
import { InvalidRequest } from '../common/oauth-errors';
import { SubjectsRepository } from '../tokens/subjects.repository';
import { TokensService } from '../tokens/tokens.service';
import type { ConsoleSession } from './session/console-session.service';

/** Off-boarding from the console: every authorization of a person revoked (each one audited as token.revoked), then the off-boarding itself with its reason. */
@Injectable()
export class ConsoleAdminService {
  constructor(
    private readonly subjects: SubjectsRepository,
    private readonly tokens: TokensService,
    private readonly audit: AuditService,
  ) {}

  async offboard(session: ConsoleSession, subject: string, reason: string): Promise<number> {
    if (reason.trim().length === 0 || reason.length > 500) throw new InvalidRequest('Give a reason of at most 500 characters');
    const actor = userActor(session.person);
    const people = await this.subjects.findByIdOrEmail(subject.trim());
    let revoked = 0;
    for (const { id } of people) revoked += (await this.tokens.revoke({ kind: 'subject', subjectId: id }, 'admin', actor)).length;
    await this.audit.record({
      type: 'subject.offboarded',
      outcome: 'success',
      actor,
      details: { subject: subject.trim().slice(0, 320), subjects: people.map((person) => person.id), reason: reason.trim(), revoked },
    });
    return revoked;
  }
}
