import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuditEventType, AuditRecord } from './audit-event';

/** The columns of audit_events that an insert writes, in order. */
const COLUMNS = [
  'occurred_at',
  'type',
  'outcome',
  'actor_type',
  'actor_issuer',
  'actor_email',
  'actor_subject_id',
  'actor_external_id',
  'organization_id',
  'client_id',
  'device_label',
  'token_id',
  'ip',
  'user_agent',
  'request_id',
  'details',
] as const;

const COLUMN_TYPES = `occurred_at timestamptz, type text, outcome text, actor_type text, actor_issuer text,
  actor_email text, actor_subject_id uuid, actor_external_id text, organization_id text, client_id text,
  device_label text, token_id uuid, ip text, user_agent text, request_id text, details jsonb`;

export type NewAuditRecord = Omit<AuditRecord, 'id' | 'eventId'>;

/** What the query API selects on; every field narrows, and none means every event. */
export interface AuditEventFilter {
  types?: AuditEventType[];
  actorSubjectId?: string;
  /** Lower case; compared with the lower-cased actor email. */
  actorEmail?: string;
  organizationId?: string;
  clientId?: string;
  /** ISO 8601 UTC; occurred_at >= since. */
  since?: string;
  /** ISO 8601 UTC; occurred_at < until. */
  until?: string;
  /** Keyset: only events with a greater id. */
  afterId?: string;
  /** Only events with this id or a smaller one. */
  upToId?: string;
}

/** SELECT list that maps audit_events onto AuditRecord. */
export const AUDIT_RECORD_COLUMNS = `id::text AS id, event_id AS "eventId", occurred_at AS "occurredAt", type, outcome,
  actor_type AS "actorType", actor_issuer AS "actorIssuer", actor_email AS "actorEmail",
  actor_subject_id AS "actorSubjectId", actor_external_id AS "actorExternalId", organization_id AS "organizationId",
  client_id AS "clientId", device_label AS "deviceLabel", token_id AS "tokenId", ip, user_agent AS "userAgent",
  request_id AS "requestId", details`;

