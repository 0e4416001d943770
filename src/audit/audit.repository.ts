import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuditRecord } from './audit-event';

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

export type NewAuditRecord = Omit<AuditRecord, 'id' | 'eventId'>;

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

  /** Appends events in one statement; inside `manager`'s transaction when given. */
  async insert(records: NewAuditRecord[], manager?: EntityManager): Promise<void> {
    if (records.length === 0) return;
    const values: unknown[] = [];
    const rows = records.map((record) => {
      const row = [
        record.occurredAt,
        record.type,
        record.outcome,
        record.actorType,
        record.actorIssuer,
        record.actorEmail,
        record.actorSubjectId,
        record.actorExternalId,
        record.organizationId,
        record.clientId,
        record.deviceLabel,
        record.tokenId,
        record.ip,
        record.userAgent,
        record.requestId,
        JSON.stringify(record.details),
      ];
      const placeholders = row.map((value) => {
        values.push(value);
        return `$${values.length}`;
      });
      return `(${placeholders.join(', ')})`;
    });
    await (manager ?? this.dataSource.manager).query(
      `INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES ${rows.join(', ')}`,
      values,
    );
  }
}
