import type { MigrationInterface, QueryRunner } from 'typeorm';

/** LDAP / Active Directory connectors join SAML, OIDC and local ones. */
export class LdapConnectors1764000000000 implements MigrationInterface {
  name = 'LdapConnectors1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE sso_connectors DROP CONSTRAINT sso_connectors_type_check');
    await queryRunner.query("ALTER TABLE sso_connectors ADD CONSTRAINT sso_connectors_type_check CHECK (type IN ('saml', 'oidc', 'ldap', 'local'))");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DELETE FROM sso_connectors WHERE type = 'ldap'");
    await queryRunner.query('ALTER TABLE sso_connectors DROP CONSTRAINT sso_connectors_type_check');
    await queryRunner.query("ALTER TABLE sso_connectors ADD CONSTRAINT sso_connectors_type_check CHECK (type IN ('saml', 'oidc', 'local'))");
  }
}
