import type { RateLimit } from './durations';

export type ClientType = 'public' | 'confidential';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const REFRESH_TOKEN_GRANT = 'refresh_token';

/** One entry of `granted_to`: a subject by id, or an email within an organization (null: of no organization). */
export type ScopeGrantee = { subjectId: string } | { organizationId: string | null; email: string };

export interface ScopeDefinition {
  name: string;
  description: string;
  /** Set: only these people may hold the scope, e.g. `admin`. */
  grantedTo?: ScopeGrantee[];
  /** It lets a device change things (`write`, `admin`, or `sensitive: true`): the approval page marks it. */
  sensitive?: boolean;
}

/** Whose /device page it is: shown in its header and footer. */
export interface OperatorDefinition {
  name?: string;
  /** An https URL (the page's CSP allows its origin for images) or, from `logo_file`, devicegate's own `/device/logo`. */
  logo?: { url: string } | { file: Buffer; contentType: string };
  supportEmail?: string;
  supportUrl?: string;
}

export interface ClientDefinition {
  clientId: string;
  name: string;
  type: ClientType;
  /** SHA-256 (hex) of the secret; confidential clients only. */
  secretHash?: string;
  grantTypes: string[];
  allowedScopes: string[];
  defaultScopes: string[];
  deviceCodeTtlSeconds?: number;
  pollIntervalSeconds?: number;
  accessTokenTtlSeconds?: number;
  enabled: boolean;
  /** Set: only members of this organization may approve the client, and its tokens carry it. */
  organizationId?: string;
  /** A resource server may introspect tokens (RFC 7662); confidential clients only. */
  resourceServer?: boolean;
  refreshTokenIdleTtlSeconds?: number;
  refreshTokenAbsoluteTtlSeconds?: number;
}

export interface OrganizationDefinition {
  id: string;
  slug: string;
  name: string;
  /** Lowercase domains; an email of one of them is routed to this organization's connector, and its connectors' identities must have one. */
  emailDomains: string[];
  /** False when the config file did not write `email_domains` at all (then its connectors must name their own). */
  emailDomainsDeclared: boolean;
}

export interface SamlConnectorSettings {
  entryPoint: string;
  idpIssuer: string;
  /** PEM certificates; any one of them may have signed. */
  idpCerts: string[];
  spEntityId: string;
  wantResponseSigned: boolean;
  /** RSA-SHA1 signatures and SHA-1 digests are accepted (old ADFS); refused otherwise. */
  allowSha1: boolean;
  clockSkewMs: number;
  emailAttribute?: string;
  nameAttribute?: string;
}

export interface OidcConnectorSettings {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  scopes: string[];
  emailClaim: string;
  nameClaim: string;
  /** Only `email_verified: true` (a JSON boolean) is accepted. */
  requireVerifiedEmail: boolean;
  allowInsecureHttp: boolean;
  /** HS256/384/512 id_tokens, keyed with the client secret, are accepted (if the IdP announces them). */
  allowHmacIdTokens: boolean;
}

export interface LdapConnectorSettings {
  url: string;
  bindDn: string;
  bindPassword: string;
  searchBase: string;
  searchFilter: string;
  emailAttribute: string;
  nameAttribute: string;
  idAttribute: string;
  /** PEM; empty means the system's trusted CAs. */
  caCerts: string[];
  timeoutMs: number;
}

interface ConnectorBase {
  id: string;
  displayName: string;
  /** Every person who signs in through the connector is a member of this organization. */
  organizationId?: string;
  /**
   * Lowercase domains every identity of the connector must have its email
   * in: the connector's own `email_domains`, else its organization's. Empty
   * (written so in the config file) or undefined (no organization): any.
   */
  emailDomains?: string[];
}

export type ConnectorDefinition =
  | (ConnectorBase & { type: 'local' })
  | (ConnectorBase & { type: 'saml'; saml: SamlConnectorSettings })
  | (ConnectorBase & { type: 'oidc'; oidc: OidcConnectorSettings })
  | (ConnectorBase & { type: 'ldap'; ldap: LdapConnectorSettings });

export interface LocalUser {
  username: string;
  email: string;
  name: string;
  passwordHash: string;
}

export interface SecretKey {
  id: string;
  secret: Buffer;
}

