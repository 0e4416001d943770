import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiClientAuthentication, ApiErrors } from '../common/api-responses';
import { ClientRegistry } from '../clients/client-registry.service';
import { OAuthParams } from '../common/http';
import { NoStore } from '../common/no-store';
import { InvalidClient, InvalidRequest, NotAResourceServer, TemporarilyUnavailable } from '../common/oauth-errors';
import { AppConfig } from '../config/app-config';
import { TokenValidationService } from './token-validation.service';
import { IntrospectionRequestDto, IntrospectionResponseDto } from './dto/introspection.dto';

/** RFC 7662 token introspection, for resource servers authenticated with their secret. */
@ApiTags('tokens')
@Controller('oauth')
export class IntrospectionController {
  constructor(
    private readonly clients: ClientRegistry,
    private readonly validation: TokenValidationService,
    private readonly config: AppConfig,
  ) {}

  @Post('introspect')
  @HttpCode(200)
  @NoStore()
  @ApiOperation({ summary: 'Token introspection (RFC 7662); unknown, expired or revoked tokens are {"active": false}' })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: IntrospectionRequestDto })
  @ApiClientAuthentication()
  @ApiOkResponse({ type: IntrospectionResponseDto, description: 'RFC 7662 §2.2' })
  @ApiErrors(InvalidRequest, InvalidClient, NotAResourceServer, TemporarilyUnavailable)
  async introspect(@Body() body: unknown, @Headers('authorization') authorization: string | undefined) {
    const params = new OAuthParams(body);
    const client = await this.clients.authenticate({
      authorization,
      clientId: params.optional('client_id'),
      clientSecret: params.optional('client_secret'),
    });
    if (client.type !== 'confidential') throw new InvalidClient('Introspection needs a confidential client and its secret', true);
    if (!client.resourceServer) throw new NotAResourceServer();
    const token = await this.validation.validate(params.required('token'));
    if (!token) return { active: false };
    return {
      active: true,
      scope: token.scopes.join(' '),
      client_id: token.clientId,
      sub: token.subjectId,
      username: token.email,
      email: token.email,
      ...(token.organizationId ? { org: token.organizationId } : {}),
      ...(token.deviceLabel ? { device_label: token.deviceLabel } : {}),
      token_type: 'Bearer',
      iat: Math.floor(token.issuedAt.getTime() / 1000),
      exp: Math.floor(token.expiresAt.getTime() / 1000),
      iss: this.config.publicUrl,
    };
  }
}
