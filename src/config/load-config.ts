import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { randomBytes, X509Certificate } from 'node:crypto';
import { validateCronExpression } from 'cron';
import { parse as parseYaml } from 'yaml';
import { hashPasswordSync, sha256Hex } from '../common/crypto';
import {
  type AppConfig,
  type ClientDefinition,
  type ConnectorDefinition,
  DEVICE_CODE_GRANT,
  type LocalUser,
  type OperatorDefinition,
  REFRESH_TOKEN_GRANT,
  type OrganizationDefinition,
  type ScopeDefinition,
  type ScopeGrantee,
  type SecretKey,
} from './app-config';
import { type ClientEntry, ConfigFile, type ConnectorEntry, type OperatorEntry, type OrganizationEntry } from './config-file.dto';
import { describeValidationErrors } from './config-validation';
import { parseDuration, parseRateLimit, type RateLimit } from './durations';
import { EnvironmentVariables } from './environment.dto';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`devicegate cannot start; fix the configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

export type Environment = Record<string, string | undefined>;

/**
 * Words people write where a client secret goes. A secret is refused when one
 * of them stands as a whole word (between non-letters, all lower or all upper
 * case): one random base64 secret in about two million has such a word by
 * chance, where a search for the letters anywhere refused one in 640.
 */
const PLACEHOLDER_WORDS = new Set(['change', 'changeme', 'example', 'placeholder', 'secret', 'password', 'dummy', 'todo', 'xxxx', 'replace', 'default']);
const MIN_SECRET_LENGTH = 32;
/**
 * What the README, devicegate.example.yaml, docker-compose.yml and the
 * Dockerfile show where a SECRET_KEYS secret goes, as it arrives when copied
 * somewhere no shell expands it. A key is compared with these, never searched
 * for words: about 0.2 % of keys from `openssl rand -base64 48` contain one
 * ("xxx", "todo", ...) by chance.
 */
export const SHIPPED_KEY_PLACEHOLDERS = ['$(openssl rand -base64 48)'];

/** A shipped placeholder, or a value with too few distinct characters to be random. */
function looksUnrandom(secret: string, shipped: readonly string[]): boolean {
  return shipped.some((placeholder) => secret.includes(placeholder)) || new Set(secret).size < 10;
}

function looksLikePlaceholderClientSecret(secret: string): boolean {
  const words = secret.split(/[^a-z]+/i).filter((word) => word === word.toLowerCase() || word === word.toUpperCase());
  return looksUnrandom(secret, []) || words.some((word) => PLACEHOLDER_WORDS.has(word.toLowerCase()));
}
/** The port registered for Prometheus exporters of OpenTelemetry; production serves metrics there unless METRICS_PORT says otherwise. */
export const DEFAULT_METRICS_PORT = 9464;

export const DEMO = {
  clientId: 'devicegate-demo-cli',
  /** The devicegate CLI's default client id; in dev mode it also gets refresh tokens. */
  cliClientId: 'devicegate-cli',
  username: 'demo',
  password: 'demo-password',
  scopes: [
    { name: 'profile', description: 'See your name and email address' },
    { name: 'read', description: 'Read your data' },
    { name: 'write', description: 'Change your data' },
  ],
};

/**
 * Reads the environment and the optional config file once, and either
 * returns a complete, typed configuration or throws one ConfigError that
 * lists every problem.
 */
export function loadConfig(environment: Environment = process.env): AppConfig {
  const env = Object.fromEntries(
    Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''),
  ) as Record<string, string>;
  const problems: string[] = [];

  const envDto = plainToInstance(EnvironmentVariables, env);
  problems.push(...describeValidationErrors(validateSync(envDto, { forbidUnknownValues: false })));

  const nodeEnv = (env.NODE_ENV ?? 'development') as AppConfig['env'];
  const production = nodeEnv === 'production';
  const mode: AppConfig['mode'] = !env.DATABASE_URL && !env.REDIS_URL ? 'embedded' : 'external';
  if (mode === 'external' && (!env.DATABASE_URL || !env.REDIS_URL)) {
    problems.push('set both DATABASE_URL and REDIS_URL, or neither (embedded dev mode)');
  }
  if (production && mode === 'embedded') {
    problems.push('NODE_ENV=production needs DATABASE_URL and REDIS_URL; the embedded mode is for development only');
  }

  const port = Number(env.PORT ?? 3000);
  if (port < 1 || port > 65535) problems.push('PORT must be between 1 and 65535');
  const metricsPort = env.METRICS_PORT ? Number(env.METRICS_PORT) : production ? DEFAULT_METRICS_PORT : undefined;
  if (metricsPort !== undefined && (metricsPort < 1 || metricsPort > 65535)) problems.push('METRICS_PORT must be between 1 and 65535');
  if (metricsPort === port) problems.push('METRICS_PORT must differ from PORT: metrics stay off the public port');
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
  if (production && !env.PUBLIC_URL) problems.push('PUBLIC_URL is required in production');
  if (production && publicUrl.startsWith('http://') && !/^http:\/\/(localhost|127\.0\.0\.1)(:|$)/.test(publicUrl)) {
    problems.push('PUBLIC_URL must be https in production (the approval cookie is Secure only over https)');
  }

  const dataDir = resolvePath(env.DATA_DIR ?? '.devicegate');
  const secretKeys = readSecretKeys(env.SECRET_KEYS, { production, mode, dataDir, problems });

  const durations = {
    deviceCodeTtlSeconds: seconds(env.DEVICE_CODE_TTL, 600),
    pollIntervalSeconds: seconds(env.POLL_INTERVAL, 5),
    accessTokenTtlSeconds: seconds(env.ACCESS_TOKEN_TTL, 30 * 86400),
    approvalGrantTtlSeconds: seconds(env.APPROVAL_GRANT_TTL, 300),
    ssoStateTtlSeconds: seconds(env.SSO_STATE_TTL, 600),
    consoleSessionIdleSeconds: seconds(env.CONSOLE_SESSION_IDLE_TTL, 15 * 60),
    consoleSessionAbsoluteSeconds: seconds(env.CONSOLE_SESSION_ABSOLUTE_TTL, 8 * 3600),
    refreshTokenIdleTtlSeconds: seconds(env.REFRESH_TOKEN_IDLE_TTL, 14 * 86400),
    refreshTokenAbsoluteTtlSeconds: seconds(env.REFRESH_TOKEN_ABSOLUTE_TTL, 90 * 86400),
    tokenCacheTtlSeconds: seconds(env.TOKEN_CACHE_TTL, 5),
    tokenSharedCacheTtlSeconds: seconds(env.TOKEN_SHARED_CACHE_TTL, 60),
    lastUsedFlushSeconds: seconds(env.LAST_USED_FLUSH_INTERVAL, 30),
  };
  if (durations.deviceCodeTtlSeconds < 60 || durations.deviceCodeTtlSeconds > 3600) {
    problems.push('DEVICE_CODE_TTL must be between 1m and 1h');
  }
  if (durations.pollIntervalSeconds < 1 || durations.pollIntervalSeconds > 60) {
    problems.push('POLL_INTERVAL must be between 1s and 60s');
  }
  if (durations.accessTokenTtlSeconds < 60) problems.push('ACCESS_TOKEN_TTL must be at least 1m');
  if (durations.approvalGrantTtlSeconds < 30 || durations.approvalGrantTtlSeconds > 300) {
    problems.push('APPROVAL_GRANT_TTL must be between 30s and 5m');
  }
  if (durations.ssoStateTtlSeconds < 60 || durations.ssoStateTtlSeconds > 1800) {
    problems.push('SSO_STATE_TTL must be between 1m and 30m');
  }
  if (durations.consoleSessionIdleSeconds < 60 || durations.consoleSessionIdleSeconds > 3600) {
    problems.push('CONSOLE_SESSION_IDLE_TTL must be between 1m and 1h');
  }
  if (durations.consoleSessionAbsoluteSeconds < durations.consoleSessionIdleSeconds || durations.consoleSessionAbsoluteSeconds > 86400) {
    problems.push('CONSOLE_SESSION_ABSOLUTE_TTL must be at least CONSOLE_SESSION_IDLE_TTL and at most 24h');
  }
  if (durations.refreshTokenIdleTtlSeconds < 60 || durations.refreshTokenIdleTtlSeconds > durations.refreshTokenAbsoluteTtlSeconds) {
    problems.push('REFRESH_TOKEN_IDLE_TTL must be at least 1m and not longer than REFRESH_TOKEN_ABSOLUTE_TTL');
  }
  if (durations.tokenCacheTtlSeconds > 60) problems.push('TOKEN_CACHE_TTL must be at most 1m (it bounds how late a revocation may apply)');
  if (durations.lastUsedFlushSeconds < 1) problems.push('LAST_USED_FLUSH_INTERVAL must be at least 1s');

  const file = env.DEVICEGATE_CONFIG ? readConfigFile(env.DEVICEGATE_CONFIG, env, problems) : new ConfigFile();
  const scopes: ScopeDefinition[] = (file.scopes ?? []).map((scope) => ({
    name: scope.name,
    description: scope.description,
    ...(scope.granted_to ? { grantedTo: scope.granted_to.map((entry) => toGrantee(entry, scope.name, problems)) } : {}),
    sensitive: scope.sensitive ?? changesThings(scope.name),
  }));
  const operator = toOperator(file.operator, env.DEVICEGATE_CONFIG, problems);
  const clients = (file.clients ?? []).map((entry, index) => toClient(entry, index, production, problems));
  const organizations = (file.organizations ?? []).map(toOrganization);
  const localUsers: LocalUser[] = (file.users ?? []).map((user) => ({
    username: user.username,
    email: user.email.toLowerCase(),
    name: user.name ?? user.username,
    passwordHash: user.password_hash,
  }));

  let demo: AppConfig['demo'];
  if (mode === 'embedded') {
    demo = { clientId: DEMO.clientId, username: DEMO.username, password: DEMO.password };
    for (const scope of DEMO.scopes) {
      if (!scopes.some((known) => known.name === scope.name)) scopes.push({ ...scope, sensitive: changesThings(scope.name) });
    }
    if (!clients.some((client) => client.clientId === DEMO.clientId)) clients.push(demoClient());
    if (!clients.some((client) => client.clientId === DEMO.cliClientId)) clients.push(demoCliClient());
    if (!localUsers.some((user) => user.username === DEMO.username)) localUsers.push(demoUser());
  }

  const retentionSchedule = /^off$/i.test(env.RETENTION_SCHEDULE ?? '') ? undefined : (env.RETENTION_SCHEDULE ?? '17 * * * *');
  const cron = retentionSchedule ? validateCronExpression(retentionSchedule) : { valid: true };
  if (!cron.valid) problems.push(`RETENTION_SCHEDULE "${retentionSchedule}" is not a valid cron expression: ${cron.error?.message}`);

  const connectors = (file.connectors ?? [])
    .map((entry) => toConnector(entry, { publicUrl, production, problems }))
    .filter((connector): connector is ConnectorDefinition => connector !== undefined);
  if (localUsers.length > 0 && !connectors.some((connector) => connector.type === 'local')) {
    connectors.push({ id: 'local', type: 'local', displayName: 'Local accounts' });
  }

  checkCatalog(scopes, clients, localUsers, problems);
  checkDirectory({ organizations, connectors, clients, localUsers, scopes }, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const host = env.HOST ?? (mode === 'embedded' ? '127.0.0.1' : '0.0.0.0');
  return {
    env: nodeEnv,
    mode,
    host,
    port,
    metricsPort,
    metricsHost: env.METRICS_HOST ?? host,
    docsEnabled: env.DOCS_ENABLED === undefined ? !production : /^(true|1)$/i.test(env.DOCS_ENABLED),
    publicUrl,
    httpAdapter: env.HTTP_ADAPTER === 'fastify' ? 'fastify' : 'express',
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    databaseUrl: env.DATABASE_URL,
    databasePoolSize: Number(env.DATABASE_POOL_SIZE ?? 10),
    redisUrl: env.REDIS_URL,
    redisKeyPrefix: env.REDIS_KEY_PREFIX ?? 'devicegate:',
    dataDir,
    migrateOnBoot: mode === 'embedded' || /^(true|1)$/i.test(env.MIGRATE_ON_BOOT ?? ''),
    secretKeys,
    logLevel: env.LOG_LEVEL ?? 'info',
    ...durations,
    rateLimits: {
      deviceCodePerIp: rate(env.RATE_LIMIT_DEVICE_CODE_PER_IP, '20/1m'),
      deviceCodePerClient: rate(env.RATE_LIMIT_DEVICE_CODE_PER_CLIENT, '600/1m'),
      lookupPerIp: rate(env.RATE_LIMIT_LOOKUP_PER_IP, '30/1m'),
      loginPerIp: rate(env.RATE_LIMIT_LOGIN_PER_IP, '10/1m'),
      approvalPerIp: rate(env.RATE_LIMIT_APPROVAL_PER_IP, '30/1m'),
      failedUserCodes: rate(env.RATE_LIMIT_FAILED_USER_CODES, '500/10m'),
    },
    auditSealIntervalSeconds: seconds(env.AUDIT_SEAL_INTERVAL, 10),
    auditSealLagSeconds: seconds(env.AUDIT_SEAL_LAG, 30),
    auditOutboxDrainIntervalSeconds: seconds(env.AUDIT_OUTBOX_DRAIN_INTERVAL, 1),
    auditOutboxMaxLagSeconds: seconds(env.AUDIT_OUTBOX_MAX_LAG, 30),
    auditRetentionSeconds: !env.AUDIT_RETENTION || /^keep$/i.test(env.AUDIT_RETENTION) ? undefined : parseDuration(env.AUDIT_RETENTION),
    tokenRetentionSeconds: seconds(env.TOKEN_RETENTION, 90 * 86400),
    retentionSchedule,
    retentionBatchSize: Math.max(1, Number(env.RETENTION_BATCH_SIZE ?? 1000)),
    scopes,
    operator,
    clients,
    localUsers,
    organizations,
    connectors,
    demo,
  };
}

function seconds(text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : (parseDuration(text) ?? fallback);
}

function rate(text: string | undefined, fallback: string): RateLimit {
  return parseRateLimit(text ?? fallback) ?? (parseRateLimit(fallback) as RateLimit);
}

function resolvePath(path: string): string {
  return isAbsolute(path) ? path : resolve(process.cwd(), path);
}

function parseTrustProxy(text: string | undefined): AppConfig['trustProxy'] {
  const value = (text ?? 'false').trim().toLowerCase();
  if (value === 'false' || value === '') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((part) => part.trim()).filter(Boolean);
}

function readSecretKeys(
  text: string | undefined,
  context: { production: boolean; mode: AppConfig['mode']; dataDir: string; problems: string[] },
): SecretKey[] {
  if (!text && context.mode === 'embedded' && !context.production) {
    return readSecretKeys(devSecretKeys(context.dataDir), context);
  }
  if (!text) {
    context.problems.push('SECRET_KEYS is required (comma-separated id:secret pairs, the first one signs)');
    return [];
  }
  const keys: SecretKey[] = [];
  for (const [index, pair] of text.split(',').entries()) {
    const separator = pair.indexOf(':');
    const id = pair.slice(0, separator).trim();
    const secret = pair.slice(separator + 1).trim();
    if (separator < 1 || !/^[\w.-]{1,32}$/.test(id)) {
      context.problems.push(`SECRET_KEYS entry ${index + 1} must look like <id>:<secret> with a short id`);
      continue;
    }
    if (context.production && looksUnrandom(secret, SHIPPED_KEY_PLACEHOLDERS)) {
      context.problems.push(`SECRET_KEYS key "${id}" looks like a placeholder; generate one with: openssl rand -base64 48`);
    } else if (secret.length < MIN_SECRET_LENGTH) {
      context.problems.push(`SECRET_KEYS key "${id}" is shorter than ${MIN_SECRET_LENGTH} characters`);
    }
    if (keys.some((key) => key.id === id)) context.problems.push(`SECRET_KEYS has key id "${id}" twice`);
    keys.push({ id, secret: Buffer.from(secret, 'utf8') });
  }
  return keys;
}

/** Dev mode keeps one generated key in its data folder so cookies survive a restart. */
function devSecretKeys(dataDir: string): string {
  const path = join(dataDir, 'secret-keys');
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(path, `dev1:${randomBytes(48).toString('base64url')}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
  }
  return readFileSync(path, 'utf8').trim();
}

