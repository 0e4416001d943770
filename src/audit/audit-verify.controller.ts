import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentToken, RequireScopes } from '../tokens/bearer-auth.guard';
import type { AuthenticatedToken } from '../tokens/token-validation.service';
import { AuditQueryService } from './audit-query.service';
import { AuditVerifyReportDto } from './dto/audit-events.dto';

@ApiTags('audit')
@Controller('v1/audit')
export class AuditVerifyController {
  constructor(private readonly auditQuery: AuditQueryService) {}

  @Get('verify')
  @RequireScopes('audit:read')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Recomputes the audit digest chain and reports the first break (events of other organizations unnamed)' })
  @ApiOkResponse({ type: AuditVerifyReportDto })
  verify(@CurrentToken() token: AuthenticatedToken) {
    return this.auditQuery.verify(token);
  }
}
