import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One device authorization of a subject (subject + client + device label):
 * a second approval for the same labelled device rotates the secret in place,
 * so the id stays and the inventory does not grow; every approval of a device
 * without a label is an authorization of its own. Only the SHA-256 of the
 * secret is kept.
 */
@Entity('access_tokens')
export class AccessTokenEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' })
  id!: string;

  @Column({ name: 'token_hash', type: 'char', length: 64, nullable: true })
  tokenHash!: string | null;

  @Column({ type: 'varchar', length: 16 })
  kind!: string;

  @Column({ name: 'subject_id', type: 'uuid' })
  subjectId!: string;

  @Column({ name: 'subject_issuer', type: 'varchar', length: 512 })
  subjectIssuer!: string;

  @Column({ name: 'subject_external_id', type: 'varchar', length: 512 })
  subjectExternalId!: string;

  @Column({ name: 'subject_email', type: 'varchar', length: 320 })
  subjectEmail!: string;

  @Column({ name: 'client_id', type: 'varchar', length: 128 })
  clientId!: string;

  @Column({ name: 'device_label', type: 'varchar', length: 64 })
  deviceLabel!: string;

  /** The scopes of the current access token (a refresh may narrow them). */
  @Column({ type: 'text', array: true })
  scopes!: string[];

  /** The scopes the approval granted: what a refresh token may ask for. */
  @Column({ name: 'granted_scopes', type: 'text', array: true })
  grantedScopes!: string[];

  /** What rotates in place: the label of a labelled device, else the grant itself. */
  @Column({ name: 'device_key', type: 'text', insert: false, update: false })
  deviceKey!: string;

  /** Hash of the device code whose approval produced the current secret. */
  @Column({ name: 'grant_id', type: 'varchar', length: 64 })
  grantId!: string;

  @Column({ name: 'delivery_attempt', type: 'integer' })
  deliveryAttempt!: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'rotated_at', type: 'timestamptz', nullable: true })
  rotatedAt!: Date | null;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_reason', type: 'varchar', length: 32, nullable: true })
  revokedReason!: string | null;

  @Column({ name: 'created_ip', type: 'varchar', length: 64 })
  createdIp!: string;

  /** The browser whose approval produced the current secret (null before origins were kept). */
  @Column({ name: 'approved_ip', type: 'varchar', length: 64, nullable: true })
  approvedIp!: string | null;

  @Column({ name: 'approved_user_agent', type: 'varchar', length: 512, nullable: true })
  approvedUserAgent!: string | null;

  /** SHA-256 of the approving browser's id (the devicegate_browser cookie), when it had one. */
  @Column({ name: 'approved_browser_hash', type: 'char', length: 64, nullable: true })
  approvedBrowserHash!: string | null;
}
