import type { DataSource } from 'typeorm';
import type { OrganizationDefinition } from '../src/config/app-config';
import { DirectoryRepository } from '../src/organizations/directory.repository';
import { createMigratedDatabase, openDataSource, type TestDatabase } from './support/database';

/**
 * Every instance writes the config file's directory to Postgres at boot, so
 * instances that boot together (replicas of one deployment) sync at the same
 * moment. Each change must be made, and reported for the audit trail, once;
 * no instance may fail to start over it.
 */
describe('directory sync by instances booting together', () => {
  const ROUNDS = 100;
  const INSTANCES = 3;
  let database: TestDatabase;
  let dataSource: DataSource;
  const repository = new DirectoryRepository();

  beforeAll(async () => {
    database = await createMigratedDatabase();
    dataSource = await openDataSource(database, INSTANCES);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('creates each organization once, reports it once, and fails no instance', async () => {
    const failures: string[] = [];
    let reported = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const organization: OrganizationDefinition = { id: `org-${round}`, slug: `org-${round}`, name: `Organization ${round}`, emailDomains: [`org-${round}.test`], emailDomainsDeclared: true };
      const outcomes = await Promise.allSettled(
        Array.from({ length: INSTANCES }, () => dataSource.transaction((manager) => repository.sync([organization], [], manager))),
      );
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') failures.push(String(outcome.reason));
        else reported += outcome.value.filter((change) => change.change === 'created').length;
      }
    }
    expect(failures).toEqual([]);
    expect(reported).toBe(ROUNDS);
    const [{ count }] = await database.query<{ count: number }>('SELECT count(*)::int AS count FROM organizations');
    expect(count).toBe(ROUNDS);
  });
});
