import { Controller, Get, Header, Param, Query, StreamableFile, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AUDIT_EXPORT_FORMATS, AuditQueryService, encodeCursor } from '../audit/audit-query.service';
import { PageSecurityHeaders } from '../common/html';
import { Origin, RequestCookie } from '../common/http';
import type { RequestContext } from '../common/request-context';
import { NotFound } from '../common/oauth-errors';
import { ConsoleAccessService } from './console-access.service';
import { AUDIT_FILTERS, type AuditFilterValues, auditEventSection, auditSection } from './console-audit.view';
import { ConsolePageFilter } from './console-page.filter';
import { ConsolePages } from './console-pages.service';
import { CONSOLE_STRINGS, fill } from './console-strings';
import { CONSOLE_SESSION_COOKIE, type ConsoleSession, ConsoleSessionService } from './session/console-session.service';

const PAGE_SIZE = '50';
const SEQUENCE = /^[1-9]\d{0,18}$/;

/** The auditor's view: the API's filters and keyset pages, one event in full, the chain status, NDJSON or CSV export; scoped to the person's organization as the API is to a token's. */
@ApiExcludeController()
@UseFilters(ConsolePageFilter)
@Controller('console/audit')
export class ConsoleAuditController {
  constructor(
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessionService,
    private readonly access: ConsoleAccessService,
    private readonly auditQuery: AuditQueryService,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @PageSecurityHeaders()
  async events(
    @RequestCookie(CONSOLE_SESSION_COOKIE) cookie: string | undefined,
    @Origin() origin: RequestContext,
    @Query() query: Record<string, unknown>,
  ): Promise<string> {
    const session = await this.sessions.read(cookie, origin);
    const access = this.access.assert(session, 'audit');
    const filter = filterOf(query);
    const cursor = typeof query.cursor === 'string' ? query.cursor : undefined;
    const [page, report] = await Promise.all([
      this.auditQuery.page({ ...filter, ...(cursor ? { cursor } : {}), limit: PAGE_SIZE }, reader(session)),
      this.auditQuery.verify(reader(session)),
    ]);
    return this.pages.view.signedIn(session, access, CONSOLE_STRINGS.auditTitle, auditSection(filter, page, report, session.person.organizationId ?? null));
  }

  /** One event by its sequence: the first event after the one before it, when that is this one and the reader may see it. */
  @Get('events/:sequence')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @PageSecurityHeaders()
  async event(
    @RequestCookie(CONSOLE_SESSION_COOKIE) cookie: string | undefined,
    @Origin() origin: RequestContext,
    @Param('sequence') sequence: string,
  ): Promise<string> {
    const session = await this.sessions.read(cookie, origin);
    const access = this.access.assert(session, 'audit');
    const before = SEQUENCE.test(sequence) ? BigInt(sequence) - 1n : -1n;
    const page = before > 0n ? await this.auditQuery.page({ cursor: encodeCursor(before.toString()), limit: '1' }, reader(session)) : undefined;
    const event = before === 0n ? (await this.auditQuery.page({ limit: '1' }, reader(session))).events[0] : page?.events[0];
    if (!event || event.sequence !== sequence) throw new NotFound('There is no such event, or it belongs to another organization');
    return this.pages.view.signedIn(session, access, fill(CONSOLE_STRINGS.eventTitle, { id: event.sequence }), auditEventSection(event));
  }

  @Get('export')
  @PageSecurityHeaders()
  async export(
    @RequestCookie(CONSOLE_SESSION_COOKIE) cookie: string | undefined,
    @Origin() origin: RequestContext,
    @Query() query: Record<string, unknown>,
  ): Promise<StreamableFile> {
    const session = await this.sessions.read(cookie, origin);
    this.access.assert(session, 'audit');
    const format = typeof query.format === 'string' ? { format: query.format } : {};
    const { format: chosen, stream } = await this.auditQuery.export({ ...filterOf(query), ...format }, reader(session));
    const { contentType, filename } = AUDIT_EXPORT_FORMATS[chosen];
    return new StreamableFile(stream, { type: contentType, disposition: `attachment; filename="${filename}"` });
  }
}

function reader(session: ConsoleSession) {
  return { organizationId: session.person.organizationId ?? null };
}

/** The filters of the query string that have a value; the API's own validation reads them. */
function filterOf(query: Record<string, unknown>): AuditFilterValues {
  const filter: AuditFilterValues = {};
  for (const name of AUDIT_FILTERS) {
    const value = query[name];
    if (typeof value === 'string' && value.trim() !== '') filter[name] = value.trim();
  }
  return filter;
}
