// Applies the pending migrations and exits; needs nothing but the production install.
// Exit status: 0 up to date, 1 could not migrate (one line on stderr says why).
//   DATABASE_URL=postgres://… npm run migrate
//   node dist/src/cli/migrate.js                     (in the container image)
//   npm run migrate                                  (embedded mode: the PGlite folder in DATA_DIR, default .devicegate)
import 'reflect-metadata';
import { resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../database/data-source-options';
import { migrateExclusively } from '../database/migrate';
import { checkPostgres } from '../startup/dependency-preflight';
import { StartupError } from '../startup/startup-error';

async function main(): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL || undefined;
  if (databaseUrl) {
    try {
      await checkPostgres(databaseUrl, true);
    } catch (error) {
      if (!(error instanceof StartupError)) throw error;
      process.stderr.write(`devicegate migrate: ${error.message}\n`);
      return 1;
    }
  }
  const dataDir = resolve(process.env.DATA_DIR || '.devicegate');
  const dataSource = new DataSource({ ...dataSourceOptions({ databaseUrl, poolSize: 1, dataDir }), migrationsRun: false });
  await dataSource.initialize();
  try {
    const applied = await migrateExclusively(dataSource);
    for (const migration of applied) process.stdout.write(`applied ${migration.name}\n`);
    const total = dataSource.migrations.length;
    process.stdout.write(applied.length > 0 ? `the schema is up to date (${total} migrations)\n` : `nothing to apply: the schema is up to date (${total} migrations)\n`);
    return 0;
  } finally {
    await dataSource.destroy();
  }
}

main().then(
  (status) => process.exit(status),
  (error: unknown) => {
    process.stderr.write(`devicegate migrate failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
