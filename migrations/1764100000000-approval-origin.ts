import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The approval's origin on each authorization: the address and software of
 * the browser that approved, and the hash of its browser id, so a person's
 * device inventory says where each approval came from and the console can
 * keep "this browser's" authorizations. Authorizations approved before stay
 * without one.
 */
export class ApprovalOrigin1764100000000 implements MigrationInterface {
  name = 'ApprovalOrigin1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE access_tokens
        ADD COLUMN approved_ip varchar(64),
        ADD COLUMN approved_user_agent varchar(512),
        ADD COLUMN approved_browser_hash char(64)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE access_tokens DROP COLUMN approved_browser_hash, DROP COLUMN approved_user_agent, DROP COLUMN approved_ip');
  }
}