function readConfigFile(path: string, env: Record<string, string>, problems: string[]): ConfigFile {
  let raw: unknown;
  try {
    const text = readFileSync(resolvePath(path), 'utf8');
    raw = interpolate(parseYaml(text), env, problems);
  } catch (error) {
    problems.push(`DEVICEGATE_CONFIG (${path}) cannot be read: ${(error as Error).message}`);
    return new ConfigFile();
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`DEVICEGATE_CONFIG (${path}) must hold a mapping with scopes, clients and users`);
    return new ConfigFile();
  }
  const file = plainToInstance(ConfigFile, raw);
  const fileProblems = describeValidationErrors(validateSync(file, { whitelist: true, forbidNonWhitelisted: true }));
  problems.push(...fileProblems.map((line) => `config file ${line}`));
  // The checks that follow read the entries; a wrongly shaped file would make them throw instead of report.
  return fileProblems.length > 0 ? new ConfigFile() : file;
}

/** `${NAME}` in a value of the config file is replaced by the environment variable NAME, so secrets stay out of the file. */
function interpolate(value: unknown, env: Record<string, string>, problems: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_match, name: string) => {
      if (env[name] === undefined) {
        problems.push(`config file refers to \${${name}}, which is not set`);
        return '';
      }
      return env[name];
    });
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, env, problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item, env, problems)]));
  }
  return value;
}

