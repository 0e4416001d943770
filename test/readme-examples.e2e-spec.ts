import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/load-config';
import { createApp } from '../src/create-app';
import { signInProblems } from '../src/startup/sign-in-readiness';
import { createMigratedDatabase, type TestDatabase } from './support/database';
import { deleteKeys, freePort, REDIS_URL } from './support/test-app';

const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

/** The first ```yaml block after `marker` in the README, exactly as a reader would copy it. */
function yamlBlockAfter(marker: string): string {
  const start = README.indexOf(marker);
  expect(start).toBeGreaterThan(-1);
  const block = /```yaml\n([\s\S]*?)\n```/.exec(README.slice(start));
  if (!block) throw new Error(`no yaml block after "${marker}"`);
  return block[1];
}

/** The README's single sign-on example, copied into a file, is a configuration production starts with. */
describe('the README single sign-on example', () => {
  const example = yamlBlockAfter('The whole config file for Acme');
  let folder: string;
  let database: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'devicegate-readme-'));
    writeFileSync(join(folder, 'devicegate.yaml'), example);
    const certificate = (await generate([{ name: 'commonName', value: 'acme.okta.test' }], { keyType: 'rsa', keySize: 2048 })).cert;
    database = await createMigratedDatabase();
    const port = await freePort();
    env = {
      NODE_ENV: 'production',
      PORT: String(port),
      // Production serves metrics on a port of their own (9464 by default); specs run side by side.
      METRICS_PORT: String(await freePort()),
      METRICS_HOST: '127.0.0.1',
      PUBLIC_URL: 'https://login.example.com',
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: `devicegate-test:${randomUUID()}:`,
      SECRET_KEYS: 'k1:Zq7vN2pL9wR4tK8mB3fH6jD1sG5cY0aQuE4',
      DEVICEGATE_CONFIG: join(folder, 'devicegate.yaml'),
      ACME_OKTA_CERT: certificate,
      ACME_ENTRA_TENANT_ID: '00000000-0000-0000-0000-0000000000aa',
      ACME_ENTRA_SECRET: 'Hn4tQ8wL2pZ6vB9mK3rF7jC1sD5gY0aXeU8',
      AUDIT_SEAL_INTERVAL: '0',
      RETENTION_SCHEDULE: 'off',
    };
  });

  afterAll(async () => {
    await database?.drop();
    await deleteKeys(env.REDIS_KEY_PREFIX);
    rmSync(folder, { recursive: true, force: true });
  });

  it('is valid YAML with the setup table\'s connector ids', () => {
    const file = parse(example) as { connectors: { id: string; type: string }[] };
    expect(file.connectors.map((connector) => [connector.id, connector.type])).toEqual([
      ['acme-okta', 'saml'],
      ['acme-entra', 'oidc'],
    ]);
    expect(README).toContain('redirect URI `https://login.example.com/oauth/device/sso/oidc/acme-entra/callback`');
    expect(README).toContain('ACS URL `https://login.example.com/oauth/device/sso/saml/acme-okta/acs`');
  });

  it('loads through the config loader in production, and someone could sign in', () => {
    const config = loadConfig(env);
    expect(config.connectors.map((connector) => connector.id)).toEqual(['acme-okta', 'acme-entra']);
    expect(config.clients.map((client) => [client.clientId, client.organizationId])).toEqual([['acme-cli', 'acme']]);
    expect(signInProblems(config)).toEqual([]);
  });

  it('boots: the app starts and serves the SAML connector\'s metadata', async () => {
    const config = loadConfig(env);
    const app = await createApp(config, { logDestination: { write: () => undefined } });
    try {
      await app.listen(config.port, '127.0.0.1');
      const response = await fetch(`http://127.0.0.1:${config.port}/oauth/device/sso/saml/acme-okta/metadata`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('Location="https://login.example.com/oauth/device/sso/saml/acme-okta/acs"');
      const connectors = await database.query<{ id: string }>('SELECT id FROM sso_connectors ORDER BY id');
      expect(connectors.map((row) => row.id)).toEqual(['acme-entra', 'acme-okta']);
    } finally {
      await app.close();
    }
  });
});
