import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { type AuditActor, userActor } from '../audit/audit-event';
import { ClientRegistry } from '../clients/client-registry.service';
import { Clock } from '../common/clock';
import { sha256Hex } from '../common/crypto';
import { Metrics } from '../common/metrics';
import { InvalidToken, MalformedAuthorization } from '../common/oauth-errors';
import { AppConfig } from '../config/app-config';
import { LastUsedService } from './last-used.service';
import { INVALIDATED, TokenCacheStore } from './token-cache.store';
import { parseToken } from './token-format';
import { ScopePolicy } from './scope-policy';
import { effectiveScopes, TOKEN_KINDS, type TokenKindName } from './token-kinds';
import { TokensRepository, type TokenRecord } from './tokens.repository';

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
  /** What the token was granted, within its kind's ceiling as it stands now. */
  scopes: string[];
  organizationId: string | null;
  issuedAt: Date;
  expiresAt: Date;
}

/** The person behind a token, as the actor of what they do with it. */
export function tokenActor(token: AuthenticatedToken): AuditActor {
  return userActor({ subjectId: token.subjectId, issuer: token.issuer, email: token.email, externalId: token.externalId });
}

const LOCAL_CACHE_MAX_ENTRIES = 50_000;
const SUBSCRIBE_RETRY_MS = 5_000;

/**
 * Turns a presented token into what it may do, on every request: a
 * per-instance cache (TOKEN_CACHE_TTL), then the cache shared in Redis
 * (TOKEN_SHARED_CACHE_TTL, never past the token's expiry), then Postgres. A
 * revocation deletes the shared entry and announces the hash over pub/sub, so
 * every instance drops it at once; if an instance cannot hear announcements,
 * its own cache lifetime bounds how long it may still accept the token, and
 * it forgets everything it cached whenever the subscription comes back.
 */
@Injectable()
export class TokenValidationService implements OnModuleInit {
  private readonly logger = new Logger('TokenValidation');
  private readonly local = new Map<string, { record?: TokenRecord; until: number }>();
  /** When each recently invalidated hash was dropped: a lookup that started before must not cache what it read. */
  private readonly invalidatedAt = new Map<string, number>();
  private readonly policy: ScopePolicy;

  constructor(
    private readonly config: AppConfig,
    private readonly tokens: TokensRepository,
    private readonly cache: TokenCacheStore,
    private readonly clients: ClientRegistry,
    private readonly lastUsed: LastUsedService,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
  ) {
    this.policy = new ScopePolicy(config.scopes);
  }

  async onModuleInit(): Promise<void> {
    await this.subscribe();
  }

