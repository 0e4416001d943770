import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { migrateExclusively } from '../../src/database/migrate';

export const ADMIN_DATABASE_URL = process.env.TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function query<T>(connectionString: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Runs one query against the run's database (TEST_DATABASE_URL) on its own connection. */
export async function queryDatabase<T = Record<string, any>>(sql: string, params: unknown[] = []): Promise<T[]> {
  return query<T>(process.env.TEST_DATABASE_URL as string, sql, params);
}

export interface TestDatabase {
  name: string;
  url: string;
  query<T = Record<string, any>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** A fresh, empty database of its own (no schema). */
export async function createEmptyDatabase(name = `devicegate_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`): Promise<TestDatabase> {
  await query(ADMIN_DATABASE_URL, `CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    query: (sql, params) => query(url.toString(), sql, params),
    drop: async () => {
      await query(ADMIN_DATABASE_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** A fresh, migrated database of its own, for specs that change what other specs would see (pruning, tampering, faults). */
export async function createMigratedDatabase(name?: string): Promise<TestDatabase> {
  const database = await createEmptyDatabase(name);
  const dataSource = await openDataSource(database);
  await migrateExclusively(dataSource);
  await dataSource.destroy();
  return database;
}

/** A TypeORM data source on the database (it runs no migration itself), for specs that drive the migrator or a repository directly. */
export function openDataSource(database: TestDatabase, poolSize?: number): Promise<DataSource> {
  return new DataSource(dataSourceOptions({ databaseUrl: database.url, poolSize, dataDir: '' })).initialize();
}
