import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireScopes } from '../tokens/bearer-auth.guard';
import { AuditVerifierService } from './audit-verifier.service';
import { AuditVerifyReportDto } from './dto/audit-events.dto';

@ApiTags('audit')
@Controller('v1/audit')
export class AuditVerifyController {
  constructor(private readonly verifier: AuditVerifierService) {}

  @Get('verify')
  @RequireScopes('audit:read')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Recomputes the audit digest chain and reports the first break' })
  @ApiOkResponse({ type: AuditVerifyReportDto })
  verify() {
    return this.verifier.verify();
  }
}
