import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Device grants: an authorization keeps the scope its approval granted apart
 * from the scope of its current access token (a refresh may narrow the access
 * token, never the grant, RFC 6749 §6); a device without a label is its own
 * authorization (its key is its grant), so only the same labelled device is
 * rotated in place; what one device code delivered is found by its hash.
 */
export class DeviceGrants1763970000000 implements MigrationInterface {
  name = 'DeviceGrants1763970000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE access_tokens ADD COLUMN granted_scopes text[]');
    await queryRunner.query('UPDATE access_tokens SET granted_scopes = scopes');
    await queryRunner.query('ALTER TABLE access_tokens ALTER COLUMN granted_scopes SET NOT NULL');
    await queryRunner.query(`
      ALTER TABLE access_tokens ADD COLUMN device_key text NOT NULL
        GENERATED ALWAYS AS (CASE WHEN device_label = '' THEN 'grant:' || grant_id ELSE 'label:' || device_label END) STORED`);
    await queryRunner.query('DROP INDEX access_tokens_live_device');
    await queryRunner.query(`
      CREATE UNIQUE INDEX access_tokens_live_device
        ON access_tokens (subject_id, client_id, device_key) WHERE revoked_at IS NULL`);
    await queryRunner.query('CREATE INDEX access_tokens_grant ON access_tokens (grant_id)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX access_tokens_grant');
    await queryRunner.query('DROP INDEX access_tokens_live_device');
    // The older schema allows one live unlabelled device per subject and client: the newest stays.
    await queryRunner.query(`
      UPDATE access_tokens t SET revoked_at = now(), revoked_reason = 'downgrade'
       WHERE t.revoked_at IS NULL AND t.device_label = ''
         AND EXISTS (SELECT 1 FROM access_tokens n
                      WHERE n.subject_id = t.subject_id AND n.client_id = t.client_id AND n.device_label = ''
                        AND n.revoked_at IS NULL AND (n.created_at, n.id) > (t.created_at, t.id))`);
    await queryRunner.query(`
      CREATE UNIQUE INDEX access_tokens_live_device
        ON access_tokens (subject_id, client_id, device_label) WHERE revoked_at IS NULL`);
    await queryRunner.query('ALTER TABLE access_tokens DROP COLUMN device_key, DROP COLUMN granted_scopes');
  }
}
