import { Client } from 'pg';
import { MIGRATIONS } from '../../migrations';
import type { AppConfig } from '../config/app-config';
import { createRedisConnection } from '../redis/redis-connection';
import { describePostgresError, describeRedisError, StartupError } from './startup-error';

const TIMEOUT_MS = 5000;

/** The migrations this build knows, by the name TypeORM records in schema_migrations. */
export function knownMigrationNames(): string[] {
  return MIGRATIONS.map((Migration) => new Migration().name ?? Migration.name);
}

function timeout(ms: number): { promise: Promise<never>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'TIMEOUT' })), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/**
 * Before Nest builds anything, one connection to Postgres and one PING to
 * Redis, each tried once: the first failure is thrown as a StartupError in
 * one sentence, instead of retries and a stack trace that hide the cause.
 * Runs plain pg and ioredis because the TypeORM DataSource and the Redis
 * stores only exist once the whole application is built.
 */
export async function checkDependencies(config: AppConfig): Promise<void> {
  if (config.mode === 'embedded') return;
  if (config.databaseUrl) await checkPostgres(config.databaseUrl, config.migrateOnBoot);
  if (config.redisUrl) await checkRedis(config.redisUrl);
}

/** Connects, and unless migrations run at boot, refuses a schema that lacks a migration of this build. */
export async function checkPostgres(url: string, migrateOnBoot: boolean): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS });
  client.on('error', () => undefined);
  const limit = timeout(TIMEOUT_MS + 500);
  try {
    await Promise.race([client.connect(), limit.promise]);
  } catch (error) {
    void client.end().catch(() => undefined);
    throw new StartupError(describePostgresError(error, url));
  } finally {
    limit.cancel();
  }
  try {
    if (migrateOnBoot) return;
    const pending = await pendingMigrations(client);
    if (pending.length > 0) {
      const database = (client as unknown as { database?: string }).database ?? 'the database';
      throw new StartupError(
        `The database "${database}" lacks ${pending.length} of ${MIGRATIONS.length} migrations (first missing: ${pending[0]}): ` +
          'run "npm run migrate" (in the container image: node dist/src/cli/migrate.js) with the same DATABASE_URL, or set MIGRATE_ON_BOOT=true.',
      );
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function pendingMigrations(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ table: string | null }>("SELECT to_regclass('schema_migrations')::text AS table");
  const applied = new Set<string>();
  if (rows[0]?.table) {
    const result = await client.query<{ name: string }>('SELECT name FROM schema_migrations');
    for (const row of result.rows) applied.add(row.name);
  }
  return knownMigrationNames().filter((name) => !applied.has(name));
}

/** One PING on a connection of its own that never retries. */
export async function checkRedis(url: string): Promise<void> {
  const redis = createRedisConnection(url, '', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    connectTimeout: TIMEOUT_MS,
  });
  let firstError: unknown;
  redis.on('error', (error: unknown) => (firstError ??= error));
  const limit = timeout(TIMEOUT_MS + 500);
  try {
    await Promise.race([redis.connect().then(() => redis.ping()), limit.promise]);
  } catch (error) {
    throw new StartupError(describeRedisError(firstError ?? error, url));
  } finally {
    limit.cancel();
    redis.disconnect();
  }
}
