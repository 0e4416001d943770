import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

export interface MintRecord {
  tokenHash: string;
  kind: string;
  subjectId: string;
  subjectIssuer: string;
  subjectExternalId: string;
  subjectEmail: string;
  clientId: string;
  deviceLabel: string;
  scopes: string[];
  grantId: string;
  deliveryAttempt: number;
  expiresAt: Date;
  createdIp: string;
  organizationId?: string;
}

export interface MintResult {
  id: string;
  /** True when an earlier live authorization of the same subject, client and device got the new secret. */
  rotated: boolean;
}

export interface TokenRecord {
  id: string;
  kind: string;
  subjectId: string;
  subjectIssuer: string;
  subjectExternalId: string;
  subjectEmail: string;
  subjectName: string;
  clientId: string;
  deviceLabel: string;
  scopes: string[];
  organizationId: string | null;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

@Injectable()
export class TokensRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores the secret of one delivery attempt of one grant. The row of a
   * live authorization of the same subject, client and device is rotated in
   * place; an attempt older than the one already stored changes nothing and
   * returns undefined (a newer poll is delivering).
   */
  async mint(record: MintRecord, manager: EntityManager = this.dataSource.manager): Promise<MintResult | undefined> {
    const rows: { id: string; previous_grant_id: string | null }[] = await manager.query(
      `WITH previous AS (
         SELECT grant_id FROM access_tokens
          WHERE subject_id = $3 AND client_id = $7 AND device_label = $8 AND revoked_at IS NULL
       )
       INSERT INTO access_tokens (token_hash, kind, subject_id, subject_issuer, subject_external_id, subject_email,
                                  client_id, device_label, scopes, grant_id, delivery_attempt, expires_at, created_ip,
                                  organization_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (subject_id, client_id, device_label) WHERE revoked_at IS NULL DO UPDATE
          SET token_hash = EXCLUDED.token_hash, kind = EXCLUDED.kind, subject_email = EXCLUDED.subject_email,
              scopes = EXCLUDED.scopes, grant_id = EXCLUDED.grant_id, delivery_attempt = EXCLUDED.delivery_attempt,
              expires_at = EXCLUDED.expires_at, created_ip = EXCLUDED.created_ip,
              organization_id = EXCLUDED.organization_id, rotated_at = now()
        WHERE access_tokens.grant_id <> EXCLUDED.grant_id OR access_tokens.delivery_attempt < EXCLUDED.delivery_attempt
       RETURNING id, (SELECT grant_id FROM previous) AS previous_grant_id`,
      [
        record.tokenHash,
        record.kind,
        record.subjectId,
        record.subjectIssuer,
        record.subjectExternalId,
        record.subjectEmail,
        record.clientId,
        record.deviceLabel,
        record.scopes,
        record.grantId,
        record.deliveryAttempt,
        record.expiresAt,
        record.createdIp,
        record.organizationId ?? null,
      ],
    );
    const [row] = rows;
    if (!row) return undefined;
    return { id: row.id, rotated: row.previous_grant_id !== null && row.previous_grant_id !== record.grantId };
  }

  async findByHash(tokenHash: string): Promise<TokenRecord | undefined> {
    const rows: TokenRecord[] = await this.dataSource.query(
      `SELECT t.id, t.kind, t.subject_id AS "subjectId", t.subject_issuer AS "subjectIssuer",
              t.subject_external_id AS "subjectExternalId", t.subject_email AS "subjectEmail", s.name AS "subjectName",
              t.client_id AS "clientId", t.device_label AS "deviceLabel", t.scopes, t.organization_id AS "organizationId", t.created_at AS "createdAt",
              t.expires_at AS "expiresAt", t.revoked_at AS "revokedAt"
         FROM access_tokens t JOIN subjects s ON s.id = t.subject_id
        WHERE t.token_hash = $1`,
      [tokenHash],
    );
    return rows[0];
  }
}