export interface RateLimits {
  deviceCodePerIp: RateLimit;
  deviceCodePerClient: RateLimit;
  lookupPerIp: RateLimit;
  loginPerIp: RateLimit;
  approvalPerIp: RateLimit;
  failedUserCodes: RateLimit;
}

/**
 * The one validated configuration object. Built once at boot by
 * `loadConfig()` from the environment and the optional config file; see the
 * README for every variable and its default. An abstract class so that it is
 * its own injection token.
 */
export abstract class AppConfig {
  abstract env: 'production' | 'development' | 'test';
  /** `embedded`: no DATABASE_URL and no REDIS_URL, so PGlite and in-process stores. */
  abstract mode: 'embedded' | 'external';
  abstract host: string;
  abstract port: number;
  abstract publicUrl: string;
  /** Set: Prometheus metrics are served on their own listener here, never on the public port. Unset: on the public port (dev and test only). */
  abstract metricsPort?: number;
  abstract metricsHost: string;
  /** Serve the OpenAPI document and its UI at /docs on the public port. */
  abstract docsEnabled: boolean;
  /** The HTTP framework under Nest: Express by default, Fastify on request. */
  abstract httpAdapter: 'express' | 'fastify';
  abstract trustProxy: boolean | number | string[];
  abstract databaseUrl?: string;
  abstract databasePoolSize: number;
  abstract redisUrl?: string;
  abstract redisKeyPrefix: string;
  abstract dataDir: string;
  abstract migrateOnBoot: boolean;
  /** The first key signs; all of them verify. */
  abstract secretKeys: SecretKey[];
  abstract logLevel: string;
  abstract deviceCodeTtlSeconds: number;
  abstract pollIntervalSeconds: number;
  abstract accessTokenTtlSeconds: number;
  abstract approvalGrantTtlSeconds: number;
  /** A refresh token unused this long expires; each use starts the period again. */
  abstract refreshTokenIdleTtlSeconds: number;
  /** No refresh token of an authorization outlives this, counted from the approval. */
  abstract refreshTokenAbsoluteTtlSeconds: number;
  /** How long an instance trusts a validated token without asking Redis: the staleness bound when pub/sub is cut off. */
  abstract tokenCacheTtlSeconds: number;
  /** How long a validated token is kept in Redis for all instances (never past its expiry). */
  abstract tokenSharedCacheTtlSeconds: number;
  /** How often last-use times and IPs are written to Postgres, in one batch. */
  abstract lastUsedFlushSeconds: number;
  abstract rateLimits: RateLimits;
  /** How often the sealer extends the digest chain; 0 turns the schedule off. */
  abstract auditSealIntervalSeconds: number;
  /** Events younger than this are left for the next seal, so no transaction still in flight can land behind the chain. */
  abstract auditSealLagSeconds: number;
  /** How often the audit outbox is drained into audit_events besides the drain each write starts; 0 turns draining off. */
  abstract auditOutboxDrainIntervalSeconds: number;
  /** /readyz reports not ready while the oldest undrained audit event is older than this. */
  abstract auditOutboxMaxLagSeconds: number;
  /** undefined: keep audit events forever. */
  abstract auditRetentionSeconds?: number;
  /** Revoked and expired token rows are deleted this long after they stopped working. */
  abstract tokenRetentionSeconds: number;
  /** Cron expression of the RetentionPruner; undefined: off. */
  abstract retentionSchedule?: string;
  abstract retentionBatchSize: number;
  abstract scopes: ScopeDefinition[];
  abstract operator: OperatorDefinition;
  abstract clients: ClientDefinition[];
  abstract localUsers: LocalUser[];
  abstract organizations: OrganizationDefinition[];
  /** The sign-in connectors; a `local` one exists whenever there are local users. */
  abstract connectors: ConnectorDefinition[];
  /** How long a state envelope (the round trip to an IdP) may take, at most. */
  abstract ssoStateTtlSeconds: number;
  /** A console session unused this long ends. */
  abstract consoleSessionIdleSeconds: number;
  /** No console session outlives this, counted from its sign-in. */
  abstract consoleSessionAbsoluteSeconds: number;
  /** Where the dev-mode demo client and user came from, for the banner. */
  abstract demo?: { clientId: string; username: string; password: string };
}