  /** RFC 6750 §2.1: the `Authorization: Bearer` header → the live token behind it, or an RFC 6750 error. */
  async authenticate(authorization: string | undefined, ip: string): Promise<AuthenticatedToken> {
    // §3.1: no credentials, or another scheme, is answered with a bare challenge.
    if (!authorization || !/^Bearer(\s|$)/i.test(authorization)) throw new InvalidToken('A bearer token is required', false);
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization.trim());
    if (!match) throw new MalformedAuthorization();
    const kind = parseToken(match[1]);
    if (!kind) throw new InvalidToken('The access token is malformed');
    const token = await this.validateKind(match[1], kind, ip);
    if (!token) throw new InvalidToken('The access token is invalid, expired or revoked');
    return token;
  }

  /**
   * The live access token, or undefined for anything else (malformed,
   * unknown, expired, revoked, a refresh token). The use is recorded, with the
   * caller's IP when the caller is the device.
   */
  async validate(token: string, ip?: string): Promise<AuthenticatedToken | undefined> {
    const kind = parseToken(token);
    return kind ? this.validateKind(token, kind, ip) : undefined;
  }

  private async validateKind(token: string, kind: TokenKindName, ip?: string): Promise<AuthenticatedToken | undefined> {
    if (!TOKEN_KINDS[kind].bearer) return undefined;
    const tokenHash = sha256Hex(token);
    // A hit of the per-instance cache is answered without awaiting anything.
    const cached = this.cached(tokenHash);
    const record = cached ? cached.record : await this.lookup(tokenHash);
    const now = this.clock.now();
    if (!record || record.revokedAt || record.expiresAt.getTime() <= now) return undefined;
    const client = this.clients.known(record.clientId) ?? (await this.clients.find(record.clientId));
    if (!client?.enabled) return undefined;
    this.lastUsed.touch(record.id, new Date(now), ip);
    return {
      id: record.id,
      subjectId: record.subjectId,
      issuer: record.subjectIssuer,
      externalId: record.subjectExternalId,
      email: record.subjectEmail,
      name: record.subjectName,
      clientId: record.clientId,
      deviceLabel: record.deviceLabel,
      // A token's organization is its approver's (an organization's client is approved only by its members).
      scopes: effectiveScopes(TOKEN_KINDS[kind], record.scopes, client, this.policy, {
        subjectId: record.subjectId,
        organizationId: record.organizationId,
        email: record.subjectEmail,
      }),
      organizationId: record.organizationId,
      issuedAt: record.issuedAt,
      expiresAt: record.expiresAt,
    };
  }

  /** Drops tokens from every cache and tells every instance to; throws when that cannot be done now. */
  async invalidate(tokenHashes: (string | null)[]): Promise<void> {
    const hashes = tokenHashes.filter((hash): hash is string => Boolean(hash));
    if (hashes.length === 0) return;
    this.forget(hashes);
    // The mark outlives any entry a lookup that raced the revocation could still try to write.
    const { unconfirmed } = await this.cache.invalidate(hashes, Math.max(1000, this.config.tokenSharedCacheTtlSeconds * 1000));
    if (unconfirmed > 0) {
      // They received it, so they drop the tokens as soon as they read it; until then their own cache still answers.
      this.metrics.tokenInvalidationsUnconfirmed.inc(unconfirmed);
      this.logger.warn({ msg: 'instances did not confirm a token invalidation in time', instances: unconfirmed });
    }
  }

  private cached(tokenHash: string): { record?: TokenRecord } | undefined {
    const cached = this.local.get(tokenHash);
    if (!cached || cached.until <= this.clock.now()) return undefined;
    this.metrics.countLocalTokenLookup();
    return cached;
  }

  /** The shared cache in Redis, then Postgres; each answer is kept in the per-instance cache. */
  private async lookup(tokenHash: string): Promise<TokenRecord | undefined> {
    const now = this.clock.now();
    const shared = await this.cache.get(tokenHash).catch(() => undefined);
    if (shared) {
      this.metrics.tokenLookups.inc({ source: 'shared' });
      const record = shared === INVALIDATED ? undefined : reviveRecord(shared);
      this.remember(tokenHash, record, now);
      return record;
    }
    this.metrics.tokenLookups.inc({ source: 'database' });
    const record = await this.tokens.findByHash(tokenHash);
    this.remember(tokenHash, record, now);
    if (record) {
      const ttl = Math.min(this.config.tokenSharedCacheTtlSeconds * 1000, record.expiresAt.getTime() - now);
      if (ttl > 0) await this.cache.set(tokenHash, JSON.stringify(record), ttl).catch(() => undefined);
    }
    return record;
  }

  /** Caches what a lookup started at `startedAt` found, unless the hash was invalidated since. */
  private remember(tokenHash: string, record: TokenRecord | undefined, startedAt: number): void {
    if (this.config.tokenCacheTtlSeconds <= 0) return;
    if ((this.invalidatedAt.get(tokenHash) ?? -Infinity) >= startedAt) return;
    if (this.local.size >= LOCAL_CACHE_MAX_ENTRIES) this.local.delete(this.local.keys().next().value as string);
    this.local.set(tokenHash, { record, until: startedAt + this.config.tokenCacheTtlSeconds * 1000 });
  }

  private forget(hashes: string[]): void {
    const now = this.clock.now();
    for (const hash of hashes) {
      this.local.delete(hash);
      this.invalidatedAt.delete(hash);
      if (this.invalidatedAt.size >= LOCAL_CACHE_MAX_ENTRIES) this.invalidatedAt.delete(this.invalidatedAt.keys().next().value as string);
      this.invalidatedAt.set(hash, now);
    }
  }

  private async subscribe(): Promise<void> {
    try {
      await this.cache.subscribe(
        (hashes) => {
          this.forget(hashes);
          this.metrics.tokenInvalidations.inc(hashes.length);
        },
        () => this.local.clear(),
      );
    } catch (error) {
      this.logger.warn({ msg: 'cannot subscribe to token invalidations; retrying', error: (error as Error).message });
      setTimeout(() => void this.subscribe(), SUBSCRIBE_RETRY_MS).unref();
    }
  }
}

function reviveRecord(json: string): TokenRecord {
  const parsed = JSON.parse(json) as TokenRecord;
  return {
    ...parsed,
    issuedAt: new Date(parsed.issuedAt),
    createdAt: new Date(parsed.createdAt),
    expiresAt: new Date(parsed.expiresAt),
    revokedAt: parsed.revokedAt ? new Date(parsed.revokedAt) : null,
  };
}
