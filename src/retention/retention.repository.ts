import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';

/** The advisory lock key of the RetentionPruner: "devicega" in ASCII, so it cannot collide with a small key. */
export const RETENTION_LOCK_KEY = '7234017283807667553';

/** A token the pruner hard-expired: what its audit event names. */
export interface HardExpiredToken {
  id: string;
  clientId: string;
  deviceLabel: string;
  subjectId: string;
  subjectIssuer: string;
  subjectExternalId: string;
  subjectEmail: string;
  expiresAt: Date;
}

export interface PrunedAudit {
  seals: number;
  events: number;
}

/** Held for one run on a connection of its own; `release()` unlocks and returns the connection. */
export interface RetentionLock {
  release(): Promise<void>;
}

@Injectable()
export class RetentionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * pg_try_advisory_lock on a connection taken out of the pool for the whole
   * run; undefined when another session holds it. The lock lives as long as
   * that connection: a crashed instance cannot keep it.
   */
  async tryLock(): Promise<RetentionLock | undefined> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const [{ locked }]: { locked: boolean }[] = await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
        RETENTION_LOCK_KEY,
      ]);
      if (!locked) {
        await runner.release();
        return undefined;
      }
    } catch (error) {
      await discard(runner, error);
      throw error;
    }
    return {
      release: async () => {
        try {
          await runner.query('SELECT pg_advisory_unlock($1::bigint)', [RETENTION_LOCK_KEY]);
          await runner.release();
        } catch (error) {
          // A connection that may still hold the lock must not go back to the pool.
          await discard(runner, error);
        }
      },
    };
  }

  /**
   * Clears the hash of up to `limit` live tokens whose lifetime ended by
   * `now`: revoked at their expiry, reason 'expired', row and id kept. Rows
   * another transaction holds (a rotation in flight) are left for the next
   * batch; a rotation that lands first moves expires_at and takes its row
   * out of the WHERE.
   */
  async hardExpire(now: Date, limit: number, manager: EntityManager): Promise<HardExpiredToken[]> {
    return manager.query(
      `WITH due AS (
         SELECT id FROM access_tokens t
          WHERE revoked_at IS NULL AND expires_at <= $1
            -- An authorization a refresh token can still renew is not over.
            AND NOT EXISTS (SELECT 1 FROM refresh_tokens r
                             WHERE r.authorization_id = t.id AND r.revoked_at IS NULL AND r.used_at IS NULL
                               AND r.idle_expires_at > $1 AND r.family_expires_at > $1)
          ORDER BY expires_at
          LIMIT $2
            FOR UPDATE SKIP LOCKED
       ), expired AS (
         UPDATE access_tokens t
            SET revoked_at = t.expires_at, revoked_reason = 'expired', token_hash = NULL
           FROM due
          WHERE t.id = due.id AND t.revoked_at IS NULL
         RETURNING t.id, t.client_id, t.device_label, t.subject_id, t.subject_issuer, t.subject_external_id,
                   t.subject_email, t.expires_at
       )
       SELECT id, client_id AS "clientId", device_label AS "deviceLabel", subject_id AS "subjectId",
              subject_issuer AS "subjectIssuer", subject_external_id AS "subjectExternalId",
              subject_email AS "subjectEmail", expires_at AS "expiresAt"
         FROM expired`,
      [now, limit],
    );
  }

  /** Deletes up to `limit` revoked (hard-expired included) token rows revoked before `cutoff`; returns how many. */
  async deleteRevokedTokens(cutoff: Date, limit: number): Promise<number> {
    const [{ count }]: { count: number }[] = await this.dataSource.query(
      `WITH due AS (
         SELECT id FROM access_tokens
          WHERE revoked_at < $1
          ORDER BY revoked_at
          LIMIT $2
            FOR UPDATE SKIP LOCKED
       ), gone AS (
         DELETE FROM access_tokens t USING due WHERE t.id = due.id RETURNING 1
       )
       SELECT count(*)::int AS count FROM gone`,
      [cutoff, limit],
    );
    return count;
  }

  /**
   * Removes the oldest whole seals (and their events) whose every event
   * occurred before `cutoff`, through audit_prune(): the only path the
   * append-only trigger lets through. As many seals per call as keep the
   * events near `limit` (at least one), and never the newest seal: the
   * sealer extends the chain from it, so its seq and digest must stay.
   * `more` is false once nothing more can go.
   */
  async pruneAudit(cutoff: Date, limit: number): Promise<PrunedAudit & { more: boolean }> {
    const [{ maxSeals }]: { maxSeals: number }[] = await this.dataSource.query(
      `SELECT least(greatest(1, count(*) FILTER (WHERE events <= $1::int)), count(*) - 1)::int AS "maxSeals"
         FROM (SELECT sum(last_event_id - first_event_id + 1) OVER (ORDER BY seq) AS events
                 FROM (SELECT seq, first_event_id, last_event_id FROM audit_seals ORDER BY seq LIMIT $1::int + 1) oldest
              ) running`,
      [limit],
    );
    if (maxSeals < 1) return { seals: 0, events: 0, more: false };
    const [pruned]: { seals: string; events: string }[] = await this.dataSource.query('SELECT * FROM audit_prune($1, $2)', [
      cutoff,
      maxSeals,
    ]);
    const seals = Number(pruned.seals);
    // Fewer seals than allowed: the next one still holds an event inside retention.
    return { seals, events: Number(pruned.events), more: seals === maxSeals };
  }
}

/**
 * Hands the connection back with an error, which makes pg-pool close it
 * instead of reusing it. TypeORM keeps that path private (it takes it itself
 * when the connection breaks); this is the case where the connection still
 * works but may still hold the lock.
 */
async function discard(runner: QueryRunner, error: unknown): Promise<void> {
  if (runner.isReleased) return;
  const postgres = runner as unknown as { releasePostgresConnection?: (error: Error) => Promise<void> };
  if (typeof postgres.releasePostgresConnection !== 'function') return runner.release();
  await postgres.releasePostgresConnection(error instanceof Error ? error : new Error(String(error)));
}
