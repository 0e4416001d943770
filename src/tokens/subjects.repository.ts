import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

export interface SignedInSubject {
  issuer: string;
  externalId: string;
  email: string;
  name: string;
  organizationId?: string;
}

@Injectable()
export class SubjectsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Provisions the subject at first sign-in and refreshes email, name and last sign-in after; returns its id. */
  async upsertSignIn(subject: SignedInSubject, manager: EntityManager = this.dataSource.manager): Promise<string> {
    const [row]: { id: string }[] = await manager.query(
      `INSERT INTO subjects (issuer, external_id, email, name, organization_id) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (issuer, external_id) DO UPDATE
          SET email = EXCLUDED.email, name = EXCLUDED.name, organization_id = EXCLUDED.organization_id,
              last_sign_in_at = now()
       RETURNING id`,
      [subject.issuer, subject.externalId, subject.email, subject.name, subject.organizationId ?? null],
    );
    return row.id;
  }

  /** Subjects by devicegate id, or every subject with that email (one per identity provider). */
  async findByIdOrEmail(idOrEmail: string): Promise<{ id: string; organizationId: string | null }[]> {
    const byId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrEmail);
    return this.dataSource.query(
      `SELECT id, organization_id AS "organizationId" FROM subjects WHERE ${byId ? 'id = $1::uuid' : 'lower(email) = lower($1)'}`,
      [idOrEmail],
    );
  }
}
