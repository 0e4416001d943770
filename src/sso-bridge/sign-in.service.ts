import { Injectable } from '@nestjs/common';
import { type AuditEvent, userActor } from '../audit/audit-event';
import { AuditService } from '../audit/audit.service';
import type { ResponseHeaders } from '../common/http';
import type { RequestContext } from '../common/request-context';
import { OrganizationMismatch, SignInRejected } from '../common/oauth-errors';
import type { PendingFlow } from '../device-flow/device-flow.service';
import { OrganizationDirectory } from '../organizations/organization-directory.service';
import { type SignedInSubject, SubjectsRepository } from '../tokens/subjects.repository';
import { ConsoleSessionService } from '../console/session/console-session.service';
import { ApprovalGrantService } from './approval-grant.service';
import { emailDomain } from './sso-identity';

/**
 * How every connector ends: the subject provisioned, the sign-in audited,
 * and either the approval-grant cookie for one user code (`complete`) or a
 * console session (`completeConsole`); never both.
 */
@Injectable()
export class SignInService {
  constructor(
    private readonly subjects: SubjectsRepository,
    private readonly approvalGrants: ApprovalGrantService,
    private readonly consoleSessions: ConsoleSessionService,
    private readonly directory: OrganizationDirectory,
    private readonly audit: AuditService,
  ) {}

  async complete(origin: RequestContext, connector: string, identity: SignedInSubject, pending: PendingFlow, headers: ResponseHeaders): Promise<void> {
    await this.assertInTenant(origin, connector, identity.email, pending);
    await this.assertMayApprove(origin, connector, identity.organizationId, pending);
    const subjectId = await this.recordSignIn(identity, {
      origin,
      type: 'sso.assertion_accepted',
      clientId: pending.client.clientId,
      deviceLabel: pending.flow.deviceLabel,
      details: { connector },
    });
    await this.approvalGrants.issue({ subjectId, ...identity }, pending.userCode, pending.flow.expiresAt, headers);
  }

  async completeConsole(origin: RequestContext, connector: string, identity: SignedInSubject, headers: ResponseHeaders): Promise<void> {
    await this.assertInTenant(origin, connector, identity.email, undefined, { purpose: 'console' });
    const subjectId = await this.recordSignIn(identity, { origin, type: 'console.signed_in', details: { connector } });
    await this.consoleSessions.open({ subjectId, ...identity }, connector, headers);
  }

  /** The subject provisioned and its sign-in audited in one transaction; the subject's id. */
  private recordSignIn(identity: SignedInSubject, event: Pick<AuditEvent, 'origin' | 'type' | 'clientId' | 'deviceLabel' | 'details'>): Promise<string> {
    return this.audit.transaction(async (transaction) => {
      const subjectId = await this.subjects.upsertSignIn(identity, transaction.manager);
      await transaction.record({
        ...event,
        outcome: 'success',
        actor: userActor({ ...identity, subjectId }),
        organizationId: identity.organizationId,
      });
      return subjectId;
    });
  }

  /**
   * A connector speaks only for its organization's email domains: another
   * tenant's IdP asserting an address of ours is refused (and audited)
   * before anyone is provisioned.
   */
  private async assertInTenant(origin: RequestContext, connector: string, email: string, pending: PendingFlow | undefined, details: Record<string, unknown> = {}): Promise<void> {
    const domains = this.directory.connector(connector)?.emailDomains;
    const domain = emailDomain(email);
    if (!domains?.length || domains.includes(domain)) return;
    await this.reject(origin, connector, 'email_domain_mismatch', pending, { email_domain: domain, ...details });
    throw new SignInRejected('email_domain_mismatch', 'Your identity provider may not sign in addresses of that domain here');
  }

  /**
   * An organization-scoped client is approved only by its members: refused
   * (and audited) before any cookie is set when the person's connector
   * belongs to another organization or to none.
   */
  async assertMayApprove(origin: RequestContext, connector: string, organizationId: string | undefined, pending: PendingFlow): Promise<void> {
    const required = pending.client.organizationId;
    if (!required || required === organizationId) return;
    await this.reject(origin, connector, 'organization_mismatch', pending, { organization: organizationId ?? null, required });
    throw new OrganizationMismatch(this.directory.organization(required)?.name ?? required);
  }

  async reject(origin: RequestContext, connector: string, reason: string, pending?: PendingFlow, details: Record<string, unknown> = {}): Promise<void> {
    await this.audit.record({
      origin,
      type: 'sso.assertion_rejected',
      outcome: 'failure',
      organizationId: pending?.client.organizationId,
      clientId: pending?.client.clientId,
      deviceLabel: pending?.flow.deviceLabel,
      details: { connector, reason, ...details },
    });
  }
}
