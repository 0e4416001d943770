import { join } from 'node:path';
import { Client, type ClientConfig } from 'pg';
import { PGliteDriver } from 'typeorm-pglite';
import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { ClientEntity } from '../clients/client.entity';
import { AccessTokenEntity } from '../tokens/access-token.entity';
import { SubjectEntity } from '../tokens/subject.entity';

export const ENTITIES = [ClientEntity, SubjectEntity, AccessTokenEntity];

/** How the app's connections name themselves in pg_stat_activity, so an operator can tell them apart. */
export const APPLICATION_NAME = 'devicegate';

/**
 * A pool connection that always has an error listener. Postgres may end a connection (a failover,
 * pg_terminate_backend) in the instant between the pool handing it out and TypeORM listening to it; without a
 * listener, that 'error' event would end the process. The next query on it fails instead, and is answered 503.
 */
class PooledClient extends Client {
  constructor(config: ClientConfig) {
    super(config);
    this.on('error', () => undefined);
  }
}

export interface DatabaseSettings {
  databaseUrl?: string;
  poolSize?: number;
  /** Embedded mode only: where PGlite keeps its files. */
  dataDir: string;
}

/**
 * Postgres from DATABASE_URL, or PGlite (embedded Postgres in WebAssembly)
 * in a folder of the data directory when there is none. Never synchronize:
 * the schema is what the migrations say.
 */
export function dataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    logging: false,
  };
  if (settings.databaseUrl) {
    return {
      ...common,
      url: settings.databaseUrl,
      applicationName: APPLICATION_NAME,
      poolSize: settings.poolSize ?? 10,
      connectTimeoutMS: 5000,
      extra: { Client: PooledClient, connectionTimeoutMillis: 5000, statement_timeout: 10_000 },
    };
  }
  return { ...common, driver: new PGliteDriver({ dataDir: join(settings.dataDir, 'pgdata') }).driver };
}
