import type { AuditEventView } from './audit-event';

/** The CSV export's columns, in order: the NDJSON fields with the actor flattened and details as JSON text. */
export const AUDIT_CSV_COLUMNS = [
  'id',
  'sequence',
  'occurred_at',
  'type',
  'outcome',
  'actor_type',
  'actor_issuer',
  'actor_email',
  'actor_subject_id',
  'actor_external_id',
  'organization',
  'client_id',
  'device_label',
  'token_id',
  'ip',
  'user_agent',
  'request_id',
  'details',
] as const;

/** A spreadsheet reads a cell starting with one of these as a formula (CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One RFC 4180 field: quoted when it holds a comma, a quote or a line
 * break, quotes doubled. A value a spreadsheet would run as a formula gets
 * a leading `'`, so a device label such as `=HYPERLINK(…)` stays text.
 */
export function csvField(value: string | null): string {
  if (value === null) return '';
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function csvLine(fields: (string | null)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

export const AUDIT_CSV_HEADER = csvLine([...AUDIT_CSV_COLUMNS]);

export function auditCsvRow(event: AuditEventView): string {
  const { actor } = event;
  return csvLine([
    event.id,
    event.sequence,
    event.occurred_at,
    event.type,
    event.outcome,
    actor.type,
    actor.issuer,
    actor.email,
    actor.subject_id,
    actor.external_id,
    event.organization,
    event.client_id,
    event.device_label,
    event.token_id,
    event.ip,
    event.user_agent,
    event.request_id,
    JSON.stringify(event.details),
  ]);
}
