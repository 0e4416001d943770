import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Lets the audit query API filter by the actor's email (case-insensitively) in id order, like its other filters. */
export class AuditActorEmailIndex1763915000000 implements MigrationInterface {
  name = 'AuditActorEmailIndex1763915000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE INDEX audit_events_actor_email ON audit_events (lower(actor_email), id) WHERE actor_email IS NOT NULL',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX audit_events_actor_email');
  }
}
