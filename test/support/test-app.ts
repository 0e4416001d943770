import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { Cluster, type Redis } from 'ioredis';
import { stringify } from 'yaml';
import { Clock } from '../../src/common/clock';
import { createMigratedDatabase, type TestDatabase } from './database';
import { hashPasswordSync } from '../../src/common/crypto';
import type { AppConfig } from '../../src/config/app-config';
import { loadConfig } from '../../src/config/load-config';
import { createApp } from '../../src/create-app';
import { createRedisConnection } from '../../src/redis/redis-connection';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A clock specs can move forward; Lua scripts, cookies and expiry all read it. */
export class TestClock extends Clock {
  private offsetMs = 0;

  override now(): number {
    return Date.now() + this.offsetMs;
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export const CLIENTS = {
  cli: 'test-cli',
  confidential: 'test-confidential',
  noDeviceGrant: 'test-no-device-grant',
  disabled: 'test-disabled',
  shortLived: 'test-short-lived',
  auditor: 'test-auditor',
  /** Polls every second, so specs that poll in real time stay short. */
  fast: 'test-fast',
  fastConfidential: 'test-fast-confidential',
  /** A resource server: may introspect (RFC 7662). */
  resourceServer: 'test-resource-server',
  /** Gets refresh tokens with its access tokens; polls every second. */
  refreshing: 'test-refreshing',
  /** May ask for the admin scope. */
  admin: 'test-admin',
} as const;

export const CONFIDENTIAL_SECRET = 'confidential-client-secret-0123456789-abcdef';

export const USERS = {
  alice: { username: 'alice', password: 'alice-password-1', email: 'alice@example.com', name: 'Alice Example' },
  bob: { username: 'bob', password: 'bob-password-2', email: 'bob@example.com', name: 'Bob Example' },
} as const;

export type TestUser = (typeof USERS)[keyof typeof USERS];

let passwordHashes: Record<string, string> | undefined;

/** The config file of a test app, as a plain object a spec may add organizations, connectors and clients to. */
export type TestConfigFile = Record<string, unknown> & { clients: Record<string, unknown>[] };

/** The audit:read scope granted by name (`granted_to`) to these people, as the console's audit pages require. */
export function grantAuditRead(file: TestConfigFile, ...grantees: string[]): void {
  const scopes = file.scopes as { name: string; granted_to?: string[] }[];
  (scopes.find((scope) => scope.name === 'audit:read') as { granted_to?: string[] }).granted_to = grantees;
}

export function configFile(configure?: (file: TestConfigFile) => void): string {
  passwordHashes ??= Object.fromEntries(
    Object.values(USERS).map((user) => [user.username, hashPasswordSync(user.password)]),
  );
  const folder = mkdtempSync(join(tmpdir(), 'devicegate-test-'));
  const path = join(folder, 'devicegate.yaml');
  const file: TestConfigFile = {
    scopes: [
      { name: 'profile', description: 'See your name and email address' },
      { name: 'read', description: 'Read your projects' },
      { name: 'write', description: 'Change your projects' },
      // A bare email: Alice as a local user of no organization (startAcmeApp grants her as a member of acme).
      { name: 'admin', description: 'Administer devicegate', granted_to: [USERS.alice.email] },
      { name: 'audit:read', description: 'Read and export the audit trail' },
    ],
    clients: [
      { client_id: CLIENTS.cli, name: 'Test CLI', type: 'public', scopes: ['profile', 'read', 'write'], default_scopes: ['profile'] },
      {
        client_id: CLIENTS.confidential,
        name: 'Test Confidential',
        type: 'confidential',
        client_secret: CONFIDENTIAL_SECRET,
        scopes: ['profile', 'read'],
      },
      {
        client_id: CLIENTS.noDeviceGrant,
        name: 'No Device Grant',
        type: 'public',
        grant_types: ['refresh_token'],
        scopes: ['profile'],
      },
      { client_id: CLIENTS.auditor, name: 'Audit Reader', type: 'public', scopes: ['audit:read', 'profile'] },
      { client_id: CLIENTS.disabled, name: 'Disabled', type: 'public', scopes: ['profile'], enabled: false },
      {
        client_id: CLIENTS.shortLived,
        name: 'Short Lived',
        type: 'public',
        scopes: ['profile'],
        device_code_ttl: 60,
        poll_interval: 2,
        access_token_ttl: 120,
      },
      { client_id: CLIENTS.fast, name: 'Fast CLI', type: 'public', scopes: ['profile', 'read'], poll_interval: 1 },
      {
        client_id: CLIENTS.fastConfidential,
        name: 'Fast Confidential',
        type: 'confidential',
        client_secret: CONFIDENTIAL_SECRET,
        scopes: ['profile', 'read'],
        poll_interval: 1,
      },
      {
        client_id: CLIENTS.resourceServer,
        name: 'Projects API',
        type: 'confidential',
        client_secret: CONFIDENTIAL_SECRET,
        grant_types: [],
        scopes: [],
        resource_server: true,
      },
      {
        client_id: CLIENTS.refreshing,
        name: 'Refreshing CLI',
        type: 'public',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        scopes: ['profile', 'read'],
        poll_interval: 1,
      },
      { client_id: CLIENTS.admin, name: 'Admin Console', type: 'public', scopes: ['admin', 'profile'], poll_interval: 1 },
    ],
    users: Object.values(USERS).map((user) => ({
      username: user.username,
      email: user.email,
      name: user.name,
      password_hash: passwordHashes?.[user.username],
    })),
  };
  configure?.(file);
  writeFileSync(path, stringify(file));
  return path;
}

/**
 * A port nothing listens on, for a server a test starts a moment later. It is
 * drawn below the kernel's ephemeral range: a port handed out there (to a
 * server listening on port 0, or to an outgoing connection) could be taken
 * again between this pick and its use.
 */
export async function freePort(): Promise<number> {
  const [ephemeralStart] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const lowest = Math.max(1024, ephemeralStart - 12_000);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = lowest + Math.floor(Math.random() * (ephemeralStart - lowest));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port below ${ephemeralStart}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export interface TestApp {
  app: INestApplication;
  baseUrl: string;
  config: AppConfig;
  clock: TestClock;
  /** Every JSON log line the app wrote. */
  logs: string[];
  redisKeyPrefix: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Environment on top of the test defaults (external Postgres and Redis, generous rate limits). */
  env?: Record<string, string | undefined>;
  clock?: TestClock;
  /** The port to listen on (so an IdP can be told the redirect URI first); a free one by default. */
  port?: number;
  /** Adds to the config file: organizations, connectors, organization-scoped clients. */
  configure?: (file: TestConfigFile) => void;
}

/** Boots the whole application on a free port against the run's database and its own Redis key prefix. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const port = options.port ?? (await freePort());
  const redisKeyPrefix = `devicegate-test:${randomUUID()}:`;
  const config = loadConfig({
    NODE_ENV: 'test',
    HTTP_ADAPTER: process.env.HTTP_ADAPTER,
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: process.env.TEST_DATABASE_URL,
    REDIS_URL: REDIS_URL,
    REDIS_KEY_PREFIX: redisKeyPrefix,
    SECRET_KEYS: 'k1:test-signing-key-0123456789-abcdefghijklmnop',
    DEVICEGATE_CONFIG: configFile(options.configure),
    LOG_LEVEL: 'info',
    RATE_LIMIT_DEVICE_CODE_PER_IP: '100000/1m',
    RATE_LIMIT_DEVICE_CODE_PER_CLIENT: '100000/1m',
    RATE_LIMIT_LOOKUP_PER_IP: '100000/1m',
    RATE_LIMIT_LOGIN_PER_IP: '100000/1m',
    RATE_LIMIT_APPROVAL_PER_IP: '100000/1m',
    RATE_LIMIT_FAILED_USER_CODES: '100000/1m',
    // Specs run the sealer and the pruner themselves.
    AUDIT_SEAL_INTERVAL: '0',
    RETENTION_SCHEDULE: 'off',
    ...options.env,
  });
  const clock = options.clock ?? new TestClock();
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const app = await createApp(config, { clock, logDestination });
  await app.listen(port, '127.0.0.1');
  return {
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    config,
    clock,
    logs,
    redisKeyPrefix,
    close: async () => {
      await app.close();
      if (config.redisUrl) await deleteKeys(redisKeyPrefix);
    },
  };
}

/** Runs `run` on the Redis at `url`, or on every master of a Redis Cluster. */
async function onEveryMaster<T>(url: string, run: (node: Redis) => Promise<T>): Promise<T[]> {
  const connection = createRedisConnection(url, '');
  try {
    if (!(connection instanceof Cluster)) return [await run(connection)];
    if (connection.status !== 'ready') await new Promise((resolve) => connection.once('ready', resolve));
    return await Promise.all(connection.nodes('master').map(run));
  } finally {
    connection.disconnect();
  }
}

async function scanKeys(node: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** Every key under `prefix` in the Redis at `url` (every master of a Cluster). */
export async function redisKeys(prefix: string, url = REDIS_URL): Promise<string[]> {
  return (await onEveryMaster(url, (node) => scanKeys(node, prefix))).flat();
}

/** Removes what one test app left in Redis: one DEL per key, since a Cluster node refuses a DEL across slots. */
export async function deleteKeys(prefix: string, url = REDIS_URL): Promise<void> {
  await onEveryMaster(url, async (node) => {
    const pipeline = node.pipeline();
    for (const key of await scanKeys(node, prefix)) pipeline.del(key);
    await pipeline.exec();
  });
}

/**
 * A test app on a database of its own whose local users are members of the
 * organization `acme` (their tokens carry it); `globex` exists too. close()
 * also drops the database.
 */
export async function startAcmeApp(options: TestAppOptions = {}): Promise<TestApp & { database: TestDatabase }> {
  const database = await createMigratedDatabase();
  try {
    const testApp = await startTestApp({
      ...options,
      env: { DATABASE_URL: database.url, ...options.env },
      configure(file) {
        file.organizations = [
          { id: 'acme', name: 'Acme Corp', email_domains: ['example.com'] },
          { id: 'globex', name: 'Globex', email_domains: ['globex.example'] },
        ];
        file.connectors = [{ id: 'local', type: 'local', organization: 'acme', display_name: 'Acme accounts' }];
        for (const scope of file.scopes as { name: string; granted_to?: string[] }[]) {
          if (scope.name === 'admin') scope.granted_to = [`acme:${USERS.alice.email}`];
        }
        options.configure?.(file);
      },
    });
    return {
      ...testApp,
      database,
      close: async () => {
        await testApp.close();
        await database.drop();
      },
    };
  } catch (error) {
    await database.drop();
    throw error;
  }
}
