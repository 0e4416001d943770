import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-responses';
import { InvalidRequest } from '../common/oauth-errors';
import { NoStore } from '../common/no-store';
import { CurrentToken, RequireScopes } from '../tokens/bearer-auth.guard';
import type { AuthenticatedToken } from '../tokens/token-validation.service';
import { AuditQueryService } from './audit-query.service';
import { AuditEventDto, AuditEventPageDto, AuditEventsQueryDto, AuditExportQueryDto } from './dto/audit-events.dto';

@ApiTags('audit')
@Controller('v1/audit/events')
export class AuditEventsController {
  constructor(private readonly auditQuery: AuditQueryService) {}

  @Get()
  @RequireScopes('audit:read')
  @NoStore()
  @ApiOperation({ summary: 'Audit events in chain order, filtered, keyset-paginated' })
  @ApiQuery({ type: AuditEventsQueryDto })
  @ApiOkResponse({ type: AuditEventPageDto })
  @ApiErrors(InvalidRequest)
  events(@Query() query: unknown, @CurrentToken() token: AuthenticatedToken) {
    return this.auditQuery.page(query, token);
  }

  @Get('export')
  @RequireScopes('audit:read')
  @NoStore()
  @ApiOperation({ summary: 'Every matching event as NDJSON, streamed in chain order' })
  @ApiQuery({ type: AuditExportQueryDto })
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({ type: AuditEventDto, description: 'One event per line (NDJSON), as in /v1/audit/events' })
  @ApiErrors(InvalidRequest)
  async export(@Query() query: unknown, @CurrentToken() token: AuthenticatedToken): Promise<StreamableFile> {
    return new StreamableFile(await this.auditQuery.export(query, token), { type: 'application/x-ndjson' });
  }
}
