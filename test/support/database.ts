import { Client } from 'pg';

/** Runs one query against the run's database (TEST_DATABASE_URL) on its own connection. */
export async function queryDatabase<T = Record<string, any>>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}
