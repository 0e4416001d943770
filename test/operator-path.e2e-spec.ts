import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { generate } from 'selfsigned';
import { stringify } from 'yaml';
import { hashPasswordSync } from '../src/common/crypto';
import { ADMIN_DATABASE_URL } from './support/database';
import { startFlow } from './support/flows';
import { approvalGrantCookie, DeviceGateHttp } from './support/http';
import { type OidcIdp, startOidcIdp } from './support/oidc-idp';
import { READ_ONLY_ROOT, type ServerProcess, spawnServer } from './support/server-process';
import { deleteKeys, freePort, REDIS_URL } from './support/test-app';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
/** npm ci (from the npm cache), nest build and npm prune: two minutes alone on two cores, up to six beside the rest of the suite. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;
/** Starting Node processes (the IdP, the server, a sign-in) on a machine that runs the rest of the suite. */
const STEP_TIMEOUT_MS = 120_000;
const IDP_CLIENT = { id: 'devicegate-acme', secret: 'acme-idp-client-secret-0123456789abcdef' };
const CAROL = { sub: 'idp-user-carol-0001', email: 'carol@acme.test', name: 'Carol Acme' };
const ADMIN = { username: 'admin', password: 'operator-admin-password-1' };

/**
 * What an operator does, from the committed repository to a drained
 * shutdown: a clean copy of HEAD, npm ci, build, npm prune --omit=dev, the
 * production migration command on a fresh database, then the server in
 * production with an https OIDC IdP and a local admin, a device login
 * through the IdP, and SIGTERM while a request is in flight. The migrations
 * and the server run on a read-only root filesystem, as the Helm chart runs
 * them (readOnlyRootFilesystem), here without even a writable /tmp.
 */
