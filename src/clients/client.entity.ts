import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A client registered in the database, beside the ones of the config file. */
@Entity('oauth_clients')
export class ClientEntity {
  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 128 })
  clientId!: string;

  @Column({ type: 'varchar', length: 120 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  type!: 'public' | 'confidential';

  @Column({ name: 'secret_hash', type: 'char', length: 64, nullable: true })
  secretHash!: string | null;

  @Column({ name: 'grant_types', type: 'text', array: true })
  grantTypes!: string[];

  @Column({ name: 'allowed_scopes', type: 'text', array: true })
  allowedScopes!: string[];

  @Column({ name: 'default_scopes', type: 'text', array: true })
  defaultScopes!: string[];

  @Column({ name: 'device_code_ttl', type: 'integer', nullable: true })
  deviceCodeTtl!: number | null;

  @Column({ name: 'poll_interval', type: 'integer', nullable: true })
  pollInterval!: number | null;

  @Column({ name: 'access_token_ttl', type: 'integer', nullable: true })
  accessTokenTtl!: number | null;

  @Column({ type: 'boolean' })
  enabled!: boolean;

  @Column({ name: 'organization_id', type: 'varchar', length: 64, nullable: true })
  organizationId!: string | null;

  @Column({ name: 'resource_server', type: 'boolean', default: false })
  resourceServer!: boolean;

  @Column({ name: 'refresh_token_idle_ttl', type: 'integer', nullable: true })
  refreshTokenIdleTtl!: number | null;

  @Column({ name: 'refresh_token_absolute_ttl', type: 'integer', nullable: true })
  refreshTokenAbsoluteTtl!: number | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
