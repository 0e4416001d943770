import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentToken, RequireScopes } from './bearer-auth.guard';
import type { AuthenticatedToken } from './token-validation.service';
import { MeResponseDto } from './dto/me.dto';

@ApiTags('tokens')
@Controller('v1')
export class MeController {
  @Get('me')
  @RequireScopes()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "The presenting token's subject, client, device, scopes and expiry" })
  @ApiOkResponse({ type: MeResponseDto })
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