/** `write` and `admin`, alone or as a part of a name (`projects:write`, `admin.users`), change things. */
function changesThings(scope: string): boolean {
  return scope.split(/[:./]/).some((part) => part === 'write' || part === 'admin');
}

const LOGO_TYPES: Record<string, string> = {
  png: 'image/png',
  svg: 'image/svg+xml',
  webp: 'image/webp',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  ico: 'image/x-icon',
};
const MAX_LOGO_BYTES = 256 * 1024;

/** The operator's name, logo and support contact; a `logo_file` is read now (relative to the config file), once. */
function toOperator(entry: OperatorEntry | undefined, configPath: string | undefined, problems: string[]): OperatorDefinition {
  if (!entry) return {};
  const operator: OperatorDefinition = { name: entry.name?.trim() || undefined, supportEmail: entry.support_email, supportUrl: entry.support_url };
  if (entry.logo_url && entry.logo_file) problems.push('config file operator: give logo_url or logo_file, not both');
  if (entry.logo_url) operator.logo = { url: entry.logo_url };
  if (entry.logo_file) {
    const path = isAbsolute(entry.logo_file) ? entry.logo_file : resolve(dirname(resolvePath(configPath ?? '.')), entry.logo_file);
    const contentType = LOGO_TYPES[extname(path).slice(1).toLowerCase()];
    if (!contentType) {
      problems.push(`config file operator: logo_file must be a ${Object.keys(LOGO_TYPES).join(', ')} file`);
    } else {
      try {
        const file = readFileSync(path);
        if (file.length > MAX_LOGO_BYTES) problems.push(`config file operator: logo_file is larger than ${MAX_LOGO_BYTES / 1024} KB`);
        else operator.logo = { file, contentType };
      } catch (error) {
        problems.push(`config file operator: logo_file (${path}) cannot be read: ${(error as Error).message}`);
      }
    }
  }
  return operator;
}

