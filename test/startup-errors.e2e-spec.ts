import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hashPasswordSync } from '../src/common/crypto';
import { MIGRATIONS } from '../migrations';
import { ADMIN_DATABASE_URL, createMigratedDatabase, type TestDatabase } from './support/database';
import { type FakePostgres, startPasswordRefusingPostgres, startTlsPostgres } from './support/fake-postgres';
import { SOURCE_MAIN, spawnServer } from './support/server-process';
import { freePort, REDIS_URL } from './support/test-app';
import { Client } from 'pg';
import { generate } from 'selfsigned';

/** A fresh Node process loads the configuration and checks Postgres and Redis; on a busy machine that takes a while. */
const EXIT_TIMEOUT_MS = 60_000;

/** What an operator sees when the server refuses to start: the exit code and every line it wrote. */
async function refusal(env: Record<string, string>): Promise<{ code: number | null; stdout: string[]; stderr: string[] }> {
  const server = spawnServer(SOURCE_MAIN, env);
  const timer = setTimeout(() => server.child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
  const code = await server.exited;
  clearTimeout(timer);
  return { code, stdout: server.stdout.filter(Boolean), stderr: server.stderr.filter(Boolean) };
}

/** Each startup failure is one line on stderr, exit code 1, nothing retried, no stack trace. */
describe('startup errors (node src/main.ts in production)', () => {
  let folder: string;
  let base: Record<string, string>;
  let migrated: TestDatabase;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'devicegate-startup-'));
    const config = join(folder, 'devicegate.yaml');
    writeFileSync(
      config,
      stringify({
        scopes: [{ name: 'profile', description: 'See your name and email address' }],
        clients: [{ client_id: 'ops-cli', name: 'Ops CLI', type: 'public', scopes: ['profile'] }],
        users: [{ username: 'admin', email: 'admin@example.com', password_hash: hashPasswordSync('admin-password-1') }],
      }),
    );
    const port = await freePort();
    base = {
      NODE_ENV: 'production',
      PORT: String(port),
      // Production serves metrics on a port of their own (9464 by default); specs run side by side.
      METRICS_PORT: String(await freePort()),
      METRICS_HOST: '127.0.0.1',
      PUBLIC_URL: `http://localhost:${port}`,
      SECRET_KEYS: 'k1:Zq7vN2pL9wR4tK8mB3fH6jD1sG5cY0aQuE4',
      DEVICEGATE_CONFIG: config,
      REDIS_URL,
      REDIS_KEY_PREFIX: `devicegate-test:${randomUUID()}:`,
    };
    migrated = await createMigratedDatabase();
  });

  afterAll(async () => {
    await migrated?.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  function expectOneLine(result: { code: number | null; stdout: string[]; stderr: string[] }, line: string) {
    expect(result.code).toBe(1);
    expect(result.stdout).toEqual([]);
    // pg may print its own deprecation warning about sslmode first; the refusal is the last line and the only one of ours.
    expect(result.stderr.at(-1)).toBe(line);
    expect(result.stderr.filter((text) => text.startsWith('devicegate'))).toEqual([line]);
    expect(result.stderr.join('\n')).not.toMatch(/Retrying|^\s+at /m);
  }

  it('names a database that does not exist', async () => {
    const name = `devicegate_missing_${randomUUID().slice(0, 8)}`;
    const result = await refusal({ ...base, DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${name}` });
    expectOneLine(
      result,
      `devicegate cannot start: Postgres at 127.0.0.1:5432 has no database "${name}": create it (CREATE DATABASE "${name}") or fix the database name in DATABASE_URL.`,
    );
  });

  it('names a role that does not exist', async () => {
    const result = await refusal({ ...base, DATABASE_URL: 'postgres://devicegate_no_such_role@127.0.0.1:5432/postgres' });
    expectOneLine(
      result,
      `devicegate cannot start: Postgres at 127.0.0.1:5432 has no role "devicegate_no_such_role": create it (CREATE ROLE "devicegate_no_such_role" LOGIN PASSWORD '…') or fix the user in DATABASE_URL.`,
    );
  });

  it('says when nothing answers at the host and port', async () => {
    const port = await freePort();
    const result = await refusal({ ...base, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/devicegate` });
    expectOneLine(
      result,
      `devicegate cannot start: Postgres is unreachable at 127.0.0.1:${port} (connection refused): start it, or fix the host and port in DATABASE_URL.`,
    );
  });

  it('says when the host name does not resolve', async () => {
    const result = await refusal({ ...base, DATABASE_URL: 'postgres://postgres@no-such-host.invalid:5432/devicegate' });
    expectOneLine(result, 'devicegate cannot start: Postgres host "no-such-host.invalid" cannot be resolved: fix the host in DATABASE_URL.');
  });

  describe('with a server that checks passwords', () => {
    let fake: FakePostgres;
    beforeAll(async () => (fake = await startPasswordRefusingPostgres()));
    afterAll(() => fake?.close());

    it('says the password was refused, without printing it', async () => {
      const url = fake.url('devicegate', 'devicegate');
      const result = await refusal({ ...base, DATABASE_URL: url });
      const port = new URL(url).port;
      expectOneLine(result, `devicegate cannot start: Postgres at 127.0.0.1:${port} refused the password of role "devicegate": fix the password in DATABASE_URL.`);
      expect(result.stderr.join('\n')).not.toContain('wrong-password');
    });
  });

  it('says when DATABASE_URL asks for TLS the server does not offer', async () => {
    const client = new Client({ connectionString: ADMIN_DATABASE_URL });
    await client.connect();
    const { rows } = await client.query<{ ssl: string }>('SHOW ssl');
    await client.end();
    // The machine's Postgres runs without TLS (checked here, so the case cannot pass for another reason).
    expect(rows[0].ssl).toBe('off');
    const result = await refusal({ ...base, DATABASE_URL: `${migrated.url}?sslmode=require` });
    expectOneLine(
      result,
      'devicegate cannot start: Postgres at 127.0.0.1:5432 does not accept TLS but DATABASE_URL asks for it (sslmode): turn TLS on at the server, or drop sslmode from DATABASE_URL on a trusted network.',
    );
  });

  describe('with a server whose TLS certificate is not trusted', () => {
    let fake: FakePostgres;
    beforeAll(async () => {
      const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], { keySize: 2048, algorithm: 'sha256' });
      fake = await startTlsPostgres({ key: pems.private, cert: pems.cert });
    });
    afterAll(() => fake?.close());

    it('names the certificate problem and where to give the CA', async () => {
      const url = fake.url('devicegate', 'devicegate');
      const result = await refusal({ ...base, DATABASE_URL: url });
      expectOneLine(
        result,
        `devicegate cannot start: The TLS certificate of Postgres at 127.0.0.1:${new URL(url).port} is not trusted (self-signed certificate): ` +
          'give its CA with sslrootcert=<file> in DATABASE_URL, or fix the server\'s certificate.',
      );
    });
  });

  it('tells how to migrate a database without the schema', async () => {
    const name = `devicegate_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      const url = new URL(ADMIN_DATABASE_URL);
      url.pathname = `/${name}`;
      const result = await refusal({ ...base, DATABASE_URL: url.toString() });
      expectOneLine(
        result,
        `devicegate cannot start: The database "${name}" lacks ${MIGRATIONS.length} of ${MIGRATIONS.length} migrations (first missing: InitialSchema1763900000000): ` +
          'run "npm run migrate" (in the container image: node dist/src/cli/migrate.js) with the same DATABASE_URL, or set MIGRATE_ON_BOOT=true.',
      );
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('says when Redis is unreachable', async () => {
    const port = await freePort();
    const result = await refusal({ ...base, DATABASE_URL: migrated.url, REDIS_URL: `redis://127.0.0.1:${port}` });
    expectOneLine(result, `devicegate cannot start: Redis is unreachable at 127.0.0.1:${port} (connection refused): start it, or fix the host and port in REDIS_URL.`);
  });

  it('says when Redis does not speak the TLS that REDIS_URL asks for', async () => {
    const result = await refusal({ ...base, DATABASE_URL: migrated.url, REDIS_URL: REDIS_URL.replace(/^redis:/, 'rediss:') });
    const at = new URL(REDIS_URL);
    expectOneLine(
      result,
      `devicegate cannot start: Redis at ${at.hostname}:${at.port || 6379} did not complete a TLS handshake within 5 s: check that it serves TLS on that port, or use redis:// for a plain connection.`,
    );
  });

  it('refuses a production configuration with which nobody could sign in, and says what to add', async () => {
    const empty = join(folder, 'no-connector.yaml');
    writeFileSync(empty, stringify({ scopes: [{ name: 'profile', description: 'Profile' }], clients: [{ client_id: 'c', name: 'C', type: 'public', scopes: ['profile'] }] }));
    const result = await refusal({ ...base, DATABASE_URL: migrated.url, DEVICEGATE_CONFIG: empty });
    expect(result.code).toBe(1);
    expect(result.stderr).toEqual([
      'devicegate cannot start; fix the configuration:',
      expect.stringMatching(/^ {2}- nobody could sign in to approve a device: the config file \(DEVICEGATE_CONFIG\) declares no connector and no local user; add an oidc, saml or ldap connector/),
    ]);
  });
});
