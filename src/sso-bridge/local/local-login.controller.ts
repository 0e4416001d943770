import { Body, Controller, Post, Redirect } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiSeeOther } from '../../common/api-responses';
import { OAuthParams, Origin, ResponseHeaders } from '../../common/http';
import type { RequestContext } from '../../common/request-context';
import { InvalidCredentials, InvalidRequest, InvalidUserCode, NotFound, OrganizationMismatch } from '../../common/oauth-errors';
import { DeviceFlowService } from '../../device-flow/device-flow.service';
import { RATE_LIMITS, RateLimited } from '../../rate-limit/rate-limit';
import { SignInService } from '../sign-in.service';
import type { LocalUser } from '../../config/app-config';
import { authenticateWith } from '../passport-sign-in';
import { LocalUsersService } from './local-users.service';
import { LocalLoginRequestDto } from '../dto/sso.dto';
import { LOCAL_STRATEGY } from './local.strategy';

/** Subjects of the local connector carry this issuer. */
export const LOCAL_ISSUER = 'urn:devicegate:local';

@ApiTags('approval')
@Controller('oauth/device/sso/local')
export class LocalLoginController {
  constructor(
    private readonly users: LocalUsersService,
    private readonly deviceFlow: DeviceFlowService,
    private readonly signIn: SignInService,
  ) {}

  /** Signs a static user in for one user code; ends like every connector, with the approval-grant cookie. */
  @Post('login')
  @Redirect()
  @RateLimited(RATE_LIMITS.loginPerIp)
  @ApiOperation({ summary: 'Sign in as a local user for one user code (sets the approval-grant cookie)' })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: LocalLoginRequestDto })
  @ApiSeeOther('/device?sso_verified=1', true)
  @ApiErrors(InvalidRequest, InvalidUserCode, InvalidCredentials, OrganizationMismatch, NotFound)
  async login(@Body() body: unknown, @ResponseHeaders() headers: ResponseHeaders, @Origin() origin: RequestContext) {
    const connector = this.users.connector;
    if (!connector) throw new NotFound('The local connector is not enabled');
    const params = new OAuthParams(body);
    const pending = await this.deviceFlow.findPendingChargingBudget(origin, params.required('user_code'), 'sign_in');
    const username = params.required('username');
    const outcome = await authenticateWith<LocalUser>(LOCAL_STRATEGY, { body: { username, password: params.required('password') } });
    if (!('user' in outcome)) {
      await this.signIn.reject(origin, connector.id, 'invalid_credentials', pending, this.users.auditedUsername(username));
      throw new InvalidCredentials();
    }
    await this.signIn.complete(
      origin,
      connector.id,
      {
        issuer: LOCAL_ISSUER,
        externalId: outcome.user.username,
        email: outcome.user.email,
        name: outcome.user.name,
        organizationId: connector.organizationId,
      },
      pending,
      headers,
    );
    return { url: '/device?sso_verified=1', statusCode: 303 };
  }
}