function toClient(entry: ClientEntry, index: number, production: boolean, problems: string[]): ClientDefinition {
  return clientFromEntry(entry, `config file clients[${index}] (${entry.client_id})`, production, problems);
}

/** A client definition from a validated entry (of the config file, or of the admin API); problems are added to `problems`. */
export function clientFromEntry(entry: ClientEntry, where: string, production: boolean, problems: string[]): ClientDefinition {
  let secretHash = entry.client_secret_sha256;
  if (entry.client_secret !== undefined) {
    if (secretHash) problems.push(`${where}: give client_secret or client_secret_sha256, not both`);
    if (entry.client_secret.length < MIN_SECRET_LENGTH) {
      problems.push(`${where}: client_secret must be at least ${MIN_SECRET_LENGTH} characters`);
    } else if (production && looksLikePlaceholderClientSecret(entry.client_secret)) {
      problems.push(`${where}: client_secret looks like a placeholder`);
    }
    secretHash = sha256Hex(entry.client_secret);
  }
  if (entry.type === 'confidential' && !secretHash) problems.push(`${where}: a confidential client needs a secret`);
  if (entry.type === 'public' && secretHash) problems.push(`${where}: a public client must not have a secret`);
  if (entry.resource_server && entry.type !== 'confidential') problems.push(`${where}: a resource server must be a confidential client`);
  return {
    clientId: entry.client_id,
    name: entry.name,
    type: entry.type,
    secretHash,
    grantTypes: entry.grant_types ?? [DEVICE_CODE_GRANT],
    allowedScopes: entry.scopes ?? [],
    defaultScopes: entry.default_scopes ?? entry.scopes ?? [],
    deviceCodeTtlSeconds: entry.device_code_ttl,
    pollIntervalSeconds: entry.poll_interval,
    accessTokenTtlSeconds: entry.access_token_ttl,
    enabled: entry.enabled ?? true,
    organizationId: entry.organization,
    resourceServer: entry.resource_server,
    refreshTokenIdleTtlSeconds: entry.refresh_token_idle_ttl,
    refreshTokenAbsoluteTtlSeconds: entry.refresh_token_absolute_ttl,
  };
}

const SUBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL = /^[^\s@:]+@[^\s@:]+$/;
const ORGANIZATION_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** A `granted_to` entry: `subject:<id>`, `<organization>:<email>`, or a bare email (a person of no organization). */
function toGrantee(entry: string, scope: string, problems: string[]): ScopeGrantee {
  const text = entry.trim();
  const separator = text.indexOf(':');
  const [prefix, rest] = separator < 0 ? [undefined, text] : [text.slice(0, separator), text.slice(separator + 1)];
  if (prefix === 'subject') {
    if (!SUBJECT_ID.test(rest)) problems.push(`scope "${scope}": granted_to "${entry}" must name a subject id (a UUID) after subject:`);
    return { subjectId: rest.toLowerCase() };
  }
  if ((prefix !== undefined && !ORGANIZATION_ID.test(prefix)) || !EMAIL.test(rest)) {
    problems.push(`scope "${scope}": granted_to "${entry}" must be <organization>:<email>, subject:<subject id> or <email>`);
  }
  return { organizationId: prefix ?? null, email: rest.toLowerCase() };
}

function toOrganization(entry: OrganizationEntry): OrganizationDefinition {
  return {
    id: entry.id,
    slug: entry.slug ?? entry.id,
    name: entry.name,
    emailDomains: entry.email_domains ?? [],
    emailDomainsDeclared: entry.email_domains !== undefined,
  };
}

