import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Organizations and their sign-in connectors (kept in step with the config
 * file at boot), and the organization that subjects, clients and tokens
 * belong to.
 */
export class Organizations1763950000000 implements MigrationInterface {
  name = 'Organizations1763950000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE organizations (
        id varchar(64) PRIMARY KEY,
        slug varchar(64) NOT NULL,
        name varchar(200) NOT NULL,
        email_domains text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT organizations_slug UNIQUE (slug)
      )`);
    await queryRunner.query(`
      CREATE TABLE sso_connectors (
        id varchar(64) PRIMARY KEY,
        organization_id varchar(64) REFERENCES organizations (id),
        type varchar(16) NOT NULL CHECK (type IN ('saml', 'oidc', 'local')),
        display_name varchar(120) NOT NULL,
        settings jsonb NOT NULL DEFAULT '{}',
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    for (const table of ['subjects', 'oauth_clients', 'access_tokens']) {
      await queryRunner.query(`ALTER TABLE ${table} ADD COLUMN organization_id varchar(64) REFERENCES organizations (id)`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['access_tokens', 'oauth_clients', 'subjects']) {
      await queryRunner.query(`ALTER TABLE ${table} DROP COLUMN organization_id`);
    }
    await queryRunner.query('DROP TABLE sso_connectors');
    await queryRunner.query('DROP TABLE organizations');
  }
}
