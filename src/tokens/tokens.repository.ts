import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { ApprovalOrigin } from '../common/browser-id';

/** Whose authorization a token row is, as the row records it. */
export interface TokenOwner {
  subjectId: string;
  subjectIssuer: string;
  subjectExternalId: string;
  subjectEmail: string;
  clientId: string;
  deviceLabel: string;
}

export interface MintRecord extends TokenOwner {
  tokenHash: string;
  kind: string;
  scopes: string[];
  grantId: string;
  deliveryAttempt: number;
  issuedAt: Date;
  expiresAt: Date;
  createdIp: string;
  organizationId?: string;
  approvalOrigin?: ApprovalOrigin;
}

export interface MintResult {
  id: string;
  /** True when an earlier live authorization of the same subject, client and labelled device got the new secret. */
  rotated: boolean;
  /** The hash the row held before (a rotated token, or an undelivered attempt): it stops validating everywhere. */
  previousTokenHash: string | null;
}

/** A token row that a revocation just closed. */
export interface RevokedToken extends TokenOwner {
  id: string;
  tokenHash: string | null;
  organizationId: string | null;
}

/** Which live authorizations a revocation closes. */
export type RevocationTarget =
  | { kind: 'token'; tokenHash: string; clientId?: string }
  | { kind: 'authorization'; id: string; subjectId?: string }
  /** What one approval (named by the hash of its device code) delivered. */
  | { kind: 'grant'; grantId: string; clientId: string }
  | { kind: 'subject'; subjectId: string; organizationId?: string }
  /** Every authorization of a person except those the browser of this id hash approved. */
  | { kind: 'subject_except_browser'; subjectId: string; browserHash: string };

/** A live authorization as its owner's device inventory shows it. */
export interface AuthorizationRow {
  id: string;
  clientId: string;
  deviceLabel: string;
  scopes: string[];
  organizationId: string | null;
  createdAt: Date;
  rotatedAt: Date | null;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
  expiresAt: Date;
  refreshable: boolean;
  /** The approving browser; null for an authorization approved before origins were kept. */
  approvedIp: string | null;
  approvedUserAgent: string | null;
  approvedBrowserHash: string | null;
}

export interface LastUse {
  id: string;
  at: Date;
  /** null: used through introspection, from no device address we know. */
  ip: string | null;
}

