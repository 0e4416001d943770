import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A person as their identity provider names them; provisioned at first sign-in. */
@Entity('subjects')
export class SubjectEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' })
  id!: string;

  @Column({ type: 'varchar', length: 512 })
  issuer!: string;

  @Column({ name: 'external_id', type: 'varchar', length: 512 })
  externalId!: string;

  @Column({ type: 'varchar', length: 320 })
  email!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ name: 'organization_id', type: 'varchar', length: 64, nullable: true })
  organizationId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'last_sign_in_at', type: 'timestamptz' })
  lastSignInAt!: Date;
}
