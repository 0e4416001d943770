import { Body, Controller, Get, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ClientIp, OAuthParams, RequestCookie, ResponseHeaders } from '../common/http';
import { NoStore } from '../common/no-store';
import { RATE_LIMITS, RateLimited } from '../rate-limit/rate-limit';
import { APPROVAL_GRANT_COOKIE } from './approval-grant.service';
import { ApprovalService } from './approval.service';

@ApiTags('approval')
@Controller('oauth/device')
export class ApprovalController {
  constructor(private readonly approvals: ApprovalService) {}

  @Get('approval-context')
  @NoStore()
  @RateLimited(RATE_LIMITS.approvalPerIp)
  @ApiOperation({ summary: 'What the signed-in person is asked to approve' })
  approvalContext(@RequestCookie(APPROVAL_GRANT_COOKIE) cookie: string | undefined, @ClientIp() ip: string) {
    return this.approvals.context(cookie, ip);
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
    return this.approvals.decide(true, { cookie, csrfToken, userCode: new OAuthParams(body).required('user_code'), headers });
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
    return this.approvals.decide(false, { cookie, csrfToken, userCode: new OAuthParams(body).required('user_code'), headers });
  }
}
