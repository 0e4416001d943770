import { Readable } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import { OAuthParams } from '../common/http';
import { ForeignOrganization, InvalidRequest } from '../common/oauth-errors';
import { AUDIT_EVENT_TYPES, type AuditEventType, type AuditEventView, type AuditRecord, toView } from './audit-event';
import { AUDIT_CSV_HEADER, auditCsvRow } from './audit-csv';
import { type AuditVerifyReport, AuditVerifierService } from './audit-verifier.service';
import { type AuditEventFilter, AuditRepository } from './audit.repository';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
/** Rows per query while exporting: big enough to amortise a round trip, small enough to keep memory flat. */
export const EXPORT_BATCH_SIZE = 1000;

const FILTERS = ['type', 'subject', 'organization', 'client', 'since', 'until'];
const PAGE_PARAMETERS = [...FILTERS, 'limit', 'cursor'];
const EXPORT_PARAMETERS = [...FILTERS, 'cursor', 'format'];

/** The export's formats: NDJSON, one event a line as the query API writes it, or CSV (RFC 4180) with a header line. */
export const AUDIT_EXPORT_FORMATS = {
  ndjson: { contentType: 'application/x-ndjson', filename: 'audit-events.ndjson' },
  csv: { contentType: 'text/csv; charset=utf-8', filename: 'audit-events.csv' },
} as const;
export type AuditExportFormat = keyof typeof AUDIT_EXPORT_FORMATS;

export interface AuditExport {
  format: AuditExportFormat;
  stream: Readable;
}

export interface AuditEventPage {
  events: AuditEventView[];
  /** Pass as `cursor` for the next page; null when this page is the last. */
  next_cursor: string | null;
}

/**
 * Whose trail a reader may see: the organization of its token, or null for
 * a token of no organization, which sees every organization's events.
 */
export type AuditReader = { organizationId: string | null };

/**
 * The auditor's read side of the trail: filtered, keyset-paginated pages,
 * and an NDJSON or CSV export that reads and writes batch by batch so a range of
 * any size streams in constant memory. A reader of one organization sees
 * only that organization's events, whatever its filter says.
 */
@Injectable()
export class AuditQueryService {
  private readonly logger = new Logger('AuditExport');

  constructor(
    private readonly audit: AuditRepository,
    private readonly verifier: AuditVerifierService,
  ) {}

  async page(query: unknown, reader: AuditReader): Promise<AuditEventPage> {
    const params = readParams(query, PAGE_PARAMETERS);
    const filter = scoped(readFilter(params), reader);
    const limit = readLimit(params.optional('limit'));
    const records = await this.audit.findEvents(filter, limit + 1);
    const events = records.slice(0, limit);
    return {
      events: events.map(toView),
      next_cursor: records.length > limit ? encodeCursor(events[events.length - 1].id) : null,
    };
  }

  /**
   * Every matching event that exists when the export starts, as NDJSON or
   * CSV (`format`, else the first of the two media types `accept` names). The
   * first batch is read before this resolves, so a bad request or a down
   * database is still an ordinary error response; a failure after that is
   * logged and cuts the stream short, which the client sees as an incomplete
   * response rather than a complete-looking file.
   */
  async export(query: unknown, reader: AuditReader, accept?: string): Promise<AuditExport> {
    const params = readParams(query, EXPORT_PARAMETERS);
    const format = readFormat(params.optional('format'), accept);
    const filter = scoped(readFilter(params), reader);
    const upToId = await this.audit.lastEventId();
    const header = format === 'csv' ? [Buffer.from(AUDIT_CSV_HEADER)] : [];
    if (upToId === null) return { format, stream: Readable.from(header) };
    const bounded = { ...filter, upToId };
    const first = await this.audit.findEvents(bounded, EXPORT_BATCH_SIZE);
    return { format, stream: Readable.from(this.batches(bounded, first, format, header), { objectMode: false }) };
  }

  /**
   * The integrity check of the whole chain; a reader of one organization
   * learns whether it holds, but no id of another organization's event: the
   * newest sealed event is its organization's, and a break names its event
   * only when that event is the organization's.
   */
  async verify(reader: AuditReader): Promise<AuditVerifyReport> {
    const report = await this.verifier.verify();
    const { organizationId } = reader;
    if (organizationId === null) return report;
    if (report.ok) {
      return {
        ...report,
        last_event_id: report.last_event_id === null ? null : await this.audit.lastEventIdOf(organizationId, report.last_event_id),
      };
    }
    const { event_id: eventId, ...where } = report.break;
    const named = eventId !== undefined && (await this.audit.organizationOf(eventId)) === organizationId;
    return { ok: false, break: named ? report.break : where };
  }

  private async *batches(filter: AuditEventFilter, first: AuditRecord[], format: AuditExportFormat, header: Buffer[]): AsyncGenerator<Buffer> {
    yield* header;
    let batch = first;
    let written = 0;
    try {
      while (batch.length > 0) {
        yield encode(batch, format);
        written += batch.length;
        if (batch.length < EXPORT_BATCH_SIZE) return;
        batch = await this.audit.findEvents({ ...filter, afterId: batch[batch.length - 1].id }, EXPORT_BATCH_SIZE);
      }
    } catch (error) {
      this.logger.error({ msg: 'audit export failed mid-stream', written, error: (error as Error)?.message });
      throw error;
    }
  }
}

/** The filter as a reader may apply it: a reader of one organization cannot widen it to another, or to all. */
function scoped(filter: AuditEventFilter, reader: AuditReader): AuditEventFilter {
  const { organizationId } = reader;
  if (organizationId === null) return filter;
  if (filter.organizationId !== undefined && filter.organizationId !== organizationId) {
    throw new ForeignOrganization(`You may read the audit trail of organization ${organizationId} only`);
  }
  return { ...filter, organizationId };
}

