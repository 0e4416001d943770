import { Injectable } from '@nestjs/common';
import { userActor } from '../audit/audit-event';
import { AuditService } from '../audit/audit.service';
import type { ResponseHeaders } from '../common/http';
import type { PendingFlow } from '../device-flow/device-flow.service';
import { type SignedInSubject, SubjectsRepository } from '../tokens/subjects.repository';
import { ApprovalGrantService } from './approval-grant.service';

/** How every connector ends: the subject provisioned, the sign-in audited, the approval-grant cookie set. */
@Injectable()
export class SignInService {
  constructor(
    private readonly subjects: SubjectsRepository,
    private readonly approvalGrants: ApprovalGrantService,
    private readonly audit: AuditService,
  ) {}

  async complete(connector: string, identity: SignedInSubject, pending: PendingFlow, headers: ResponseHeaders): Promise<void> {
    const subjectId = await this.audit.transaction(async (transaction) => {
      const id = await this.subjects.upsertSignIn(identity, transaction.manager);
      await transaction.record({
        type: 'sso.assertion_accepted',
        outcome: 'success',
        actor: userActor({ ...identity, subjectId: id }),
        clientId: pending.client.clientId,
        deviceLabel: pending.flow.deviceLabel,
        details: { connector },
      });
      return id;
    });
    await this.approvalGrants.issue({ subjectId, ...identity }, pending.userCode, pending.flow.expiresAt, headers);
  }

  async reject(connector: string, reason: string, pending: PendingFlow, details: Record<string, unknown> = {}): Promise<void> {
    await this.audit.record({
      type: 'sso.assertion_rejected',
      outcome: 'failure',
      clientId: pending.client.clientId,
      deviceLabel: pending.flow.deviceLabel,
      details: { connector, reason, ...details },
    });
  }
}
