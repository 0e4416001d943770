import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Lets each RetentionPruner batch find the tokens due for hard expiry and for deletion without scanning the table. */
export class RetentionIndexes1763930000000 implements MigrationInterface {
  name = 'RetentionIndexes1763930000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE INDEX access_tokens_live_expiry ON access_tokens (expires_at) WHERE revoked_at IS NULL');
    await queryRunner.query('CREATE INDEX access_tokens_revoked ON access_tokens (revoked_at) WHERE revoked_at IS NOT NULL');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX access_tokens_revoked');
    await queryRunner.query('DROP INDEX access_tokens_live_expiry');
  }
}
