import { Injectable } from '@nestjs/common';
import { type AuditActor, userActor } from '../audit/audit-event';
import { type AuditedTransaction, AuditService } from '../audit/audit.service';
import type { ApprovalOrigin } from '../common/browser-id';
import { Clock } from '../common/clock';
import { sha256Hex } from '../common/crypto';
import { InvalidGrant, InvalidScope, TemporarilyUnavailable } from '../common/oauth-errors';
import type { RequestContext } from '../common/request-context';
import { AppConfig, type ClientDefinition, REFRESH_TOKEN_GRANT } from '../config/app-config';
import type { Approver } from './approver';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { generateToken, parseToken } from './token-format';
import { ScopePolicy } from './scope-policy';
import { TokenValidationService } from './token-validation.service';
import { type MintResult, type RevocationTarget, type RevokedToken, type TokenOwner, TokensRepository } from './tokens.repository';

/** Why a token stopped working before its time: the audit trail's `token.revoked` details.reason. */
export type RevocationReason = 'self' | 'user' | 'admin' | 'rfc7009' | 'refresh_reuse' | 'device_code_replay';

export interface GrantToMint {
  /** Hash of the device code: the grant's identity. */
  grantId: string;
  attempt: number;
  approver: Approver;
  client: ClientDefinition;
  deviceLabel: string;
  scopes: string[];
  ttlSeconds: number;
  /** The client's organization, else the approver's. */
  organizationId?: string;
  /** The browser that approved; absent for a flow approved before origins were kept. */
  approvalOrigin?: ApprovalOrigin;
  /** The poll that receives the token, and the address that asked for the code. */
  origin: RequestContext;
  requestIp: string;
}

export interface MintedToken extends MintResult {
  accessToken: string;
  /** What was granted: the requested scopes the approving person may hold. */
  scopes: string[];
  expiresIn: number;
  /** Only for a client allowed the refresh_token grant. */
  refreshToken?: string;
}

export interface RefreshedToken {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  scopes: string[];
}

@Injectable()
export class TokensService {
  private readonly policy: ScopePolicy;