@Injectable()
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Appends events in one statement; inside `manager`'s transaction when
   * given. The batch travels as one JSON parameter that Postgres unpacks, in
   * order: one value to encode instead of sixteen per event.
   */
  async insert(records: NewAuditRecord[], manager?: EntityManager): Promise<AuditRecord[]> {
    if (records.length === 0) return [];
    const rows = records.map(toRow);
    // Rows come back in the order of the array they were inserted from.
    const ids: { id: string; eventId: string }[] = await (manager ?? this.dataSource.manager).query(
      `INSERT INTO audit_events (${COLUMNS.join(', ')})
       SELECT ${COLUMNS.join(', ')} FROM jsonb_to_recordset($1::jsonb) AS event(${COLUMN_TYPES})
       RETURNING id::text AS id, event_id AS "eventId"`,
      [JSON.stringify(rows)],
    );
    return records.map((record, index) => ({ ...record, ...ids[index] }));
  }

  /**
   * Appends events drained from the outbox, each the JSON of its pending
   * view (toPendingView) with its own event id, skipping any whose id
   * audit_events already holds: a drainer that died after its INSERT and
   * before its acknowledgement leaves the batch to another, which writes only
   * what is missing. The entries travel as they are, joined into one JSON
   * array that Postgres unpacks in order. Returns the rows written.
   */
  async insertDrained(views: string[]): Promise<{ id: string; eventId: string }[]> {
    if (views.length === 0) return [];
    return this.dataSource.query(
      `INSERT INTO audit_events (event_id, ${COLUMNS.join(', ')})
       SELECT (e->>'id')::uuid, (e->>'occurred_at')::timestamptz, e->>'type', e->>'outcome',
              e->'actor'->>'type', e->'actor'->>'issuer', e->'actor'->>'email', (e->'actor'->>'subject_id')::uuid,
              e->'actor'->>'external_id', e->>'organization', e->>'client_id', e->>'device_label', (e->>'token_id')::uuid,
              e->>'ip', e->>'user_agent', e->>'request_id', e->'details'
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS batch(e, n)
        ORDER BY n
       ON CONFLICT (event_id) DO NOTHING
       RETURNING id::text AS id, event_id AS "eventId"`,
      [`[${views.join(',')}]`],
    );
  }

  /**
   * Up to `limit` events matching `filter`, in id order (the chain order).
   * Keyset pagination on id, never OFFSET: type, subject, email, client and
   * organization each have an index on (column, id) that reads in this
   * order; a time range uses (occurred_at, id) or the primary key, as the
   * planner judges.
   */
  async findEvents(filter: AuditEventFilter, limit: number): Promise<AuditRecord[]> {
    const values: unknown[] = [filter.afterId ?? '0'];
    const where = ['id > $1::bigint'];
    const condition = (sql: ($: string) => string, value: unknown) => {
      values.push(value);
      where.push(sql(`$${values.length}`));
    };
    if (filter.upToId !== undefined) condition(($) => `id <= ${$}::bigint`, filter.upToId);
    if (filter.types?.length === 1) condition(($) => `type = ${$}`, filter.types[0]);
    else if (filter.types) condition(($) => `type = ANY(${$}::varchar[])`, filter.types);
    if (filter.actorSubjectId !== undefined) condition(($) => `actor_subject_id = ${$}::uuid`, filter.actorSubjectId);
    if (filter.actorEmail !== undefined) condition(($) => `lower(actor_email) = ${$}`, filter.actorEmail);
    if (filter.organizationId !== undefined) condition(($) => `organization_id = ${$}`, filter.organizationId);
    if (filter.clientId !== undefined) condition(($) => `client_id = ${$}`, filter.clientId);
    if (filter.since !== undefined) condition(($) => `occurred_at >= ${$}::timestamptz`, filter.since);
    if (filter.until !== undefined) condition(($) => `occurred_at < ${$}::timestamptz`, filter.until);
    values.push(limit);
    // audit_events.id: the bigint, not the text column of the same name in the select list.
    return this.dataSource.query(
      `SELECT ${AUDIT_RECORD_COLUMNS} FROM audit_events WHERE ${where.join(' AND ')}
        ORDER BY audit_events.id LIMIT $${values.length}`,
      values,
    );
  }

  /** The id of the newest event of an organization up to `upToId`, or null when it has none. */
  async lastEventIdOf(organizationId: string, upToId: string): Promise<string | null> {
    const [row]: { id: string | null }[] = await this.dataSource.query(
      'SELECT max(id)::text AS id FROM audit_events WHERE organization_id = $1 AND id <= $2::bigint',
      [organizationId, upToId],
    );
    return row?.id ?? null;
  }

  /** The organization of an event; null for an event of none, undefined for no such event. */
  async organizationOf(id: string): Promise<string | null | undefined> {
    const [row]: { organizationId: string | null }[] = await this.dataSource.query(
      'SELECT organization_id AS "organizationId" FROM audit_events WHERE id = $1::bigint',
      [id],
    );
    return row?.organizationId;
  }

  /** The id of the newest event, or null when there is none. */
  async lastEventId(): Promise<string | null> {
    const [row]: { id: string | null }[] = await this.dataSource.query('SELECT max(id)::text AS id FROM audit_events');
    return row?.id ?? null;
  }
}

function toRow(record: NewAuditRecord) {
  return {
    occurred_at: record.occurredAt,
    type: record.type,
    outcome: record.outcome,
    actor_type: record.actorType,
    actor_issuer: record.actorIssuer,
    actor_email: record.actorEmail,
    actor_subject_id: record.actorSubjectId,
    actor_external_id: record.actorExternalId,
    organization_id: record.organizationId,
    client_id: record.clientId,
    device_label: record.deviceLabel,
    token_id: record.tokenId,
    ip: record.ip,
    user_agent: record.userAgent,
    request_id: record.requestId,
    details: record.details,
  };
}
