import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppConfig, DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT } from '../config/app-config';
import { AuthorizationServerMetadataDto } from './dto/authorization-server-metadata.dto';

@ApiTags('discovery')
@Controller('.well-known')
export class DiscoveryController {
  private readonly metadata: Record<string, unknown>;

  constructor(config: AppConfig) {
    const issuer = config.publicUrl;
    this.metadata = {
      issuer,
      device_authorization_endpoint: `${issuer}/oauth/device/code`,
      token_endpoint: `${issuer}/oauth/token`,
      introspection_endpoint: `${issuer}/oauth/introspect`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
      grant_types_supported: [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT],
      response_types_supported: [],
      scopes_supported: config.scopes.map((scope) => scope.name),
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      device_authorization_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      ...(config.docsEnabled ? { service_documentation: `${issuer}/docs` } : {}),
    };
  }

  /** RFC 8414 authorization server metadata. */
  @Get('oauth-authorization-server')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'Authorization server metadata (RFC 8414)' })
  @ApiOkResponse({ type: AuthorizationServerMetadataDto })
  metadataDocument() {
    return this.metadata;
  }
}
