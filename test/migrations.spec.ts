import type { DataSource } from 'typeorm';
import { MIGRATIONS } from '../migrations';
import { migrateExclusively } from '../src/database/migrate';
import { createEmptyDatabase, openDataSource, type TestDatabase } from './support/database';

describe('migrations', () => {
  let database: TestDatabase;
  const dataSources: DataSource[] = [];

  async function connect(): Promise<DataSource> {
    const dataSource = await openDataSource(database, 2);
    dataSources.push(dataSource);
    return dataSource;
  }

  beforeEach(async () => {
    database = await createEmptyDatabase();
  });

  afterEach(async () => {
    await Promise.all(dataSources.splice(0).map((dataSource) => dataSource.destroy()));
    await database.drop();
  });

  it('lets instances that migrate at the same moment take turns: each migration applied once, none fails', async () => {
    const instances = await Promise.all([connect(), connect(), connect(), connect()]);
    const applied = await Promise.all(instances.map((dataSource) => migrateExclusively(dataSource)));
    expect(applied.flat().map((migration) => migration.name).sort()).toEqual(MIGRATIONS.map((migration) => migration.name).sort());
    const recorded = await database.query<{ name: string }>('SELECT name FROM schema_migrations');
    expect(recorded).toHaveLength(MIGRATIONS.length);
    // The lock is released: nobody holds it in this database once the migrators are done (other specs migrate their own).
    const held = await database.query(
      "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    expect(held).toEqual([]);
  });

  it('reverts every migration down to an empty schema, and applies them all again', async () => {
    const dataSource = await connect();
    await migrateExclusively(dataSource);
    for (let left = MIGRATIONS.length; left > 0; left--) await dataSource.undoLastMigration({ transaction: 'each' });
    const tables = await database.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
    expect(tables.map((table) => table.tablename)).toEqual(['schema_migrations']);
    expect(await migrateExclusively(dataSource)).toHaveLength(MIGRATIONS.length);
  });
});
