import { applyDecorators, Body, Controller, Get, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiCookieAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-responses';
import { type ApprovalOrigin, ApprovingBrowser } from '../common/browser-id';
import { OAuthParams, Origin, RequestCookie, ResponseHeaders } from '../common/http';
import { NoStore } from '../common/no-store';
import type { RequestContext } from '../common/request-context';
import { InvalidCsrfToken, InvalidRequest, InvalidUserCode, LoginRequired, OrganizationMismatch } from '../common/oauth-errors';
import { RATE_LIMITS, RateLimited } from '../rate-limit/rate-limit';
import { APPROVAL_GRANT_COOKIE } from './approval-grant.service';
import { ApprovalService } from './approval.service';
import { ApprovalContextDto, DecisionRequestDto, DecisionResponseDto } from './dto/approval.dto';

const ApiDecision = () =>
  applyDecorators(
    ApiCookieAuth('approval_grant'),
    ApiHeader({ name: 'X-CSRF-Token', required: true, description: 'csrf_token of the approval context' }),
    ApiConsumes('application/json', 'application/x-www-form-urlencoded'),
    ApiBody({ type: DecisionRequestDto }),
    ApiOkResponse({ type: DecisionResponseDto }),
    ApiErrors(InvalidRequest, InvalidUserCode, LoginRequired, InvalidCsrfToken, OrganizationMismatch),
  );

@ApiTags('approval')
@Controller('oauth/device')
export class ApprovalController {
  constructor(private readonly approvals: ApprovalService) {}

  @Get('approval-context')
  @NoStore()
  @RateLimited(RATE_LIMITS.approvalPerIp)
  @ApiOperation({ summary: 'What the signed-in person is asked to approve' })
  @ApiCookieAuth('approval_grant')
  @ApiOkResponse({ type: ApprovalContextDto })
  @ApiErrors(LoginRequired, InvalidUserCode)
  approvalContext(@RequestCookie(APPROVAL_GRANT_COOKIE) cookie: string | undefined, @Origin() context: RequestContext) {
    return this.approvals.context(cookie, context);
  }

  @Post('approve')
  @HttpCode(200)
  @NoStore()
  @RateLimited(RATE_LIMITS.approvalPerIp)
  @ApiOperation({ summary: 'Approve the device (cookie + X-CSRF-Token + user_code)' })
  @ApiDecision()
  approve(
    @RequestCookie(APPROVAL_GRANT_COOKIE) cookie: string | undefined,
    @Headers('x-csrf-token') csrfToken: string | undefined,
    @Body() body: unknown,
    @ResponseHeaders() headers: ResponseHeaders,
    @ApprovingBrowser() origin: ApprovalOrigin,
    @Origin() context: RequestContext,
  ) {
    return this.approvals.decide(true, { cookie, csrfToken, userCode: new OAuthParams(body).required('user_code'), headers, origin, context });
  }

  @Post('deny')
  @HttpCode(200)
  @NoStore()
  @RateLimited(RATE_LIMITS.approvalPerIp)
  @ApiOperation({ summary: 'Deny the device (cookie + X-CSRF-Token + user_code)' })
  @ApiDecision()
  deny(
    @RequestCookie(APPROVAL_GRANT_COOKIE) cookie: string | undefined,
    @Headers('x-csrf-token') csrfToken: string | undefined,
    @Body() body: unknown,
    @ResponseHeaders() headers: ResponseHeaders,
    @ApprovingBrowser() origin: ApprovalOrigin,
    @Origin() context: RequestContext,
  ) {
    return this.approvals.decide(false, { cookie, csrfToken, userCode: new OAuthParams(body).required('user_code'), headers, origin, context });
  }
}
