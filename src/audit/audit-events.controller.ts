import { Controller, Get, Headers, Query, StreamableFile } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { AUDIT_CSV_COLUMNS } from './audit-csv';
import { ApiErrors } from '../common/api-responses';
import { InvalidRequest } from '../common/oauth-errors';
import { NoStore } from '../common/no-store';
import { CurrentToken, RequireScopes } from '../tokens/bearer-auth.guard';
import type { AuthenticatedToken } from '../tokens/token-validation.service';
import { AUDIT_EXPORT_FORMATS, AuditQueryService } from './audit-query.service';
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
  @ApiOperation({
    summary: 'Every matching event as NDJSON or CSV, streamed in chain order',
    description:
      'NDJSON unless `format=csv` or an Accept header naming text/csv before application/x-ndjson. CSV follows RFC 4180 (CRLF lines, a header line, ' +
      "fields quoted when they hold a comma, quote or line break); a field starting with =, +, -, @, tab or CR gets a leading ' so spreadsheets read it as text.",
  })
  @ApiQuery({ type: AuditExportQueryDto })
  @ApiProduces('application/x-ndjson', 'text/csv')
  @ApiOkResponse({
    description: 'One event per line (NDJSON), as in /v1/audit/events; or CSV, one event per line after the header line',
    content: {
      'application/x-ndjson': { schema: { $ref: getSchemaPath(AuditEventDto) } },
      'text/csv': { schema: { type: 'string', description: `Columns: ${AUDIT_CSV_COLUMNS.join(', ')} (actor flattened, details as JSON text)` } },
    },
  })
  @ApiExtraModels(AuditEventDto)
  @ApiHeader({ name: 'accept', required: false, description: 'text/csv chooses CSV when format is not given' })
  @ApiErrors(InvalidRequest)
  async export(@Query() query: unknown, @CurrentToken() token: AuthenticatedToken, @Headers('accept') accept?: string): Promise<StreamableFile> {
    const { format, stream } = await this.auditQuery.export(query, token, accept);
    return new StreamableFile(stream, { type: AUDIT_EXPORT_FORMATS[format].contentType });
  }
}