function toConnector(
  entry: ConnectorEntry,
  context: { publicUrl: string; production: boolean; problems: string[] },
): ConnectorDefinition | undefined {
  const where = `config file connector "${entry.id}"`;
  const base = {
    id: entry.id,
    displayName: entry.display_name,
    organizationId: entry.organization,
    ...(entry.email_domains ? { emailDomains: entry.email_domains } : {}),
  };
  const settingsOf = { saml: entry.saml, oidc: entry.oidc, ldap: entry.ldap };
  for (const [type, settings] of Object.entries(settingsOf)) {
    if (settings && type !== entry.type) context.problems.push(`${where}: a ${entry.type} connector takes no "${type}" settings`);
  }
  if (entry.type !== 'local' && !settingsOf[entry.type]) {
    context.problems.push(`${where}: a ${entry.type} connector needs its "${entry.type}" settings`);
    return undefined;
  }
  if (entry.type !== 'local' && !entry.organization) {
    context.problems.push(`${where}: a ${entry.type} connector must belong to an organization`);
  }
  if (entry.type === 'saml' && entry.saml) {
    const saml = entry.saml;
    return {
      ...base,
      type: 'saml',
      saml: {
        entryPoint: saml.entry_point,
        idpIssuer: saml.idp_issuer,
        idpCerts: saml.idp_certs.map((text, index) => toCertificate(text, `${where}: idp_certs[${index}]`, context.problems)),
        spEntityId: saml.sp_entity_id ?? `${context.publicUrl}/oauth/device/sso/saml/${entry.id}/metadata`,
        wantResponseSigned: saml.want_response_signed ?? true,
        allowSha1: saml.allow_sha1 ?? false,
        clockSkewMs: (parseDuration(saml.clock_skew ?? '0') ?? 0) * 1000,
        emailAttribute: saml.email_attribute,
        nameAttribute: saml.name_attribute,
      },
    };
  }
  if (entry.type === 'oidc' && entry.oidc) {
    const oidc = entry.oidc;
    const allowInsecureHttp = oidc.allow_insecure_http ?? false;
    if (context.production && allowInsecureHttp) context.problems.push(`${where}: allow_insecure_http is refused in production`);
    if (oidc.allow_hmac_id_tokens && !oidc.client_secret) {
      context.problems.push(`${where}: allow_hmac_id_tokens needs the client_secret the id_tokens are signed with`);
    }
    if (oidc.issuer.startsWith('http://') && !allowInsecureHttp) {
      context.problems.push(`${where}: the issuer must be https (allow_insecure_http is for a local IdP in development)`);
    }
    return {
      ...base,
      type: 'oidc',
      oidc: {
        issuer: oidc.issuer.replace(/\/+$/, ''),
        clientId: oidc.client_id,
        clientSecret: oidc.client_secret,
        scopes: oidc.scopes ?? ['openid', 'email', 'profile'],
        emailClaim: oidc.email_claim ?? 'email',
        nameClaim: oidc.name_claim ?? 'name',
        requireVerifiedEmail: oidc.require_verified_email ?? true,
        allowInsecureHttp,
        allowHmacIdTokens: oidc.allow_hmac_id_tokens ?? false,
      },
    };
  }
  if (entry.type === 'ldap' && entry.ldap) {
    const ldap = entry.ldap;
    if (ldap.url.startsWith('ldap://') && context.production) {
      context.problems.push(`${where}: the url must be ldaps:// in production (passwords cross it)`);
    }
    return {
      ...base,
      type: 'ldap',
      ldap: {
        url: ldap.url.replace(/\/+$/, ''),
        bindDn: ldap.bind_dn,
        bindPassword: ldap.bind_password,
        searchBase: ldap.search_base,
        searchFilter: ldap.search_filter ?? '(uid={{username}})',
        emailAttribute: ldap.email_attribute ?? 'mail',
        nameAttribute: ldap.name_attribute ?? 'cn',
        idAttribute: ldap.id_attribute ?? 'entryUUID',
        caCerts: (ldap.ca_certs ?? []).map((text, index) => toCertificate(text, `${where}: ca_certs[${index}]`, context.problems)),
        timeoutMs: (parseDuration(ldap.timeout ?? '5s') ?? 5) * 1000,
      },
    };
  }
  return { ...base, type: 'local' };
}

