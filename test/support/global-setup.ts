import { createMigratedDatabase } from './database';

/** One fresh database per run, migrated once; its name goes to the workers in TEST_DATABASE_URL. */
export default async function globalSetup(): Promise<void> {
  const database = await createMigratedDatabase(`devicegate_test_${Date.now()}_${process.pid}`);
  process.env.TEST_DATABASE_URL = database.url;
  process.env.TEST_DATABASE_NAME = database.name;
}
