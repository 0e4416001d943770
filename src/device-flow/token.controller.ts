import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ClientRegistry } from '../clients/client-registry.service';
import { ApiClientAuthentication, ApiErrors } from '../common/api-responses';
import { OAuthParams, Origin } from '../common/http';
import { NoStore } from '../common/no-store';
import type { RequestContext } from '../common/request-context';
import {
  AccessDenied,
  AuthorizationPending,
  ExpiredToken,
  InvalidClient,
  InvalidGrant,
  InvalidRequest,
  InvalidScope,
  SlowDown,
  TemporarilyUnavailable,
  UnauthorizedClient,
  UnsupportedGrantType,
} from '../common/oauth-errors';
import { DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT } from '../config/app-config';
import { TokensService } from '../tokens/tokens.service';
import { DeviceFlowService } from './device-flow.service';
import { TokenRequestDto, TokenResponseDto } from './dto/token.dto';

@ApiTags('RFC 8628 device flow')
@Controller('oauth')
export class TokenController {
  constructor(
    private readonly clients: ClientRegistry,
    private readonly deviceFlow: DeviceFlowService,
    private readonly tokens: TokensService,
  ) {}

  @Post('token')
  @HttpCode(200)
  @NoStore()
  @ApiOperation({ summary: 'Token request: device access token (RFC 8628 §3.4–3.5) or refresh with rotation (RFC 6749 §6)' })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: TokenRequestDto })
  @ApiClientAuthentication()
  @ApiOkResponse({ type: TokenResponseDto, description: 'RFC 6749 §5.1 (Cache-Control: no-store)' })
  @ApiErrors(
    InvalidRequest,
    AuthorizationPending,
    SlowDown,
    AccessDenied,
    ExpiredToken,
    InvalidGrant,
    InvalidScope,
    UnsupportedGrantType,
    UnauthorizedClient,
    InvalidClient,
    TemporarilyUnavailable,
  )
  async token(@Body() body: unknown, @Headers('authorization') authorization: string | undefined, @Origin() origin: RequestContext) {
    const params = new OAuthParams(body);
    const grantType = params.required('grant_type');
    if (grantType !== DEVICE_CODE_GRANT && grantType !== REFRESH_TOKEN_GRANT) {
      throw new UnsupportedGrantType(`grant_type ${grantType} is not supported`);
    }
    const client = await this.clients.authenticate({
      authorization,
      clientId: params.optional('client_id'),
      clientSecret: params.optional('client_secret'),
    });
    if (!client.grantTypes.includes(grantType)) {
      throw new UnauthorizedClient(
        grantType === DEVICE_CODE_GRANT ? 'This client may not use the device authorization grant' : 'This client does not get refresh tokens',
      );
    }
    if (grantType === DEVICE_CODE_GRANT) return this.deviceFlow.poll(origin, client, params.required('device_code'));
    const refreshed = await this.tokens.refresh(origin, client, params.required('refresh_token'), params.optional('scope'));
    return {
      access_token: refreshed.accessToken,
      token_type: 'Bearer',
      expires_in: refreshed.expiresIn,
      refresh_token: refreshed.refreshToken,
      scope: refreshed.scopes.join(' '),
    };
  }
}
