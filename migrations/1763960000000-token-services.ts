import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Token services: when and from where a token was last used (flushed in
 * batches, never one write per request), resource servers that may
 * introspect, and refresh tokens, one family per authorization.
 */
export class TokenServices1763960000000 implements MigrationInterface {
  name = 'TokenServices1763960000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // issued_at: when the current secret was handed out (mint, rotation or refresh); iat of introspection.
    await queryRunner.query(
      'ALTER TABLE access_tokens ADD COLUMN issued_at timestamptz, ADD COLUMN last_used_at timestamptz, ADD COLUMN last_used_ip varchar(64)',
    );
    await queryRunner.query(`
      ALTER TABLE oauth_clients
        ADD COLUMN resource_server boolean NOT NULL DEFAULT false,
        ADD COLUMN refresh_token_idle_ttl integer CHECK (refresh_token_idle_ttl >= 60),
        ADD COLUMN refresh_token_absolute_ttl integer CHECK (refresh_token_absolute_ttl >= 60)`);
    await queryRunner.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        token_hash char(64) NOT NULL,
        authorization_id uuid NOT NULL REFERENCES access_tokens (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        used_at timestamptz,
        idle_expires_at timestamptz NOT NULL,
        family_expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        CONSTRAINT refresh_tokens_token_hash UNIQUE (token_hash)
      )`);
    await queryRunner.query('CREATE INDEX refresh_tokens_authorization ON refresh_tokens (authorization_id)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE refresh_tokens');
    await queryRunner.query(
      'ALTER TABLE oauth_clients DROP COLUMN refresh_token_absolute_ttl, DROP COLUMN refresh_token_idle_ttl, DROP COLUMN resource_server',
    );
    await queryRunner.query('ALTER TABLE access_tokens DROP COLUMN last_used_ip, DROP COLUMN last_used_at, DROP COLUMN issued_at');
  }
}
