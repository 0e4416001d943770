import { Body, Controller, Param, Post, Redirect } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiSeeOther } from '../../common/api-responses';
import { OAuthParams, Origin, ResponseHeaders } from '../../common/http';
import type { RequestContext } from '../../common/request-context';
import {
  DirectoryUnavailable,
  InvalidCredentials,
  InvalidRequest,
  InvalidUserCode,
  NotFound,
  OrganizationMismatch,
  SignInRejected,
} from '../../common/oauth-errors';
import { LocalLoginRequestDto } from '../dto/sso.dto';
import { DeviceFlowService } from '../../device-flow/device-flow.service';
import { OrganizationDirectory } from '../../organizations/organization-directory.service';
import { RATE_LIMITS, RateLimited } from '../../rate-limit/rate-limit';
import { SignInService } from '../sign-in.service';
import { LdapConnectors } from './ldap-connectors.service';

@ApiTags('approval')
@Controller('oauth/device/sso/ldap')
export class LdapLoginController {
  constructor(
    private readonly directory: OrganizationDirectory,
    private readonly deviceFlow: DeviceFlowService,
    private readonly ldap: LdapConnectors,
    private readonly signIn: SignInService,
  ) {}

  /** Checks a directory name and password for one user code; ends like every connector, with the approval-grant cookie. */
  @Post(':connector/login')
  @Redirect()
  @RateLimited(RATE_LIMITS.loginPerIp)
  @ApiOperation({ summary: "Sign in with the company directory's name and password (LDAP) for one user code" })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiParam({ name: 'connector', description: 'The id of an LDAP connector' })
  @ApiBody({ type: LocalLoginRequestDto })
  @ApiSeeOther('/device?sso_verified=1', true)
  @ApiErrors(InvalidRequest, InvalidUserCode, InvalidCredentials, SignInRejected, OrganizationMismatch, NotFound, DirectoryUnavailable)
  async login(@Param('connector') id: string, @Body() body: unknown, @ResponseHeaders() headers: ResponseHeaders, @Origin() origin: RequestContext) {
    const connector = this.directory.connector(id);
    if (connector?.type !== 'ldap') throw new NotFound(`There is no LDAP connector "${id.slice(0, 64)}"`);
    const params = new OAuthParams(body);
    const pending = await this.deviceFlow.findPendingChargingBudget(origin, params.required('user_code'), 'sign_in');
    const credentials = { username: params.required('username'), password: params.required('password') };
    await this.signIn.assertMayApprove(origin, connector.id, connector.organizationId, pending);
    const identity = await this.ldap.authenticate(origin, connector, credentials, pending);
    await this.signIn.complete(origin, connector.id, { ...identity, organizationId: connector.organizationId }, pending, headers);
    return { url: '/device?sso_verified=1', statusCode: 303 };
  }
}
