import { Injectable } from '@nestjs/common';
import { userActor } from '../audit/audit-event';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { sha256Hex } from '../common/crypto';
import { InvalidToken, MalformedAuthorization } from '../common/oauth-errors';
import { generateToken, parseToken } from './token-format';
import { type MintResult, TokensRepository, type TokenRecord } from './tokens.repository';
import type { Approver } from './approver';

export interface GrantToMint {
  /** Hash of the device code: the grant's identity. */
  grantId: string;
  attempt: number;
  approver: Approver;
  clientId: string;
  deviceLabel: string;
  scopes: string[];
  ttlSeconds: number;
  /** The client's organization, else the approver's. */
  organizationId?: string;
  /** Who polled, and who asked for the code. */
  ip: string;
  requestIp: string;
}

export interface MintedToken extends MintResult {
  accessToken: string;
  expiresIn: number;
}

/** What a bearer-authenticated request knows about its caller. */
export interface AuthenticatedToken {
  id: string;
  subjectId: string;
  issuer: string;
  externalId: string;
  email: string;
  name: string;
  clientId: string;
  deviceLabel: string;
  scopes: string[];
  organizationId: string | null;
  expiresAt: Date;
}

@Injectable()
export class TokensService {
  constructor(
    private readonly tokens: TokensRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /**
   * Mints the access token of one delivery attempt, with its audit events in
   * the same transaction; undefined when a newer attempt of the same grant
   * got there first.
   */
  async mint(grant: GrantToMint): Promise<MintedToken | undefined> {
    const accessToken = generateToken('dgat');
    const expiresAt = new Date(this.clock.now() + grant.ttlSeconds * 1000);
    const result = await this.audit.transaction(async (transaction) => {
      const minted = await this.tokens.mint(
        {
          tokenHash: sha256Hex(accessToken),
          kind: 'dgat',
          subjectId: grant.approver.subjectId,
          subjectIssuer: grant.approver.issuer,
          subjectExternalId: grant.approver.externalId,
          subjectEmail: grant.approver.email,
          clientId: grant.clientId,
          deviceLabel: grant.deviceLabel,
          scopes: grant.scopes,
          grantId: grant.grantId,
          deliveryAttempt: grant.attempt,
          expiresAt,
          createdIp: grant.ip,
          organizationId: grant.organizationId,
        },
        transaction.manager,
      );
      if (!minted) return undefined;
      const event = {
        outcome: 'success' as const,
        actor: userActor(grant.approver),
        organizationId: grant.organizationId,
        clientId: grant.clientId,
        deviceLabel: grant.deviceLabel,
        tokenId: minted.id,
      };
      await transaction.record({
        ...event,
        type: 'token.minted',
        details: { scopes: grant.scopes, expires_at: expiresAt.toISOString(), attempt: grant.attempt },
      });
      if (minted.rotated) await transaction.record({ ...event, type: 'token.rotated', details: { scopes: grant.scopes } });
      if (grant.requestIp && grant.ip !== grant.requestIp) {
        await transaction.record({
          ...event,
          type: 'device_code.poll_ip_mismatch',
          outcome: 'failure',
          details: { requesting_ip: grant.requestIp, polling_ip: grant.ip },
        });
      }
      return minted;
    });
    return result && { ...result, accessToken, expiresIn: grant.ttlSeconds };
  }

  /** RFC 6750 §2.1: the `Authorization: Bearer` header → the live token behind it, or an RFC 6750 error. */
  async authenticate(authorization: string | undefined): Promise<AuthenticatedToken> {
    // §3.1: no credentials, or another scheme, is answered with a bare challenge.
    if (!authorization || !/^Bearer(\s|$)/i.test(authorization)) throw new InvalidToken('A bearer token is required', false);
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization.trim());
    if (!match) throw new MalformedAuthorization();
    const token = match[1];
    if (!parseToken(token)) throw new InvalidToken('The access token is malformed');
    const record = await this.tokens.findByHash(sha256Hex(token));
    if (!record || record.revokedAt || record.expiresAt.getTime() <= this.clock.now()) {
      throw new InvalidToken('The access token is invalid, expired or revoked');
    }
    return toAuthenticated(record);
  }
}

function toAuthenticated(record: TokenRecord): AuthenticatedToken {
  return {
    id: record.id,
    subjectId: record.subjectId,
    issuer: record.subjectIssuer,
    externalId: record.subjectExternalId,
    email: record.subjectEmail,
    name: record.subjectName,
    clientId: record.clientId,
    deviceLabel: record.deviceLabel,
    scopes: record.scopes,
    organizationId: record.organizationId,
    expiresAt: record.expiresAt,
  };
}
