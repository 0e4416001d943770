import { Body, Controller, Get, Header, Param, Post, Query, Redirect } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiSeeOther } from '../common/api-responses';
import { OAuthParams, Origin, RequestPath, ResponseHeaders } from '../common/http';
import type { RequestContext } from '../common/request-context';
import {
  IdentityProviderUnavailable,
  InvalidRequest,
  InvalidUserCode,
  NotFound,
  OrganizationMismatch,
  SignInRejected,
} from '../common/oauth-errors';
import { AppConfig } from '../config/app-config';
import { OrganizationDirectory } from '../organizations/organization-directory.service';
import { RATE_LIMITS, RateLimited } from '../rate-limit/rate-limit';
import { SamlConnectors } from './saml/saml-connectors.service';
import { SsoService } from './sso.service';
import { InitiateQueryDto, OidcCallbackQueryDto, SamlResponseDto } from './dto/sso.dto';

const ApiConnector = () => ApiParam({ name: 'connector', type: String, description: 'The connector id of the config file' });
/** What an IdP's answer may end in; a browser (Accept: text/html) gets these errors as a page it can act on. */
const ApiSignInErrors = () => ApiErrors(SignInRejected, InvalidUserCode, OrganizationMismatch, NotFound);

const SIGNED_IN = { approval: { url: '/device?sso_verified=1', statusCode: 303 }, console: { url: '/console', statusCode: 303 } } as const;

@ApiTags('approval')
@Controller('oauth/device/sso')
export class SsoController {
  constructor(
    private readonly sso: SsoService,
    private readonly directory: OrganizationDirectory,
    private readonly samlConnectors: SamlConnectors,
    private readonly config: AppConfig,
  ) {}

  @Get('initiate')
  @Redirect()
  @RateLimited(RATE_LIMITS.loginPerIp)
  @ApiOperation({ summary: "Start signing in at the company's identity provider for one user code (connector or email)" })
  @ApiQuery({ type: InitiateQueryDto })
  @ApiSeeOther("the connector's identity provider, with the state envelope")
  @ApiErrors(InvalidRequest, InvalidUserCode, OrganizationMismatch, NotFound, IdentityProviderUnavailable)
  async initiate(@Query() query: unknown, @Origin() origin: RequestContext) {
    const params = new OAuthParams(query);
    const url = await this.sso.initiate(origin, {
      userCode: params.required('user_code'),
      connector: params.optional('connector'),
      email: params.optional('email'),
    });
    return { url, statusCode: 303 };
  }

  @Post('saml/:connector/acs')
  @Redirect()
  @RateLimited(RATE_LIMITS.loginPerIp)
  @ApiOperation({ summary: 'SAML assertion consumer service (HTTP-POST binding); sets the approval-grant cookie (or the console session when the sign-in began at /console)' })
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiConnector()
  @ApiBody({ type: SamlResponseDto })
  @ApiSeeOther('/device?sso_verified=1', true)
  @ApiSignInErrors()
  @ApiErrors(InvalidRequest)
  async acs(@Param('connector') connector: string, @Body() body: unknown, @ResponseHeaders() headers: ResponseHeaders, @Origin() origin: RequestContext) {
    const params = new OAuthParams(body);
    const purpose = await this.sso.completeSaml(
      origin,
      connector,
      { SAMLResponse: params.optional('SAMLResponse'), RelayState: params.optional('RelayState') },
      headers,
    );
    return SIGNED_IN[purpose];
  }

  @Get('saml/:connector/metadata')
  @Header('Content-Type', 'application/samlmetadata+xml; charset=utf-8')
  @ApiOperation({ summary: "The service provider metadata to give the IdP's administrator" })
  @ApiConnector()
  @ApiProduces('application/samlmetadata+xml')
  @ApiOkResponse({ schema: { type: 'string', description: 'SAML 2.0 metadata (an EntityDescriptor)' } })
  @ApiErrors(NotFound)
  metadata(@Param('connector') id: string) {
    const connector = this.directory.connector(id);
    if (connector?.type !== 'saml') throw new NotFound(`There is no SAML connector "${id.slice(0, 64)}"`);
    return this.samlConnectors.metadata(connector);
  }

  @Get('oidc/:connector/callback')
  @Redirect()
  @RateLimited(RATE_LIMITS.loginPerIp)
  @ApiOperation({ summary: 'OpenID Connect redirect URI; sets the approval-grant cookie (or the console session when the sign-in began at /console)' })
  @ApiConnector()
  @ApiQuery({ type: OidcCallbackQueryDto })
  @ApiSeeOther('/device?sso_verified=1', true)
  @ApiSignInErrors()
  @ApiErrors(IdentityProviderUnavailable)
  async callback(
    @Param('connector') connector: string,
    @RequestPath() path: string,
    @ResponseHeaders() headers: ResponseHeaders,
    @Origin() origin: RequestContext,
  ) {
    const purpose = await this.sso.completeOidc(origin, connector, new URL(path, `${this.config.publicUrl}/`), headers);
    return SIGNED_IN[purpose];
  }
}
