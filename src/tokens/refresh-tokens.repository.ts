import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/** A refresh token with the authorization it renews, locked for the refresh at hand. */
export interface RefreshTokenRow {
  id: string;
  authorizationId: string;
  usedAt: Date | null;
  revokedAt: Date | null;
  idleExpiresAt: Date;
  familyExpiresAt: Date;
  clientId: string;
  authorizationRevokedAt: Date | null;
  /** What the approval granted: the scope of every refresh token of the family (RFC 6749 §6). */
  grantedScopes: string[];
}

export interface NewRefreshToken {
  tokenHash: string;
  authorizationId: string;
  createdAt: Date;
  idleExpiresAt: Date;
  familyExpiresAt: Date;
}

/** Refresh tokens: one family per authorization; each is used once and replaced (RFC 9700 §4.14). */
@Injectable()
export class RefreshTokensRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Starts a new family for an authorization (a new approval): every earlier refresh token of it stops working. */
  async startFamily(token: NewRefreshToken, manager: EntityManager): Promise<void> {
    await manager.query('UPDATE refresh_tokens SET revoked_at = $2 WHERE authorization_id = $1 AND revoked_at IS NULL', [
      token.authorizationId,
      token.createdAt,
    ]);
    await this.insert(token, manager);
  }

  async insert(token: NewRefreshToken, manager: EntityManager): Promise<void> {
    await manager.query(
      `INSERT INTO refresh_tokens (token_hash, authorization_id, created_at, idle_expires_at, family_expires_at)
       VALUES ($1, $2, $3, $4, $5)`,
      [token.tokenHash, token.authorizationId, token.createdAt, token.idleExpiresAt, token.familyExpiresAt],
    );
  }

  /**
   * The refresh token behind a hash, locked until the transaction ends, so two
   * uses of it are serialised. Its authorization is locked first, in the order
   * a mint or a revocation takes them (authorization, then refresh tokens), so
   * the two never wait on each other in a circle.
   */
  async findForUpdate(tokenHash: string, manager: EntityManager): Promise<RefreshTokenRow | undefined> {
    await manager.query(
      'SELECT 1 FROM access_tokens WHERE id = (SELECT authorization_id FROM refresh_tokens WHERE token_hash = $1) FOR UPDATE',
      [tokenHash],
    );
    const rows: RefreshTokenRow[] = await manager.query(
      `SELECT r.id, r.authorization_id AS "authorizationId", r.used_at AS "usedAt", r.revoked_at AS "revokedAt",
              r.idle_expires_at AS "idleExpiresAt", r.family_expires_at AS "familyExpiresAt",
              t.client_id AS "clientId", t.revoked_at AS "authorizationRevokedAt",
              t.granted_scopes AS "grantedScopes"
         FROM refresh_tokens r JOIN access_tokens t ON t.id = r.authorization_id
        WHERE r.token_hash = $1
          FOR UPDATE OF r`,
      [tokenHash],
    );
    return rows[0];
  }

  async markUsed(id: string, at: Date, manager: EntityManager): Promise<void> {
    await manager.query('UPDATE refresh_tokens SET used_at = $2 WHERE id = $1', [id, at]);
  }

  /** The authorization a refresh token renews, unless the token was revoked (a later approval replaced its family). */
  async findAuthorization(tokenHash: string): Promise<{ authorizationId: string; clientId: string } | undefined> {
    const rows: { authorizationId: string; clientId: string }[] = await this.dataSource.query(
      `SELECT r.authorization_id AS "authorizationId", t.client_id AS "clientId"
         FROM refresh_tokens r JOIN access_tokens t ON t.id = r.authorization_id
        WHERE r.token_hash = $1 AND r.revoked_at IS NULL`,
      [tokenHash],
    );
    return rows[0];
  }
}
