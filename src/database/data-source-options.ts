import { join } from 'node:path';
import { PGliteDriver } from 'typeorm-pglite';
import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { ClientEntity } from '../clients/client.entity';
import { AccessTokenEntity } from '../tokens/access-token.entity';
import { SubjectEntity } from '../tokens/subject.entity';

export const ENTITIES = [ClientEntity, SubjectEntity, AccessTokenEntity];

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
      poolSize: settings.poolSize ?? 10,
      connectTimeoutMS: 5000,
      extra: { connectionTimeoutMillis: 5000, statement_timeout: 10_000 },
    };
  }
  return { ...common, driver: new PGliteDriver({ dataDir: join(settings.dataDir, 'pgdata') }).driver };
}