export interface TokenRecord extends TokenOwner {
  id: string;
  kind: string;
  subjectName: string;
  scopes: string[];
  organizationId: string | null;
  createdAt: Date;
  /** When the current secret was handed out. */
  issuedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

@Injectable()
export class TokensRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores the secret of one delivery attempt of one grant. The row of a
   * live authorization of the same subject, client and labelled device is
   * rotated in place (a device without a label is its own authorization,
   * keyed by its grant); an attempt older than the one already stored changes
   * nothing and returns undefined (a newer poll is delivering).
   */
  async mint(record: MintRecord, manager: EntityManager = this.dataSource.manager): Promise<MintResult | undefined> {
    const rows: { id: string; previous_grant_id: string | null; previous_token_hash: string | null }[] = await manager.query(
      `WITH previous AS (
         SELECT grant_id, token_hash FROM access_tokens
          WHERE subject_id = $3 AND client_id = $7 AND device_key = $16 AND revoked_at IS NULL
       )
       INSERT INTO access_tokens (token_hash, kind, subject_id, subject_issuer, subject_external_id, subject_email,
                                  client_id, device_label, scopes, granted_scopes, grant_id, delivery_attempt, expires_at,
                                  created_ip, organization_id, issued_at, approved_ip, approved_user_agent, approved_browser_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13, $14, $15, $17, $18, $19)
       ON CONFLICT (subject_id, client_id, device_key) WHERE revoked_at IS NULL DO UPDATE
          SET token_hash = EXCLUDED.token_hash, kind = EXCLUDED.kind, subject_email = EXCLUDED.subject_email,
              scopes = EXCLUDED.scopes, granted_scopes = EXCLUDED.granted_scopes, grant_id = EXCLUDED.grant_id,
              delivery_attempt = EXCLUDED.delivery_attempt, expires_at = EXCLUDED.expires_at,
              created_ip = EXCLUDED.created_ip, organization_id = EXCLUDED.organization_id,
              issued_at = EXCLUDED.issued_at, rotated_at = now(), approved_ip = EXCLUDED.approved_ip,
              approved_user_agent = EXCLUDED.approved_user_agent, approved_browser_hash = EXCLUDED.approved_browser_hash
        WHERE access_tokens.grant_id <> EXCLUDED.grant_id OR access_tokens.delivery_attempt < EXCLUDED.delivery_attempt
       RETURNING id, (SELECT grant_id FROM previous) AS previous_grant_id,
                 (SELECT token_hash FROM previous) AS previous_token_hash`,
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
        record.issuedAt,
        deviceKey(record),
        record.approvalOrigin?.ip ?? null,
        record.approvalOrigin?.userAgent ?? null,
        record.approvalOrigin?.browserHash ?? null,
      ],
    );
    const [row] = rows;
    if (!row) return undefined;
    return {
      id: row.id,
      rotated: row.previous_grant_id !== null && row.previous_grant_id !== record.grantId,
      previousTokenHash: row.previous_token_hash,
    };
  }

  /** Gives a live authorization a new access-token secret (a refresh); returns the row as it was, or undefined when it is no longer live. */
  async renewSecret(
    renewal: { id: string; tokenHash: string; scopes: string[]; issuedAt: Date; expiresAt: Date },
    manager: EntityManager,
  ): Promise<(RevokedToken & { previousExpiresAt: Date }) | undefined> {
    const rows: (RevokedToken & { previousExpiresAt: Date })[] = await manager.query(
      // A CTE around the UPDATE, so the driver answers with the rows.
      `WITH previous AS (SELECT id, token_hash, expires_at FROM access_tokens WHERE id = $1 AND revoked_at IS NULL FOR UPDATE),
       renewed AS (
         UPDATE access_tokens t
            SET token_hash = $2, scopes = $3, issued_at = $4, expires_at = $5
           FROM previous
          WHERE t.id = previous.id
         RETURNING t.id, previous.token_hash AS "tokenHash", t.subject_id AS "subjectId", t.subject_issuer AS "subjectIssuer",
                   t.subject_external_id AS "subjectExternalId", t.subject_email AS "subjectEmail", t.client_id AS "clientId",
                   t.device_label AS "deviceLabel", t.organization_id AS "organizationId", previous.expires_at AS "previousExpiresAt"
       )
       SELECT * FROM renewed`,
      [renewal.id, renewal.tokenHash, renewal.scopes, renewal.issuedAt, renewal.expiresAt],
    );
    return rows[0];
  }

  /** Closes the live authorizations the target names (and their refresh tokens); returns the rows it closed. */
  async revoke(target: RevocationTarget, reason: string, now: Date, manager: EntityManager): Promise<RevokedToken[]> {
    const [condition, parameters] = revocationCondition(target);
    const revoked: RevokedToken[] = await manager.query(
      `WITH revoked AS (
         UPDATE access_tokens SET revoked_at = $1, revoked_reason = $2
          WHERE revoked_at IS NULL AND ${condition}
         RETURNING id, token_hash, subject_id, subject_issuer, subject_external_id, subject_email, client_id,
                   device_label, organization_id
       ), families AS (
         UPDATE refresh_tokens r SET revoked_at = $1 FROM revoked
          WHERE r.authorization_id = revoked.id AND r.revoked_at IS NULL
       )
       SELECT id, token_hash AS "tokenHash", subject_id AS "subjectId", subject_issuer AS "subjectIssuer",
              subject_external_id AS "subjectExternalId", subject_email AS "subjectEmail", client_id AS "clientId",
              device_label AS "deviceLabel", organization_id AS "organizationId"
         FROM revoked`,
      [now, reason, ...parameters],
    );
    return revoked;
  }

  /** The subject's live authorizations (not revoked, and unexpired or still renewable by a refresh token), newest first. */
  async listLive(subjectId: string, now: Date): Promise<AuthorizationRow[]> {
    return this.dataSource.query(
      `SELECT * FROM (
         SELECT t.id, t.client_id AS "clientId", t.device_label AS "deviceLabel", t.scopes,
                t.organization_id AS "organizationId", t.created_at AS "createdAt", t.rotated_at AS "rotatedAt",
                t.last_used_at AS "lastUsedAt", t.last_used_ip AS "lastUsedIp", t.expires_at AS "expiresAt",
                t.approved_ip AS "approvedIp", t.approved_user_agent AS "approvedUserAgent",
                t.approved_browser_hash AS "approvedBrowserHash",
                EXISTS (SELECT 1 FROM refresh_tokens r
                         WHERE r.authorization_id = t.id AND r.revoked_at IS NULL AND r.used_at IS NULL
                           AND r.idle_expires_at > $2 AND r.family_expires_at > $2) AS refreshable
           FROM access_tokens t
          WHERE t.subject_id = $1 AND t.revoked_at IS NULL
       ) live
       WHERE live."expiresAt" > $2 OR live.refreshable
       ORDER BY live."createdAt" DESC, live.id`,
      [subjectId, now],
    );
  }

  /** Writes buffered last uses in one statement; an older use never overwrites a newer one. */
  async recordLastUse(uses: LastUse[]): Promise<void> {
    if (uses.length === 0) return;
    await this.dataSource.query(
      `UPDATE access_tokens t SET last_used_at = u.at, last_used_ip = COALESCE(u.ip, t.last_used_ip)
         FROM jsonb_to_recordset($1::jsonb) AS u(id uuid, at timestamptz, ip text)
        WHERE t.id = u.id AND (t.last_used_at IS NULL OR t.last_used_at < u.at)`,
      [JSON.stringify(uses)],
    );
  }

  async findByHash(tokenHash: string): Promise<TokenRecord | undefined> {
    const rows: TokenRecord[] = await this.dataSource.query(
      `SELECT t.id, t.kind, t.subject_id AS "subjectId", t.subject_issuer AS "subjectIssuer",
              t.subject_external_id AS "subjectExternalId", t.subject_email AS "subjectEmail", s.name AS "subjectName",
              t.client_id AS "clientId", t.device_label AS "deviceLabel", t.scopes, t.organization_id AS "organizationId", t.created_at AS "createdAt",
              COALESCE(t.issued_at, t.rotated_at, t.created_at) AS "issuedAt",
              t.expires_at AS "expiresAt", t.revoked_at AS "revokedAt"
         FROM access_tokens t JOIN subjects s ON s.id = t.subject_id
        WHERE t.token_hash = $1`,
      [tokenHash],
    );
    return rows[0];
  }
}

/** The access_tokens.device_key of a record: the generated column's expression, for the lookup before the insert. */
function deviceKey(record: Pick<MintRecord, 'deviceLabel' | 'grantId'>): string {
  return record.deviceLabel === '' ? `grant:${record.grantId}` : `label:${record.deviceLabel}`;
}

/** The WHERE clause (parameters from $3) of a revocation target. */
function revocationCondition(target: RevocationTarget): [string, unknown[]] {
  switch (target.kind) {
    case 'token':
      return ['token_hash = $3 AND ($4::text IS NULL OR client_id = $4)', [target.tokenHash, target.clientId ?? null]];
    case 'authorization':
      return ['id = $3::uuid AND ($4::uuid IS NULL OR subject_id = $4::uuid)', [target.id, target.subjectId ?? null]];
    case 'grant':
      return ['grant_id = $3 AND client_id = $4', [target.grantId, target.clientId]];
    case 'subject':
      return ['subject_id = $3::uuid AND ($4::text IS NULL OR organization_id = $4)', [target.subjectId, target.organizationId ?? null]];
    case 'subject_except_browser':
      return ['subject_id = $3::uuid AND approved_browser_hash IS DISTINCT FROM $4', [target.subjectId, target.browserHash]];
  }
}
