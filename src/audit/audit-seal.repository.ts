import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { SealableEvent } from './audit-canonical';

/** The advisory lock key of the audit sealer: "dgsealer" in ASCII. */
export const SEALER_LOCK_KEY = '7234878205657376114';

// Every ORDER BY below qualifies its column: a bare `id` or `seq` would sort the text aliases ('10' < '9').

/**
 * Every field the digest chain covers. Its own list rather than the query
 * API's, so a change to what the API shows never silently changes digests.
 */
const SEALABLE_COLUMNS = `id::text AS id, event_id::text AS "eventId",
  to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "occurredAt", type, outcome,
  actor_type AS "actorType", actor_issuer AS "actorIssuer", actor_email AS "actorEmail",
  actor_subject_id::text AS "actorSubjectId", actor_external_id AS "actorExternalId", organization_id AS "organizationId",
  client_id AS "clientId", device_label AS "deviceLabel", token_id::text AS "tokenId", ip, user_agent AS "userAgent",
  request_id AS "requestId", details`;

const SEAL_COLUMNS = `seq::text AS seq, first_event_id::text AS "firstEventId", last_event_id::text AS "lastEventId",
  event_ids::text[] AS "eventIds", event_digests AS "eventDigests", previous_digest AS "previousDigest", digest`;

export interface Seal {
  seq: number;
  firstEventId: string;
  lastEventId: string;
  eventIds: string[];
  eventDigests: string[];
  previousDigest: string;
  digest: string;
}

type SealRow = Omit<Seal, 'seq'> & { seq: string };

function toSeal(row: SealRow): Seal {
  return { ...row, seq: Number(row.seq) };
}

@Injectable()
export class AuditSealRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Runs `work` in a transaction that holds the sealer's advisory lock, so
   * two sealers never extend the chain from the same seal. Resolves to
   * `undefined`, without running `work`, when another sealer holds the lock.
   */
  async withSealerLock<T>(work: (manager: EntityManager) => Promise<T>): Promise<T | undefined> {
    return this.dataSource.transaction(async (manager) => {
      const [{ locked }]: { locked: boolean }[] = await manager.query(
        'SELECT pg_try_advisory_xact_lock($1::bigint) AS locked',
        [SEALER_LOCK_KEY],
      );
      return locked ? work(manager) : undefined;
    });
  }

  /** Runs `work` in one read-only snapshot, so a verification never sees a seal without its events (or the reverse). */
  async readSnapshot<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      await manager.query('SET TRANSACTION READ ONLY');
      return work(manager);
    });
  }

  async newestSeal(manager: EntityManager): Promise<Seal | undefined> {
    const [row]: SealRow[] = await manager.query(`SELECT ${SEAL_COLUMNS} FROM audit_seals s ORDER BY s.seq DESC LIMIT 1`);
    return row && toSeal(row);
  }

  /** Up to `limit` seals after `afterSeq`, oldest first. */
  async sealsAfter(manager: EntityManager, afterSeq: number, limit: number): Promise<Seal[]> {
    const rows: SealRow[] = await manager.query(
      `SELECT ${SEAL_COLUMNS} FROM audit_seals s WHERE s.seq > $1::bigint ORDER BY s.seq LIMIT $2`,
      [afterSeq, limit],
    );
    return rows.map(toSeal);
  }

  /**
   * The oldest events after `afterId`, up to `limit`, that were recorded more
   * than `lagSeconds` ago (database time). It stops before the first event
   * that is too young, so what it returns is always an unbroken run in id
   * order: an older transaction that took an id below a younger one and
   * commits late can still join the chain in its place.
   */
  async sealableEvents(manager: EntityManager, afterId: string, lagSeconds: number, limit: number): Promise<SealableEvent[]> {
    return manager.query(
      `WITH candidates AS (
         SELECT *, recorded_at < now() - make_interval(secs => $2) AS old_enough
           FROM audit_events e WHERE e.id > $1::bigint ORDER BY e.id LIMIT $3)
       SELECT ${SEALABLE_COLUMNS} FROM candidates c
        WHERE c.id < coalesce((SELECT min(young.id) FROM candidates young WHERE NOT young.old_enough), 9223372036854775807)
        ORDER BY c.id`,
      [afterId, lagSeconds, limit],
    );
  }

  /** Events with afterId < id <= upToId, oldest first, up to `limit`. */
  async eventsBetween(manager: EntityManager, afterId: string, upToId: string, limit: number): Promise<SealableEvent[]> {
    return manager.query(
      `SELECT ${SEALABLE_COLUMNS} FROM audit_events e WHERE e.id > $1::bigint AND e.id <= $2::bigint ORDER BY e.id LIMIT $3`,
      [afterId, upToId, limit],
    );
  }

  async insertSeal(manager: EntityManager, seal: Seal): Promise<void> {
    await manager.query(
      `INSERT INTO audit_seals (seq, first_event_id, last_event_id, event_ids, event_digests, previous_digest, digest)
       VALUES ($1, $2::bigint, $3::bigint, $4::bigint[], $5::text[], $6, $7)`,
      [seal.seq, seal.firstEventId, seal.lastEventId, seal.eventIds, seal.eventDigests, seal.previousDigest, seal.digest],
    );
  }
}
