import { Injectable } from '@nestjs/common';
import { userActor } from '../audit/audit-event';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { constantTimeEqual } from '../common/crypto';
import type { ResponseHeaders } from '../common/http';
import { InvalidCsrfToken, InvalidRequest, type OAuthError, OrganizationMismatch } from '../common/oauth-errors';
import { AppConfig } from '../config/app-config';
import { OrganizationDirectory } from '../organizations/organization-directory.service';
import type { ApprovalOrigin } from '../common/browser-id';
import type { RequestContext } from '../common/request-context';
import { ScopePolicy } from '../tokens/scope-policy';
import { DeviceFlowService } from '../device-flow/device-flow.service';
import { formatUserCode, normalizeUserCode } from '../device-flow/user-code';
import { type ApprovalGrant, ApprovalGrantRefused, ApprovalGrantService, type RefusalReason } from './approval-grant.service';

export interface DecisionRequest {
  cookie?: string;
  csrfToken?: string;
  userCode: unknown;
  headers: ResponseHeaders;
  /** The browser the decision comes from. */
  origin: ApprovalOrigin;
  /** The request carrying it. */
  context: RequestContext;
}

/**
 * The approval tail every connector ends in: what the signed-in person is
 * asked to approve, and the decision itself, which needs the approval-grant
 * cookie, its CSRF token and the same user code, and uses the grant up.
 * Every refusal is audited.
 */
@Injectable()
export class ApprovalService {
  private readonly scopeDescriptions: Map<string, string>;
  private readonly policy: ScopePolicy;

  constructor(
    config: AppConfig,
    private readonly approvalGrants: ApprovalGrantService,
    private readonly deviceFlow: DeviceFlowService,
    private readonly audit: AuditService,
    private readonly directory: OrganizationDirectory,
    private readonly clock: Clock,
  ) {
    this.scopeDescriptions = new Map(config.scopes.map((scope) => [scope.name, scope.description]));
    this.policy = new ScopePolicy(config.scopes);
  }

  async context(cookie: string | undefined, context: RequestContext) {
    const { ip } = context;
    const grant = await this.approvalGrants.read(cookie);
    const { flow, client } = await this.deviceFlow.findPendingOfVerifiedCode(context, grant.userCode, 'approval');
    return {
      user_code: formatUserCode(grant.userCode),
      subject: {
        issuer: grant.approver.issuer,
        email: grant.approver.email,
        name: grant.approver.name,
        organization: this.organizationView(grant.approver.organizationId),
      },
      client: { id: client.clientId, name: client.name, organization: this.organizationView(client.organizationId) },
      device_label: flow.deviceLabel || null,
      // What the token will hold, and what was asked for that this person may not grant (restricted scopes).
      scopes: this.describe(flow.scopes.filter((name) => this.policy.grantable(name, grant.approver))),
      withheld_scopes: this.describe(flow.scopes.filter((name) => !this.policy.grantable(name, grant.approver))),
      request: {
        ip: flow.requestIp,
        user_agent: flow.userAgent,
        created_at: new Date(flow.createdAt).toISOString(),
      },
      approving_ip: ip,
      same_ip: ip === flow.requestIp,
      csrf_token: grant.csrfToken,
      expires_at: new Date(Math.min(grant.expiresAt, flow.expiresAt)).toISOString(),
      // Seconds, so a page can count down without trusting the browser's clock.
      expires_in: Math.max(0, Math.floor((Math.min(grant.expiresAt, flow.expiresAt) - this.clock.now()) / 1000)),
    };
  }

  async decide(approve: boolean, request: DecisionRequest): Promise<{ status: 'approved' | 'denied' }> {
    const refuse = async (reason: RefusalReason, error: OAuthError, grant?: ApprovalGrant) => {
      await this.audit.record({
        origin: request.context,
        type: 'approval_grant.refused',
        outcome: 'failure',
        actor: grant && userActor(grant.approver),
        details: { reason, decision: approve ? 'approve' : 'deny' },
      });
      return error;
    };
    const grant = await this.approvalGrants.read(request.cookie).catch(async (error: unknown) => {
      throw error instanceof ApprovalGrantRefused ? await refuse(error.reason, error, error.grant) : error;
    });
    if (!request.csrfToken || !constantTimeEqual(request.csrfToken, grant.csrfToken)) {
      throw await refuse('csrf_mismatch', new InvalidCsrfToken('The X-CSRF-Token header is missing or wrong; reload the page'), grant);
    }
    if (normalizeUserCode(request.userCode) !== grant.userCode) {
      throw await refuse('code_mismatch', new InvalidRequest('This sign-in is for another code; sign in again for this one'), grant);
    }
    // Used up before the code is looked at, so a replay racing the first use hears login_required, never invalid_user_code.
    await this.approvalGrants.consume(grant).catch(async (error: unknown) => {
      throw error instanceof ApprovalGrantRefused ? await refuse(error.reason, error, error.grant) : error;
    });
    const pending = await this.deviceFlow.findPendingOfVerifiedCode(request.context, grant.userCode, 'approval');
    if (pending.client.organizationId && pending.client.organizationId !== grant.approver.organizationId) {
      throw await refuse('organization_mismatch', new OrganizationMismatch(this.organizationView(pending.client.organizationId)?.name ?? pending.client.organizationId), grant);
    }
    this.approvalGrants.clear(request.headers);
    await this.deviceFlow.decide(request.context, pending, grant.approver, approve, request.origin);
    return { status: approve ? 'approved' : 'denied' };
  }

  private describe(scopes: string[]) {
    return scopes.map((name) => ({ name, description: this.scopeDescriptions.get(name) ?? name }));
  }

  private organizationView(id: string | undefined) {
    const organization = this.directory.organization(id);
    return organization ? { id: organization.id, name: organization.name } : null;
  }
}
