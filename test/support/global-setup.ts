import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';

export const ADMIN_DATABASE_URL = process.env.TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** One fresh database per run, migrated once; its name goes to the workers in TEST_DATABASE_URL. */
export default async function globalSetup(): Promise<void> {
  const name = `devicegate_test_${Date.now()}_${process.pid}`;
  const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  process.env.TEST_DATABASE_URL = url.toString();
  process.env.TEST_DATABASE_NAME = name;
  const dataSource = new DataSource(dataSourceOptions({ databaseUrl: url.toString(), dataDir: '' }));
  await dataSource.initialize();
  await dataSource.runMigrations();
  await dataSource.destroy();
}
