import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1763900000000 implements MigrationInterface {
  name = 'InitialSchema1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE oauth_clients (
        client_id varchar(128) PRIMARY KEY,
        name varchar(120) NOT NULL,
        type varchar(16) NOT NULL CHECK (type IN ('public', 'confidential')),
        secret_hash char(64),
        grant_types text[] NOT NULL,
        allowed_scopes text[] NOT NULL DEFAULT '{}',
        default_scopes text[] NOT NULL DEFAULT '{}',
        device_code_ttl integer CHECK (device_code_ttl BETWEEN 60 AND 3600),
        poll_interval integer CHECK (poll_interval BETWEEN 1 AND 60),
        access_token_ttl integer CHECK (access_token_ttl >= 60),
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT oauth_clients_secret_matches_type CHECK ((type = 'confidential') = (secret_hash IS NOT NULL))
      )`);
    await queryRunner.query(`
      CREATE TABLE subjects (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        issuer varchar(512) NOT NULL,
        external_id varchar(512) NOT NULL,
        email varchar(320) NOT NULL,
        name varchar(200) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_sign_in_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT subjects_issuer_external_id UNIQUE (issuer, external_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE access_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        token_hash char(64),
        kind varchar(16) NOT NULL,
        subject_id uuid NOT NULL REFERENCES subjects (id),
        subject_issuer varchar(512) NOT NULL,
        subject_external_id varchar(512) NOT NULL,
        subject_email varchar(320) NOT NULL,
        client_id varchar(128) NOT NULL,
        device_label varchar(64) NOT NULL DEFAULT '',
        scopes text[] NOT NULL,
        grant_id varchar(64) NOT NULL,
        delivery_attempt integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        rotated_at timestamptz,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason varchar(32),
        created_ip varchar(64) NOT NULL,
        CONSTRAINT access_tokens_token_hash UNIQUE (token_hash)
      )`);
    // One live authorization per subject, client and device: a second approval rotates it in place.
    await queryRunner.query(`
      CREATE UNIQUE INDEX access_tokens_live_device
        ON access_tokens (subject_id, client_id, device_label) WHERE revoked_at IS NULL`);
    await queryRunner.query(`CREATE INDEX access_tokens_subject ON access_tokens (subject_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE access_tokens');
    await queryRunner.query('DROP TABLE subjects');
    await queryRunner.query('DROP TABLE oauth_clients');
  }
}