/** A PEM certificate from PEM or bare base64 text; a problem when it does not parse. */
function toCertificate(text: string, where: string, problems: string[]): string {
  const body = text.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----\n`;
  try {
    new X509Certificate(pem);
  } catch {
    problems.push(`${where} is not an X.509 certificate (PEM or base64)`);
  }
  return pem;
}

function checkCatalog(scopes: ScopeDefinition[], clients: ClientDefinition[], users: LocalUser[], problems: string[]) {
  const known = new Set<string>();
  for (const scope of scopes) {
    if (known.has(scope.name)) problems.push(`config file declares scope "${scope.name}" twice`);
    known.add(scope.name);
  }
  const clientIds = new Set<string>();
  for (const client of clients) {
    if (clientIds.has(client.clientId)) problems.push(`config file declares client "${client.clientId}" twice`);
    clientIds.add(client.clientId);
    for (const scope of client.allowedScopes) {
      if (!known.has(scope)) problems.push(`client "${client.clientId}" allows scope "${scope}", which the scope catalog does not declare`);
    }
    for (const scope of client.defaultScopes) {
      if (!client.allowedScopes.includes(scope)) {
        problems.push(`client "${client.clientId}" has default scope "${scope}" outside its allowed scopes`);
      }
    }
  }
  const usernames = new Set<string>();
  for (const user of users) {
    if (usernames.has(user.username)) problems.push(`config file declares user "${user.username}" twice`);
    usernames.add(user.username);
  }
}

function checkDirectory(
  directory: {
    organizations: OrganizationDefinition[];
    connectors: ConnectorDefinition[];
    clients: ClientDefinition[];
    localUsers: LocalUser[];
    scopes: ScopeDefinition[];
  },
  problems: string[],
) {
  const organizationIds = new Set<string>();
  const slugs = new Set<string>();
  const domains = new Map<string, string>();
  for (const organization of directory.organizations) {
    if (organizationIds.has(organization.id)) problems.push(`config file declares organization "${organization.id}" twice`);
    if (slugs.has(organization.slug)) problems.push(`config file has two organizations with the slug "${organization.slug}"`);
    organizationIds.add(organization.id);
    slugs.add(organization.slug);
    for (const domain of organization.emailDomains) {
      const owner = domains.get(domain);
      if (owner && owner !== organization.id) problems.push(`email domain "${domain}" belongs to both "${owner}" and "${organization.id}"`);
      domains.set(domain, organization.id);
    }
  }
  const connectorIds = new Set<string>();
  for (const connector of directory.connectors) {
    if (connectorIds.has(connector.id)) problems.push(`config file declares connector "${connector.id}" twice`);
    connectorIds.add(connector.id);
    if (connector.organizationId && !organizationIds.has(connector.organizationId)) {
      problems.push(`connector "${connector.id}" belongs to organization "${connector.organizationId}", which is not declared`);
    }
  }
  bindConnectorsToDomains(directory, problems);
  const localConnectors = directory.connectors.filter((connector) => connector.type === 'local');
  if (localConnectors.length > 1) problems.push('config file declares more than one local connector');
  if (localConnectors.length > 0 && directory.localUsers.length === 0) {
    problems.push(`connector "${localConnectors[0].id}" is local but the config file declares no users`);
  }
  for (const scope of directory.scopes) {
    for (const grantee of scope.grantedTo ?? []) {
      if ('organizationId' in grantee && grantee.organizationId !== null && !organizationIds.has(grantee.organizationId)) {
        problems.push(`scope "${scope.name}" is granted to someone of organization "${grantee.organizationId}", which is not declared`);
      }
    }
  }
  for (const client of directory.clients) {
    if (client.organizationId && !organizationIds.has(client.organizationId)) {
      problems.push(`client "${client.clientId}" belongs to organization "${client.organizationId}", which is not declared`);
    }
  }
}

/**
 * Each connector of an organization gets the domains its identities must be
 * in: its own email_domains, else its organization's. Neither written is a
 * mistake, not "any": [] says that. Local users must fit their connector.
 */
function bindConnectorsToDomains(
  directory: { organizations: OrganizationDefinition[]; connectors: ConnectorDefinition[]; localUsers: LocalUser[] },
  problems: string[],
) {
  for (const connector of directory.connectors) {
    const organization = directory.organizations.find((candidate) => candidate.id === connector.organizationId);
    if (!organization || connector.emailDomains) continue;
    if (!organization.emailDomainsDeclared) {
      problems.push(
        `connector "${connector.id}" cannot bind identities to organization "${organization.id}": give the organization (or the connector) email_domains, or write email_domains: [] to accept any address`,
      );
      continue;
    }
    connector.emailDomains = organization.emailDomains;
  }
  const local = directory.connectors.find((connector) => connector.type === 'local');
  for (const user of directory.localUsers) {
    if (local?.emailDomains?.length && !local.emailDomains.includes(emailDomain(user.email))) {
      problems.push(`user "${user.username}" has an email outside the email_domains of connector "${local.id}"`);
    }
  }
}

function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

function demoClient(): ClientDefinition {
  return {
    clientId: DEMO.clientId,
    name: 'devicegate demo CLI',
    type: 'public',
    grantTypes: [DEVICE_CODE_GRANT],
    allowedScopes: DEMO.scopes.map((scope) => scope.name),
    defaultScopes: ['profile', 'read'],
    enabled: true,
  };
}

function demoCliClient(): ClientDefinition {
  return { ...demoClient(), clientId: DEMO.cliClientId, name: 'devicegate CLI', grantTypes: [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT] };
}

function demoUser(): LocalUser {
  return {
    username: DEMO.username,
    email: 'demo@devicegate.local',
    name: 'Demo User',
    passwordHash: hashPasswordSync(DEMO.password),
  };
}