function encode(records: AuditRecord[], format: AuditExportFormat): Buffer {
  const line = format === 'csv' ? auditCsvRow : (view: AuditEventView) => `${JSON.stringify(view)}\n`;
  return Buffer.from(records.map((record) => line(toView(record))).join(''));
}

/** `format` when given; else the first of text/csv and application/x-ndjson that an Accept header names (not at q=0); else NDJSON. */
function readFormat(format: string | undefined, accept: string | undefined): AuditExportFormat {
  if (format !== undefined) {
    if (!Object.hasOwn(AUDIT_EXPORT_FORMATS, format)) throw new InvalidRequest('format must be ndjson or csv');
    return format as AuditExportFormat;
  }
  for (const range of (accept ?? '').split(',')) {
    const [type, ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    if (parameters.some((parameter) => /^q=0(\.0*)?$/.test(parameter))) continue;
    if (type === 'text/csv') return 'csv';
    if (type === 'application/x-ndjson') return 'ndjson';
  }
  return 'ndjson';
}

export function encodeCursor(id: string): string {
  return Buffer.from(id).toString('base64url');
}

const MAX_ID = 2n ** 63n - 1n;

function decodeCursor(cursor: string): string {
  const id = /^[A-Za-z0-9_-]{1,28}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  if (!/^[1-9]\d{0,18}$/.test(id) || BigInt(id) > MAX_ID || encodeCursor(id) !== cursor) {
    throw new InvalidRequest('cursor is not one this API returned; pass next_cursor unchanged');
  }
  return id;
}

function readParams(query: unknown, allowed: string[]): OAuthParams {
  const names = query && typeof query === 'object' ? Object.keys(query) : [];
  const unknown = names.find((name) => !allowed.includes(name));
  if (unknown !== undefined) {
    const list = `${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}`;
    throw new InvalidRequest(`Unknown parameter ${unknown.slice(0, 64)}; use ${list}`);
  }
  return new OAuthParams(query);
}

function readFilter(params: OAuthParams): AuditEventFilter {
  const filter: AuditEventFilter = {};
  const types = params.optional('type');
  if (types !== undefined) filter.types = readTypes(types);
  const subject = params.optional('subject');
  if (subject !== undefined) {
    if (UUID.test(subject)) filter.actorSubjectId = subject.toLowerCase();
    else if (EMAIL.test(subject)) filter.actorEmail = subject.toLowerCase();
    else throw new InvalidRequest('subject must be a subject id (a UUID) or an email address');
  }
  const organization = params.optional('organization');
  if (organization !== undefined) filter.organizationId = readIdentifier('organization', organization);
  const client = params.optional('client');
  if (client !== undefined) filter.clientId = readIdentifier('client', client);
  const since = params.optional('since');
  if (since !== undefined) filter.since = readTimestamp('since', since);
  const until = params.optional('until');
  if (until !== undefined) filter.until = readTimestamp('until', until);
  if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) {
    throw new InvalidRequest('since must be earlier than until');
  }
  const cursor = params.optional('cursor');
  if (cursor !== undefined) filter.afterId = decodeCursor(cursor);
  return filter;
}

function readTypes(value: string): AuditEventType[] {
  const types = value.split(',').map((type) => type.trim());
  const unknown = types.find((type) => !Object.hasOwn(AUDIT_EVENT_TYPES, type));
  if (unknown !== undefined) {
    throw new InvalidRequest(
      unknown === ''
        ? 'type must be one or more event types separated by commas'
        : `Unknown event type ${JSON.stringify(unknown.slice(0, 64))}; the catalog is in the README`,
    );
  }
  return [...new Set(types)] as AuditEventType[];
}

function readLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PAGE_SIZE;
  const limit = /^\d{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= MAX_PAGE_SIZE)) throw new InvalidRequest(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  return limit;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/u;
const IDENTIFIER = /^[^\p{Cc}]{1,128}$/u;

function readIdentifier(name: string, value: string): string {
  if (!IDENTIFIER.test(value)) throw new InvalidRequest(`${name} must be an id of at most 128 characters`);
  return value;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * RFC 3339 `date-time` → ISO 8601 in UTC at millisecond precision. Events
 * are stamped in milliseconds, so rounding a finer timestamp up keeps both
 * `>= since` and `< until` exact.
 */
export function readTimestamp(name: string, value: string): string {
  const match = RFC3339.exec(value);
  // An unencoded "+" in a query string arrives as a space.
  const hint = /\s\d{2}:\d{2}$/.test(value) ? ' (encode "+" in the offset as %2B)' : '';
  const invalid = () => new InvalidRequest(`${name} must be an RFC 3339 timestamp, e.g. 2025-01-31T23:59:59Z${hint}`);
  if (!match) throw invalid();
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const nanos = Number((match[7] ?? '').padEnd(9, '0'));
  const offsetMinutes = match[8] ? (match[8] === '-' ? -1 : 1) * (Number(match[9]) * 60 + Number(match[10])) : 0;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const fieldsValid =
    month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 60 &&
    Number(match[9] ?? 0) <= 23 && Number(match[10] ?? 0) <= 59;
  if (!fieldsValid) throw invalid();
  // A leap second (:60) counts as the first instant of the next minute, as Postgres reads it.
  const time = Date.UTC(year, month - 1, day, hour, minute, second) + Math.ceil(nanos / 1e6) - offsetMinutes * 60_000;
  if (time < EARLIEST || time > LATEST) throw new InvalidRequest(`${name} must be between 1970 and 9999`);
  return new Date(time).toISOString();
}
