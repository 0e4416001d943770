import { Body, Controller, Get, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { constantTimeEqual } from '../common/crypto';
import { ClientIp, OAuthParams, RequestCookie, ResponseHeaders } from '../common/http';
import { NoStore } from '../common/no-store';
import { InvalidCsrfToken, InvalidRequest, LoginRequired } from '../common/oauth-errors';
import { RATE_LIMITS, RateLimited } from '../common/rate-limit';
import { AppConfig } from '../config/app-config';
import { DeviceFlowService } from '../device-flow/device-flow.service';
import { formatUserCode, normalizeUserCode } from '../device-flow/user-code';
import { APPROVAL_GRANT_COOKIE, ApprovalGrantService } from './approval-grant.service';

/**
 * The approval tail every connector ends in: what the signed-in person is
 * asked to approve, and the approve / deny decisions themselves. Both
 * decisions need the approval-grant cookie, its CSRF token in X-CSRF-Token
 * and the same user code, and use the grant up.
 */
@ApiTags('approval')
@Controller('oauth/device')
export class ApprovalController {
  private readonly scopeDescriptions: Map<string, string>;

  constructor(
    config: AppConfig,
    private readonly approvalGrants: ApprovalGrantService,
    private readonly deviceFlow: DeviceFlowService,
  ) {
    this.scopeDescriptions = new Map(config.scopes.map((scope) => [scope.name, scope.description]));
  }

  @Get('approval-context')
  @NoStore()
  @RateLimited(RATE_LIMITS.approvalPerIp)
  @ApiOperation({ summary: 'What the signed-in person is asked to approve' })
  async approvalContext(@RequestCookie(APPROVAL_GRANT_COOKIE) cookie: string | undefined, @ClientIp() ip: string) {
    const grant = await this.approvalGrants.read(cookie);
    const { flow, client } = await this.deviceFlow.findPending(grant.userCode);
    return {
      user_code: formatUserCode(grant.userCode),
      subject: { issuer: grant.approver.issuer, email: grant.approver.email, name: grant.approver.name },
      client: { id: client.clientId, name: client.name },
      device_label: flow.deviceLabel || null,
      scopes: flow.scopes.map((name) => ({ name, description: this.scopeDescriptions.get(name) ?? name })),
      request: {
        ip: flow.requestIp,
        user_agent: flow.userAgent,
        created_at: new Date(flow.createdAt).toISOString(),
      },
      approving_ip: ip,
      same_ip: ip === flow.requestIp,
      csrf_token: grant.csrfToken,
      expires_at: new Date(Math.min(grant.expiresAt, flow.expiresAt)).toISOString(),
    };
  }

  @Post('approve')
  @HttpCode(200)
  @NoStore()
  @RateLimited(RATE_LIMITS.approvalPerIp)
  @ApiOperation({ summary: 'Approve the device (cookie + X-CSRF-Token + user_code)' })
  approve(
    @RequestCookie(APPROVAL_GRANT_COOKIE) cookie: string | undefined,
    @Headers('x-csrf-token') csrfToken: string | undefined,
    @Body() body: unknown,
    @ResponseHeaders() headers: ResponseHeaders,
  ) {
    return this.decide(true, { cookie, csrfToken, body, headers });
  }

  @Post('deny')
  @HttpCode(200)
  @NoStore()
  @RateLimited(RATE_LIMITS.approvalPerIp)
  @ApiOperation({ summary: 'Deny the device (cookie + X-CSRF-Token + user_code)' })
  deny(
    @RequestCookie(APPROVAL_GRANT_COOKIE) cookie: string | undefined,
    @Headers('x-csrf-token') csrfToken: string | undefined,
    @Body() body: unknown,
    @ResponseHeaders() headers: ResponseHeaders,
  ) {
    return this.decide(false, { cookie, csrfToken, body, headers });
  }

  private async decide(
    approve: boolean,
    request: { cookie?: string; csrfToken?: string; body: unknown; headers: ResponseHeaders },
  ): Promise<{ status: 'approved' | 'denied' }> {
    const grant = await this.approvalGrants.read(request.cookie);
    if (!request.csrfToken || !constantTimeEqual(request.csrfToken, grant.csrfToken)) {
      throw new InvalidCsrfToken('The X-CSRF-Token header is missing or wrong; reload the page');
    }
    if (normalizeUserCode(new OAuthParams(request.body).required('user_code')) !== grant.userCode) {
      throw new InvalidRequest('This sign-in is for another code; sign in again for this one');
    }
    // Used up before the code is looked at, so a replay racing the first use hears login_required, never invalid_user_code.
    if (!(await this.approvalGrants.consume(grant))) throw new LoginRequired('This sign-in was already used; sign in again');
    this.approvalGrants.clear(request.headers);
    const pending = await this.deviceFlow.findPending(grant.userCode);
    await this.deviceFlow.decide(pending, approve ? { approve: true, approver: grant.approver } : { approve: false });
    return { status: approve ? 'approved' : 'denied' };
  }
}