describe('the production path, as an operator runs it', () => {
  let folder: string;
  let checkout: string;
  let databaseName: string;
  let databaseUrl: string;
  let idp: OidcIdp;
  let server: ServerProcess;
  let http: DeviceGateHttp;
  let caFile: string;
  let env: Record<string, string>;
  // At the lowest CPU priority: the install and the build share two cores with the specs that run beside this one.
  const npm = (args: string[]) =>
    run('nice', ['-n', '19', 'npm', ...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: checkout, maxBuffer: 16 * 1024 * 1024 });
  const onReadOnlyRoot = (command: string[], env: Record<string, string>) =>
    run(READ_ONLY_ROOT[0], [...READ_ONLY_ROOT.slice(1), ...command], { cwd: checkout, env });

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'devicegate-operator-'));
    checkout = join(folder, 'devicegate');
    mkdirSync(checkout);
    await run('sh', ['-c', `git archive --format=tar HEAD | tar -x -C '${checkout}'`], { cwd: ROOT });
    await npm(['ci', '--prefer-offline']);
    await npm(['run', 'build']);
    await npm(['prune', '--omit=dev']);
  }, INSTALL_TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
    await idp?.stop();
    if (databaseName) {
      const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
      await admin.end();
    }
    if (env?.REDIS_KEY_PREFIX) await deleteKeys(env.REDIS_KEY_PREFIX);
    rmSync(folder, { recursive: true, force: true });
  });

  it('installs runtime dependencies only, and builds the server, its migration command and its assets', () => {
    // typescript and ts-node stay: typeorm names ts-node as an optional peer, and npm keeps an installed peer.
    for (const devOnly of ['@nestjs/cli', '@nestjs/testing', 'jest', 'ts-jest', 'oidc-provider', 'playwright-core']) {
      expect([devOnly, existsSync(join(checkout, 'node_modules', devOnly))]).toEqual([devOnly, false]);
    }
    for (const built of ['dist/src/main.js', 'dist/src/cli/migrate.js', 'dist/src/cli/hash-password.js', 'dist/src/web/assets/favicon.ico']) {
      expect([built, existsSync(join(checkout, built))]).toEqual([built, true]);
    }
  });

  it('migrates a fresh database with node dist/src/cli/migrate.js on a read-only root, and a second run has nothing to do', async () => {
    databaseName = `devicegate_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${databaseName}`);
    await admin.end();
    const url = new URL(ADMIN_DATABASE_URL);
    url.pathname = `/${databaseName}`;
    databaseUrl = url.toString();
    const migrateEnv = { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl };
    await expect(onReadOnlyRoot(['touch', join(checkout, 'written')], migrateEnv)).rejects.toThrow('Read-only file system');

    const first = await onReadOnlyRoot([process.execPath, 'dist/src/cli/migrate.js'], migrateEnv);
    const applied = first.stdout.trim().split('\n');
    expect(applied.at(-1)).toMatch(/^the schema is up to date \(\d+ migrations\)$/);
    expect(applied[0]).toBe('applied InitialSchema1763900000000');
    const second = await onReadOnlyRoot([process.execPath, 'dist/src/cli/migrate.js'], migrateEnv);
    expect(second.stdout.trim()).toMatch(/^nothing to apply: the schema is up to date \(\d+ migrations\)$/);
  }, STEP_TIMEOUT_MS);

  it('starts with NODE_ENV=production, an https OIDC connector and a local admin, logging JSON', async () => {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
      ],
    });
    caFile = join(folder, 'idp-ca.pem');
    writeFileSync(caFile, pems.cert);
    idp = await startOidcIdp({
      clients: [{ client_id: IDP_CLIENT.id, client_secret: IDP_CLIENT.secret, redirect_uris: [`${baseUrl}/oauth/device/sso/oidc/acme-sso/callback`] }],
      accounts: { carol: CAROL },
      tls: { key: pems.private, cert: pems.cert },
    });
    expect(idp.issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const configPath = join(folder, 'devicegate.yaml');
    writeFileSync(
      configPath,
      stringify({
        scopes: [
          { name: 'profile', description: 'See your name and email address' },
          { name: 'read', description: 'Read your projects' },
        ],
        organizations: [{ id: 'acme', name: 'Acme Corp', email_domains: ['acme.test'] }],
        connectors: [
          {
            id: 'acme-sso',
            type: 'oidc',
            organization: 'acme',
            display_name: 'Acme SSO',
            oidc: { issuer: '${ACME_IDP_ISSUER}', client_id: IDP_CLIENT.id, client_secret: '${ACME_IDP_SECRET}' },
          },
        ],
        clients: [{ client_id: 'ops-cli', name: 'Ops CLI', type: 'public', scopes: ['profile', 'read'], poll_interval: 1 }],
        users: [{ username: ADMIN.username, email: 'admin@example.com', password_hash: '${DEVICEGATE_ADMIN_PASSWORD_HASH}' }],
      }),
    );
    env = {
      NODE_ENV: 'production',
      PORT: String(port),
      // Production serves metrics on a port of their own (9464 by default); specs run side by side.
      METRICS_PORT: String(await freePort()),
      METRICS_HOST: '127.0.0.1',
      PUBLIC_URL: baseUrl,
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      REDIS_KEY_PREFIX: `devicegate-test:${randomUUID()}:`,
      SECRET_KEYS: 'k1:Zq7vN2pL9wR4tK8mB3fH6jD1sG5cY0aQuE4',
      DEVICEGATE_CONFIG: configPath,
      DEVICEGATE_ADMIN_PASSWORD_HASH: hashPasswordSync(ADMIN.password),
      ACME_IDP_ISSUER: idp.issuer,
      ACME_IDP_SECRET: IDP_CLIENT.secret,
      NODE_EXTRA_CA_CERTS: caFile,
    };
    server = spawnServer(['dist/src/main.js'], env, checkout, READ_ONLY_ROOT);
    const listening = await server.waitForLine(/listening on/, STEP_TIMEOUT_MS - 20_000);
    expect(JSON.parse(listening)).toMatchObject({ level: 'info', msg: `listening on http://0.0.0.0:${port} (public URL ${baseUrl})` });
    expect(server.stdout.filter(Boolean).every((line) => line.startsWith('{') && JSON.parse(line))).toBe(true);
    expect(server.stderr.filter(Boolean)).toEqual([]);
    http = new DeviceGateHttp(baseUrl);
    expect((await http.request('/readyz')).body).toEqual({ status: 'ready', postgres: 'up', redis: 'up' });
  }, STEP_TIMEOUT_MS);

  it('logs a device in through the OIDC IdP', async () => {
    const flow = await startFlow(http, 'ops-cli');
    const started = await http.request(`/oauth/device/sso/initiate?${new URLSearchParams({ user_code: flow.user_code, connector: 'acme-sso' })}`);
    expect(started.status).toBe(303);
    const authorization = started.headers.get('location') as string;
    expect(authorization.startsWith(`${idp.issuer}/`)).toBe(true);

    const signedIn = await run(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'support', 'sign-in-at-idp-main.ts'), authorization, 'carol'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: caFile },
    });
    const back = new URL(signedIn.stdout.trim());
    const returned = await http.request(`${back.pathname}${back.search}`);
    expect(returned.status).toBe(303);
    const cookie = approvalGrantCookie(returned);
    const context = await http.approvalContext(cookie);
    expect(context.status).toBe(200);
    expect(context.body.subject).toMatchObject({ issuer: idp.issuer, email: CAROL.email, organization: { id: 'acme', name: 'Acme Corp' } });
    expect((await http.decide('approve', cookie, context.body.csrf_token, flow.user_code)).status).toBe(200);

    const token = await http.poll('ops-cli', flow.device_code);
    expect(token.status).toBe(200);
    expect((await http.me(token.body.access_token)).body).toMatchObject({ email: CAROL.email, organization: 'acme' });
  }, STEP_TIMEOUT_MS);

  it('lets the local admin from the environment approve a device, and answers /favicon.ico', async () => {
    const flow = await startFlow(http, 'ops-cli');
    await http.approveAs(flow.user_code, ADMIN);
    const token = await http.poll('ops-cli', flow.device_code);
    expect((await http.me(token.body.access_token)).body).toMatchObject({ email: 'admin@example.com' });
    const icon = await fetch(`${http.baseUrl}/favicon.ico`);
    expect([icon.status, icon.headers.get('content-type')]).toEqual([200, 'image/x-icon']);
  });

  it('on SIGTERM finishes the request in flight, then stops and exits 0', async () => {
    const body = 'client_id=ops-cli&device_label=in-flight';
    const { port } = new URL(http.baseUrl);
    let answer: { status: number; text: string } | undefined;
    const request = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/oauth/device/code',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
    });
    const answered = new Promise<void>((resolve, reject) => {
      request.on('error', reject);
      request.on('response', (response) => {
        let text = '';
        response.on('data', (chunk) => (text += String(chunk)));
        response.on('end', () => {
          answer = { status: response.statusCode ?? 0, text };
          resolve();
        });
      });
    });
    // Half the body now: the request is in flight when the signal arrives.
    request.write(body.slice(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.child.kill('SIGTERM');
    await server.waitForLine(/draining in-flight requests/, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answer).toBeUndefined();
    request.end(body.slice(10));
    await answered;
    expect(answer?.status).toBe(200);
    expect(JSON.parse(answer?.text ?? '{}')).toMatchObject({ device_code: expect.any(String), user_code: expect.any(String) });

    expect(await server.exited).toBe(0);
    const last = server.stdout.filter(Boolean).slice(-2).map((line) => JSON.parse(line).msg);
    expect(last).toEqual(['request', 'stopped']);
    expect(server.stdout.some((line) => line.includes('SIGTERM received: draining in-flight requests, then closing Postgres and Redis'))).toBe(true);
  }, STEP_TIMEOUT_MS);
});
