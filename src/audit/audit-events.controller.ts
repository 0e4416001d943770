import { applyDecorators, Controller, Get, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { NoStore } from '../common/no-store';
import { CurrentToken, RequireScopes } from '../tokens/bearer-auth.guard';
import type { AuthenticatedToken } from '../tokens/token-validation.service';
import { AuditQueryService, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './audit-query.service';

const FILTER_QUERIES = [
  { name: 'type', description: 'One event type, or several separated by commas' },
  { name: 'subject', description: "The actor's subject id (UUID) or email address" },
  { name: 'organization', description: "Organization id; a token of an organization sees only that organization's events" },
  { name: 'client', description: 'OAuth client id' },
  { name: 'since', description: 'RFC 3339; events that occurred at or after it' },
  { name: 'until', description: 'RFC 3339; events that occurred before it' },
  { name: 'cursor', description: 'next_cursor of the previous page: events after it' },
];

const FilterQueries = () => applyDecorators(...FILTER_QUERIES.map((query) => ApiQuery({ ...query, required: false })));

@ApiTags('audit')
@Controller('v1/audit/events')
export class AuditEventsController {
  constructor(private readonly auditQuery: AuditQueryService) {}

  @Get()
  @RequireScopes('audit:read')
  @NoStore()
  @ApiOperation({ summary: 'Audit events in chain order, filtered, keyset-paginated' })
  @FilterQueries()
  @ApiQuery({ name: 'limit', required: false, description: `Events per page, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})` })
  @ApiOkResponse({ description: '`{"events": [...], "next_cursor": string | null}`' })
  events(@Query() query: unknown, @CurrentToken() token: AuthenticatedToken) {
    return this.auditQuery.page(query, token);
  }

  @Get('export')
  @RequireScopes('audit:read')
  @NoStore()
  @ApiOperation({ summary: 'Every matching event as NDJSON, streamed in chain order' })
  @FilterQueries()
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({ description: 'One event per line, as in /v1/audit/events' })
  async export(@Query() query: unknown, @CurrentToken() token: AuthenticatedToken): Promise<StreamableFile> {
    return new StreamableFile(await this.auditQuery.export(query, token), { type: 'application/x-ndjson' });
  }
}
