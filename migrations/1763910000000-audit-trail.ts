import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail: append-only events, and seals that chain SHA-256 digests
 * over them in order. A trigger refuses UPDATE, DELETE and TRUNCATE to every
 * role; deleting is possible only inside audit_prune() (SECURITY DEFINER),
 * which removes whole sealed batches older than a cutoff. Run the
 * application as a role with INSERT and SELECT on these tables and EXECUTE
 * on audit_prune() — see the README.
 */
export class AuditTrail1763910000000 implements MigrationInterface {
  name = 'AuditTrail1763910000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id uuid NOT NULL DEFAULT gen_random_uuid(),
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        type varchar(64) NOT NULL,
        outcome varchar(16) NOT NULL CHECK (outcome IN ('success', 'failure')),
        actor_type varchar(16),
        actor_issuer varchar(512),
        actor_email varchar(320),
        actor_subject_id uuid,
        actor_external_id varchar(512),
        organization_id varchar(128),
        client_id varchar(128),
        device_label varchar(64),
        token_id uuid,
        ip varchar(64),
        user_agent varchar(512),
        request_id varchar(64),
        details jsonb NOT NULL DEFAULT '{}',
        CONSTRAINT audit_events_event_id UNIQUE (event_id)
      )`);
    await queryRunner.query('CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at, id)');
    await queryRunner.query('CREATE INDEX audit_events_type ON audit_events (type, id)');
    await queryRunner.query('CREATE INDEX audit_events_subject ON audit_events (actor_subject_id, id) WHERE actor_subject_id IS NOT NULL');
    await queryRunner.query('CREATE INDEX audit_events_client ON audit_events (client_id, id) WHERE client_id IS NOT NULL');
    await queryRunner.query(
      'CREATE INDEX audit_events_organization ON audit_events (organization_id, id) WHERE organization_id IS NOT NULL',
    );

    await queryRunner.query(`
      CREATE TABLE audit_seals (
        seq bigint PRIMARY KEY,
        sealed_at timestamptz NOT NULL DEFAULT now(),
        first_event_id bigint NOT NULL,
        last_event_id bigint NOT NULL,
        event_ids bigint[] NOT NULL,
        event_digests text[] NOT NULL,
        previous_digest char(64) NOT NULL,
        digest char(64) NOT NULL,
        CHECK (first_event_id <= last_event_id),
        CHECK (cardinality(event_ids) = cardinality(event_digests))
      )`);
    await queryRunner.query('CREATE UNIQUE INDEX audit_seals_last_event ON audit_seals (last_event_id)');

    await queryRunner.query(`
      CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND current_setting('devicegate.audit_prune', true) = 'on' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'the audit trail is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const table of ['audit_events', 'audit_seals']) {
      await queryRunner.query(
        `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION audit_append_only()`,
      );
      await queryRunner.query(
        `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()`,
      );
    }

    // Removes up to max_seals whole seals (and their events) whose every event occurred before cutoff, oldest
    // first, and never the newest seal: the chain goes on from its seq and digest.
    await queryRunner.query(`
      CREATE FUNCTION audit_prune(cutoff timestamptz, max_seals integer)
      RETURNS TABLE (seals bigint, events bigint)
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      DECLARE
        last_seal bigint;
        last_event bigint;
      BEGIN
        SELECT s.seq, s.last_event_id INTO last_seal, last_event
          FROM (SELECT seq, last_event_id FROM audit_seals
                 WHERE seq < (SELECT max(seq) FROM audit_seals)
                 ORDER BY seq LIMIT max_seals) s
         WHERE NOT EXISTS (
           SELECT 1 FROM audit_events e
            WHERE e.id <= s.last_event_id AND e.occurred_at >= cutoff)
         ORDER BY s.seq DESC LIMIT 1;
        IF last_seal IS NULL THEN
          RETURN QUERY SELECT 0::bigint, 0::bigint;
          RETURN;
        END IF;
        PERFORM set_config('devicegate.audit_prune', 'on', true);
        RETURN QUERY
          WITH gone_events AS (DELETE FROM audit_events WHERE id <= last_event RETURNING 1),
               gone_seals AS (DELETE FROM audit_seals WHERE seq <= last_seal RETURNING 1)
          SELECT (SELECT count(*) FROM gone_seals), (SELECT count(*) FROM gone_events);
        PERFORM set_config('devicegate.audit_prune', 'off', true);
      END $$`);
    await queryRunner.query('REVOKE ALL ON FUNCTION audit_prune(timestamptz, integer) FROM PUBLIC');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP FUNCTION audit_prune(timestamptz, integer)');
    await queryRunner.query('DROP TABLE audit_seals');
    await queryRunner.query('DROP TABLE audit_events');
    await queryRunner.query('DROP FUNCTION audit_append_only()');
  }
}
