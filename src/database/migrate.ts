import { type DataSource, type Migration, MigrationExecutor } from 'typeorm';

/** The Postgres advisory lock every devicegate instance takes to migrate: 'devg' in ASCII. */
export const MIGRATION_LOCK = 0x64657667;

/**
 * Applies the pending migrations, each in its own transaction, while holding
 * a session advisory lock on one connection. Instances that migrate at the
 * same moment (several replicas with MIGRATE_ON_BOOT, `npm run migrate` beside
 * a booting app) take turns: the later ones wait, then find nothing left to
 * apply, instead of failing on tables the first one created. The lock ends
 * with the connection, so a migrator that dies mid-way never leaves it held.
 */
export async function migrateExclusively(dataSource: DataSource): Promise<Migration[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      return await executor.executePendingMigrations();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await runner.release();
  }
}
