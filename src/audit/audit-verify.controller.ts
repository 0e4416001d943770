import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentToken, RequireScopes } from '../tokens/bearer-auth.guard';
import type { AuthenticatedToken } from '../tokens/token-validation.service';
import { AuditQueryService } from './audit-query.service';

@ApiTags('audit')
@Controller('v1/audit')
export class AuditVerifyController {
  constructor(private readonly auditQuery: AuditQueryService) {}

  @Get('verify')
  @RequireScopes('audit:read')
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({
    description:
      'Recomputes the audit digest chain: {ok: true, seals, events, last_event_id, digest} or {ok: false, break: {seal_seq, event_id?, reason}}',
  })
  verify(@CurrentToken() token: AuthenticatedToken) {
    return this.auditQuery.verify(token);
  }
}