  constructor(
    private readonly config: AppConfig,
    private readonly tokens: TokensRepository,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly validation: TokenValidationService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {
    this.policy = new ScopePolicy(config.scopes);
  }

  /**
   * Mints the access token of one delivery attempt (and, for a client allowed
   * refresh tokens, a new refresh-token family), with its audit events in the
   * same transaction; undefined when a newer attempt of the same grant got
   * there first. The secret the row held before stops validating everywhere.
   */
  async mint(grant: GrantToMint): Promise<MintedToken | undefined> {
    const accessToken = generateToken('dgat');
    const refreshToken = this.refreshable(grant.client) ? generateToken('dgrt') : undefined;
    const now = new Date(this.clock.now());
    const expiresAt = new Date(now.getTime() + grant.ttlSeconds * 1000);
    const clientId = grant.client.clientId;
    const scopes = grant.scopes.filter((scope) => this.policy.grantable(scope, grant.approver));
    const result = await this.audit.transaction(async (transaction) => {
      const minted = await this.tokens.mint(
        {
          tokenHash: sha256Hex(accessToken),
          kind: 'dgat',
          subjectId: grant.approver.subjectId,
          subjectIssuer: grant.approver.issuer,
          subjectExternalId: grant.approver.externalId,
          subjectEmail: grant.approver.email,
          clientId,
          deviceLabel: grant.deviceLabel,
          scopes,
          grantId: grant.grantId,
          deliveryAttempt: grant.attempt,
          issuedAt: now,
          expiresAt,
          createdIp: grant.origin.ip,
          organizationId: grant.organizationId,
          approvalOrigin: grant.approvalOrigin,
        },
        transaction.manager,
      );
      if (!minted) return undefined;
      if (refreshToken) {
        await this.refreshTokens.startFamily(
          { tokenHash: sha256Hex(refreshToken), authorizationId: minted.id, ...this.refreshLifetimes(grant.client, now) },
          transaction.manager,
        );
      }
      const event = {
        origin: grant.origin,
        outcome: 'success' as const,
        actor: userActor(grant.approver),
        organizationId: grant.organizationId,
        clientId,
        deviceLabel: grant.deviceLabel,
        tokenId: minted.id,
      };
      await transaction.record({
        ...event,
        type: 'token.minted',
        details: {
          scopes,
          ...(scopes.length < grant.scopes.length ? { withheld_scopes: grant.scopes.filter((scope) => !scopes.includes(scope)) } : {}),
          expires_at: expiresAt.toISOString(),
          attempt: grant.attempt,
          ...(refreshToken ? { refresh_token: true } : {}),
        },
      });
      if (minted.rotated) await transaction.record({ ...event, type: 'token.rotated', details: { scopes } });
      if (grant.requestIp && grant.origin.ip !== grant.requestIp) {
        await transaction.record({
          ...event,
          type: 'device_code.poll_ip_mismatch',
          outcome: 'failure',
          details: { requesting_ip: grant.requestIp, polling_ip: grant.origin.ip },
        });
      }
      return minted;
    });
    if (!result) return undefined;
    await this.invalidate([result.previousTokenHash]);
    return { ...result, accessToken, scopes, refreshToken, expiresIn: grant.ttlSeconds };
  }

  /**
   * RFC 6749 §6 with rotation: the refresh token is used up and replaced, the
   * authorization gets a new access-token secret. A refresh token presented a
   * second time means it was copied: the whole authorization is revoked
   * (RFC 9700 §4.14.2) before the refusal.
   */
  async refresh(context: RequestContext, client: ClientDefinition, refreshToken: string, requestedScope: string | undefined): Promise<RefreshedToken> {
    const refused = new InvalidGrant('The refresh token is invalid, expired or revoked');
    if (parseToken(refreshToken) !== 'dgrt') throw refused;
    const now = new Date(this.clock.now());
    const accessToken = generateToken('dgat');
    const nextRefreshToken = generateToken('dgrt');
    const outcome = await this.audit.transaction(async (transaction) => {
      const row = await this.refreshTokens.findForUpdate(sha256Hex(refreshToken), transaction.manager);
      if (!row || row.clientId !== client.clientId || row.revokedAt || row.authorizationRevokedAt) return { refused: true as const };
      if (row.usedAt) {
        const revoked = await this.revokeIn(transaction, context, { kind: 'authorization', id: row.authorizationId }, 'refresh_reuse', undefined, now);
        return { refused: true as const, revoked };
      }
      if (row.idleExpiresAt <= now || row.familyExpiresAt <= now) return { refused: true as const };
      // RFC 6749 §6: the new refresh token keeps the grant's scope; a narrower request narrows this access token only.
      const scopes = requestedScope === undefined ? row.grantedScopes : narrowScopes(requestedScope, row.grantedScopes);
      const ttlSeconds = client.accessTokenTtlSeconds ?? this.config.accessTokenTtlSeconds;
      const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
      await this.refreshTokens.markUsed(row.id, now, transaction.manager);
      const renewed = await this.tokens.renewSecret(
        { id: row.authorizationId, tokenHash: sha256Hex(accessToken), scopes, issuedAt: now, expiresAt },
        transaction.manager,
      );
      if (!renewed) return { refused: true as const };
      await this.refreshTokens.insert(
        { tokenHash: sha256Hex(nextRefreshToken), authorizationId: row.authorizationId, ...this.refreshLifetimes(client, now, row.familyExpiresAt) },
        transaction.manager,
      );
      await transaction.record({
        origin: context,
        type: 'token.refreshed',
        outcome: 'success',
        actor: ownerActor(renewed),
        organizationId: renewed.organizationId ?? undefined,
        clientId: renewed.clientId,
        deviceLabel: renewed.deviceLabel,
        tokenId: renewed.id,
        details: { scopes, expires_at: expiresAt.toISOString(), ip: context.ip },
      });
      return { refused: false as const, scopes, ttlSeconds, previousTokenHash: renewed.tokenHash };
    });
    if (outcome.refused) {
      if ('revoked' in outcome && outcome.revoked) await this.invalidate(outcome.revoked.map((token) => token.tokenHash));
      throw refused;
    }
    await this.invalidate([outcome.previousTokenHash]);
    return { accessToken, refreshToken: nextRefreshToken, expiresIn: outcome.ttlSeconds, scopes: outcome.scopes };
  }

  /**
   * Revokes the live authorizations the target names, each with its
   * `token.revoked` event in the same transaction, then drops them from every
   * instance's cache; answers 503 (the revocation is stored, a retry is safe)
   * when the other instances cannot be told.
   */
  async revoke(context: RequestContext, target: RevocationTarget, reason: RevocationReason, actor?: AuditActor): Promise<RevokedToken[]> {
    const now = new Date(this.clock.now());
    const revoked = await this.audit.transaction((transaction) => this.revokeIn(transaction, context, target, reason, actor, now));
    await this.invalidate(revoked.map((token) => token.tokenHash));
    return revoked;
  }

  /**
   * A device code presented again after its token was delivered (RFC 6749
   * §4.1.2, as for authorization codes): whoever holds it now, the device or
   * someone who copied the code, the authorization it produced is revoked,
   * refresh tokens included, and the replay is audited.
   */
  async revokeReplayedGrant(context: RequestContext, deviceCodeHash: string, clientId: string): Promise<RevokedToken[]> {
    const now = new Date(this.clock.now());
    const revoked = await this.audit.transaction(async (transaction) => {
      const closed = await this.revokeIn(transaction, context, { kind: 'grant', grantId: deviceCodeHash, clientId }, 'device_code_replay', undefined, now);
      await transaction.record({
        origin: context,
        type: 'device_code.replayed',
        outcome: 'failure',
        actor: { type: 'client' },
        organizationId: closed[0]?.organizationId ?? undefined,
        clientId,
        deviceLabel: closed[0]?.deviceLabel,
        tokenId: closed[0]?.id,
        details: { revoked: closed.length },
      });
      return closed;
    });
    await this.invalidate(revoked.map((token) => token.tokenHash));
    return revoked;
  }

  private async revokeIn(
    transaction: AuditedTransaction,
    context: RequestContext,
    target: RevocationTarget,
    reason: RevocationReason,
    actor: AuditActor | undefined,
    now: Date,
  ): Promise<RevokedToken[]> {
    const revoked = await this.tokens.revoke(target, reason, now, transaction.manager);
    await transaction.record(
      ...revoked.map((token) => ({
        origin: context,
        type: 'token.revoked' as const,
        outcome: 'success' as const,
        actor: actor ?? ownerActor(token),
        organizationId: token.organizationId ?? undefined,
        clientId: token.clientId,
        deviceLabel: token.deviceLabel,
        tokenId: token.id,
        details: { reason, subject_id: token.subjectId },
      })),
    );
    return revoked;
  }

  private refreshable(client: ClientDefinition): boolean {
    return client.grantTypes.includes(REFRESH_TOKEN_GRANT);
  }

  /**
   * The lifetimes of a refresh token created `now`: its family ends at
   * `familyExpiresAt` (a new family: the absolute lifetime from now), and it
   * expires unused after the idle lifetime, never past its family.
   */
  private refreshLifetimes(client: ClientDefinition, now: Date, familyExpiresAt?: Date) {
    const idle = client.refreshTokenIdleTtlSeconds ?? this.config.refreshTokenIdleTtlSeconds;
    const absolute = client.refreshTokenAbsoluteTtlSeconds ?? this.config.refreshTokenAbsoluteTtlSeconds;
    const familyEnd = familyExpiresAt ?? new Date(now.getTime() + absolute * 1000);
    return {
      createdAt: now,
      idleExpiresAt: new Date(Math.min(now.getTime() + idle * 1000, familyEnd.getTime())),
      familyExpiresAt: familyEnd,
    };
  }

  private async invalidate(hashes: (string | null)[]): Promise<void> {
    await this.validation.invalidate(hashes).catch(() => {
      throw new TemporarilyUnavailable('The change is stored, but not every instance could be told yet. Try again shortly.');
    });
  }
}

/** The person a token row belongs to, as an audit actor. */
function ownerActor(row: TokenOwner): AuditActor {
  return userActor({ subjectId: row.subjectId, issuer: row.subjectIssuer, email: row.subjectEmail, externalId: row.subjectExternalId });
}

/** RFC 6749 §6: a refresh may ask for fewer scopes than were granted, never more. */
function narrowScopes(requested: string, granted: string[]): string[] {
  const scopes = [...new Set(requested.split(' ').filter(Boolean))];
  const extra = scopes.filter((scope) => !granted.includes(scope));
  if (scopes.length === 0 || extra.length > 0) {
    throw new InvalidScope(`A refresh may only narrow the granted scopes (${granted.join(' ')})`);
  }
  return scopes;
}
