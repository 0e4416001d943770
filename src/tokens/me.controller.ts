import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentToken, RequireScopes } from './bearer-auth.guard';
import type { AuthenticatedToken } from './token-validation.service';

@ApiTags('tokens')
@Controller('v1')
export class MeController {
  @Get('me')
  @RequireScopes()
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ description: "The token's subject, client, device, scopes and expiry" })
  me(@CurrentToken() token: AuthenticatedToken) {
    return {
      sub: token.subjectId,
      issuer: token.issuer,
      external_id: token.externalId,
      email: token.email,
      name: token.name,
      organization: token.organizationId,
      client_id: token.clientId,
      device_label: token.deviceLabel || null,
      scopes: token.scopes,
      authorization_id: token.id,
      expires_at: token.expiresAt.toISOString(),
    };
  }
}
