import { MIGRATIONS } from '../migrations';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../src/config/app-config';
import { ConfigError, loadConfig } from '../src/config/load-config';
import { type AppProcess, startAppProcess } from './support/app-process';
import { DeviceGateHttp } from './support/http';
import { freePort } from './support/test-app';

const DEMO_CLIENT = 'devicegate-demo-cli';
const DEMO_USER = { username: 'demo', password: 'demo-password' };
/** A fresh process transpiles the app and PGlite runs initdb: a few seconds, more on a busy machine. */
const BOOT_TIMEOUT_MS = 60_000;

/** The problems a refused configuration lists. */
function refusal(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('loadConfig accepted the configuration');
}

/** Zero-config dev mode: PGlite and in-process stores, a demo client and user, secrets in the data folder. */
describe('embedded dev mode', () => {
  let folder: string;
  let dataDir: string;
  let env: Record<string, string>;
  let config: AppConfig;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'devicegate-dev-'));
    dataDir = join(folder, 'data');
    env = { DATA_DIR: dataDir, PORT: String(await freePort()), NODE_ENV: 'development', LOG_LEVEL: 'info' };
    config = loadConfig(env);
  });

  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  describe('loadConfig', () => {
    it('chooses the embedded mode when neither DATABASE_URL nor REDIS_URL is set', () => {
      expect(config).toMatchObject({ env: 'development', mode: 'embedded', dataDir, migrateOnBoot: true, host: '127.0.0.1' });
      expect(config.databaseUrl).toBeUndefined();
      expect(config.redisUrl).toBeUndefined();
    });

    it('brings the demo client and the demo user', () => {
      expect(config.demo).toEqual({ clientId: DEMO_CLIENT, ...DEMO_USER });
      expect(config.clients.find((client) => client.clientId === DEMO_CLIENT)).toMatchObject({
        type: 'public',
        enabled: true,
        allowedScopes: ['profile', 'read', 'write'],
      });
      const demo = config.localUsers.find((user) => user.username === DEMO_USER.username);
      expect(demo?.passwordHash).toMatch(/^scrypt\$/);
    });

    it('generates a secret key into the data folder, readable by its owner only, and reuses it', () => {
      const path = join(dataDir, 'secret-keys');
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const stored = readFileSync(path, 'utf8');
      expect(config.secretKeys).toHaveLength(1);
      expect(config.secretKeys[0].secret.length).toBeGreaterThanOrEqual(32);
      expect(stored.trim()).toBe(`${config.secretKeys[0].id}:${config.secretKeys[0].secret.toString('utf8')}`);

      const again = loadConfig(env);

      expect(readFileSync(path, 'utf8')).toBe(stored);
      expect(again.secretKeys).toEqual(config.secretKeys);
      expect(statSync(path).mode & 0o777).toBe(0o600);
    });

    describe('refuses what production cannot run on', () => {
      const production = {
        NODE_ENV: 'production',
        PUBLIC_URL: 'https://devicegate.example.org',
        SECRET_KEYS: `k1:${randomBytes(48).toString('base64url')}`,
      };
      const BOTH_OR_NEITHER = 'set both DATABASE_URL and REDIS_URL, or neither (embedded dev mode)';

      it('NODE_ENV=production without DATABASE_URL and REDIS_URL', () => {
        const elsewhere = join(folder, 'production');
        expect(refusal({ ...production, DATA_DIR: elsewhere })).toEqual([
          'NODE_ENV=production needs DATABASE_URL and REDIS_URL; the embedded mode is for development only',
        ]);
      });

      it('NODE_ENV=production with only one of DATABASE_URL and REDIS_URL', () => {
        expect(refusal({ ...production, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/devicegate' })).toEqual([BOTH_OR_NEITHER]);
        expect(refusal({ ...production, REDIS_URL: 'redis://127.0.0.1:6379' })).toEqual([BOTH_OR_NEITHER]);
      });

      it('only one of the two in development as well', () => {
        expect(refusal({ NODE_ENV: 'development', DATA_DIR: dataDir, REDIS_URL: 'redis://127.0.0.1:6379' })).toContain(BOTH_OR_NEITHER);
      });
    });
  });

  describe('createApp on PGlite and the in-process stores', () => {
    let running: AppProcess | undefined;
    let http: DeviceGateHttp;
    let accessToken: string;
    let authorizationId: string;

    afterAll(() => running?.stop());

    it('boots with the migrations applied at boot and without Redis', async () => {
      running = await startAppProcess(env, BOOT_TIMEOUT_MS - 5000);
      http = new DeviceGateHttp(running.ready.baseUrl);

      expect(running.ready).toMatchObject({
        mode: 'embedded',
        migrations: MIGRATIONS.map((migration) => migration.name),
        redis: 'none',
        deviceFlowStore: 'MemoryDeviceFlowStore',
      });
      expect(running.ready.databaseVersion).toMatch(/wasm|emscripten/i);
      expect(existsSync(join(dataDir, 'pgdata', 'PG_VERSION'))).toBe(true);
      expect((await http.request('/readyz')).body).toEqual({ status: 'ready', postgres: 'up', redis: 'up' });
    }, BOOT_TIMEOUT_MS);

    it('runs a whole device flow as the demo user', async () => {
      const started = await http.deviceCode(DEMO_CLIENT, { device_label: 'dev-laptop' });
      expect(started.status).toBe(200);
      expect(started.body.verification_uri).toBe(`${config.publicUrl}/device`);
      const lookup = await http.request(`/oauth/device/lookup?user_code=${started.body.user_code}`);
      expect(lookup.body).toMatchObject({ valid: true, client_id: DEMO_CLIENT, device_label: 'dev-laptop' });

      await http.approveAs(started.body.user_code, DEMO_USER);
      const token = await http.poll(DEMO_CLIENT, started.body.device_code);

      expect(token.status).toBe(200);
      expect(token.body).toMatchObject({ token_type: 'Bearer', scope: 'profile read' });
      const me = await http.me(token.body.access_token);
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({
        issuer: 'urn:devicegate:local',
        external_id: 'demo',
        email: 'demo@devicegate.local',
        name: 'Demo User',
        client_id: DEMO_CLIENT,
        device_label: 'dev-laptop',
        scopes: ['profile', 'read'],
      });
      // The device code presented again is a replay: refused, and what it delivered is revoked.
      expect((await http.poll(DEMO_CLIENT, started.body.device_code)).body.error).toBe('invalid_grant');
      expect((await http.me(token.body.access_token)).status).toBe(401);

      const again = await http.deviceCode(DEMO_CLIENT, { device_label: 'dev-laptop' });
      await http.approveAs(again.body.user_code, DEMO_USER);
      const kept = await http.poll(DEMO_CLIENT, again.body.device_code);
      expect(kept.status).toBe(200);
      accessToken = kept.body.access_token;
      authorizationId = (await http.me(accessToken)).body.authorization_id;
    });

    it('keeps the token valid across a restart on the same data folder', async () => {
      expect(accessToken).toBeDefined();
      await running?.stop();

      running = await startAppProcess(env, BOOT_TIMEOUT_MS - 5000);
      const me = await http.me(accessToken);

      expect(running.ready.migrations).toEqual(MIGRATIONS.map((migration) => migration.name));
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ authorization_id: authorizationId, external_id: 'demo', device_label: 'dev-laptop' });
      expect((await http.me(`${accessToken.slice(0, -1)}${accessToken.endsWith('A') ? 'B' : 'A'}`)).status).toBe(401);
    }, BOOT_TIMEOUT_MS);

    it('writes structured JSON log lines', () => {
      const lines = running?.output ?? [];
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    });
  });
});
