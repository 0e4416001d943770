import { Client } from 'pg';
import { ADMIN_DATABASE_URL, createMigratedDatabase } from './database';

const STALE_AFTER_MS = 6 * 3600_000;

/** Databases of runs that were killed before their teardown: named devicegate_test_<epoch ms>_<pid>. */
async function dropStaleDatabases(): Promise<void> {
  const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname ~ '^devicegate_test_[0-9]+_[0-9]+$'");
    for (const { datname } of rows) {
      if (Date.now() - Number(datname.split('_')[2]) > STALE_AFTER_MS) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

/** One fresh database per run, migrated once; its name goes to the workers in TEST_DATABASE_URL. */
export default async function globalSetup(): Promise<void> {
  await dropStaleDatabases();
  const database = await createMigratedDatabase(`devicegate_test_${Date.now()}_${process.pid}`);
  process.env.TEST_DATABASE_URL = database.url;
  process.env.TEST_DATABASE_NAME = database.name;
}
