// Recomputes the audit digest chain and prints the report as JSON; seals nothing and changes nothing.
// Exit status: 0 intact, 1 broken (the report names the first break), 2 could not verify.
//   DATABASE_URL=postgres://… npm run --silent audit:verify
//   npm run --silent audit:verify                    (embedded mode: the PGlite folder in DATA_DIR, default .devicegate)
//   node dist/src/cli/audit-verify.js                (in the container image)
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { AuditSealRepository } from '../audit/audit-seal.repository';
import { AuditVerifierService } from '../audit/audit-verifier.service';
import { dataSourceOptions } from '../database/data-source-options';

async function main(): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const dataDir = resolve(process.env.DATA_DIR || '.devicegate');
  if (!databaseUrl && !existsSync(join(dataDir, 'pgdata'))) {
    throw new Error(`no DATABASE_URL, and no embedded database in ${dataDir} (set DATA_DIR)`);
  }
  const dataSource = new DataSource({ ...dataSourceOptions({ databaseUrl, poolSize: 1, dataDir }), migrationsRun: false });
  await dataSource.initialize();
  try {
    const report = await new AuditVerifierService(new AuditSealRepository(dataSource)).verify();
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return report.ok ? 0 : 1;
  } finally {
    await dataSource.destroy();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`audit:verify could not verify: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
