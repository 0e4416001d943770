import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { generate } from 'selfsigned';
import { join } from 'node:path';
import { sha256Hex } from '../common/crypto';
import { DEVICE_CODE_GRANT } from './app-config';
import { ConfigError, DEMO, type Environment, loadConfig, SHIPPED_KEY_PLACEHOLDERS } from './load-config';

const STRONG_KEY = 'Zq7vN2pL9wR4tK8mB3fH6jD1sG5cY0aQuE4';
const OTHER_STRONG_KEY = 'Lw3nB8qT1vZ6mK9pR2xC5hF7jD4sG0aYeU2';
const CLIENT_SECRET = 'Hn4tQ8wL2pZ6vB9mK3rF7jC1sD5gY0aXeU8';
const PASSWORD_HASH = 'scrypt$32768$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=';

const EXTERNAL: Environment = {
  DATABASE_URL: 'postgres://devicegate@db:5432/devicegate',
  REDIS_URL: 'redis://cache:6379',
  SECRET_KEYS: `k1:${STRONG_KEY}`,
};

const PRODUCTION: Environment = {
  ...EXTERNAL,
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://login.example.com',
};

let folder: string;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'devicegate-config-'));
});

afterEach(() => rmSync(folder, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(folder, name);
  writeFileSync(path, content);
  return path;
}

function problems(environment: Environment): string[] {
  try {
    loadConfig(environment);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const CATALOG = `
scopes:
  - name: profile
    description: See your name and email address
  - name: read
    description: Read your projects
`;

describe('loadConfig', () => {
  describe('defaults', () => {
    it('starts the embedded dev mode with nothing set', () => {
      const config = loadConfig({ DATA_DIR: folder });

      expect(config).toMatchObject({
        env: 'development',
        mode: 'embedded',
        host: '127.0.0.1',
        port: 3000,
        publicUrl: 'http://localhost:3000',
        httpAdapter: 'express',
        trustProxy: false,
        databaseUrl: undefined,
        redisUrl: undefined,
        redisKeyPrefix: 'devicegate:',
        dataDir: folder,
        migrateOnBoot: true,
        logLevel: 'info',
        deviceCodeTtlSeconds: 600,
        pollIntervalSeconds: 5,
        accessTokenTtlSeconds: 30 * 86400,
        approvalGrantTtlSeconds: 300,
        consoleSessionIdleSeconds: 900,
        consoleSessionAbsoluteSeconds: 28_800,
        databasePoolSize: 10,
        rateLimits: {
          deviceCodePerIp: { limit: 20, windowSeconds: 60 },
          deviceCodePerClient: { limit: 600, windowSeconds: 60 },
          lookupPerIp: { limit: 30, windowSeconds: 60 },
          loginPerIp: { limit: 10, windowSeconds: 60 },
          approvalPerIp: { limit: 30, windowSeconds: 60 },
          failedUserCodes: { limit: 500, windowSeconds: 600 },
        },
        demo: { clientId: DEMO.clientId, username: DEMO.username, password: DEMO.password },
      });
      expect(config.scopes.map((scope) => scope.name)).toEqual(['profile', 'read', 'write']);
      expect(config.clients).toEqual([
        expect.objectContaining({ clientId: DEMO.clientId, type: 'public', grantTypes: [DEVICE_CODE_GRANT], enabled: true }),
        expect.objectContaining({ clientId: DEMO.cliClientId, type: 'public', grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'], enabled: true }),
      ]);
      expect(config.localUsers).toEqual([expect.objectContaining({ username: DEMO.username, passwordHash: expect.stringMatching(/^scrypt\$/) })]);
    });

    it('generates one dev secret key into the data folder (mode 600) and keeps it across restarts', () => {
      const first = loadConfig({ DATA_DIR: folder });
      const second = loadConfig({ DATA_DIR: folder });

      expect(first.secretKeys).toHaveLength(1);
      expect(first.secretKeys[0].id).toBe('dev1');
      expect(first.secretKeys[0].secret.length).toBeGreaterThanOrEqual(32);
      expect(second.secretKeys[0].secret.equals(first.secretKeys[0].secret)).toBe(true);
      const path = join(folder, 'secret-keys');
      expect(readFileSync(path, 'utf8').trim()).toBe(`dev1:${first.secretKeys[0].secret.toString('utf8')}`);
      expect(statSync(path).mode & 0o777).toBe(0o600);
    });

    it('runs against external Postgres and Redis without a demo client', () => {
      const config = loadConfig(EXTERNAL);
      expect(config).toMatchObject({
        env: 'development',
        mode: 'external',
        host: '0.0.0.0',
        databaseUrl: EXTERNAL.DATABASE_URL,
        redisUrl: EXTERNAL.REDIS_URL,
        migrateOnBoot: false,
        demo: undefined,
        clients: [],
        scopes: [],
        localUsers: [],
      });
    });

    it('treats empty variables as unset', () => {
      const config = loadConfig({ ...EXTERNAL, PORT: '', TRUST_PROXY: '', LOG_LEVEL: '', DEVICE_CODE_TTL: '' });
      expect(config).toMatchObject({ port: 3000, trustProxy: false, logLevel: 'info', deviceCodeTtlSeconds: 600 });
    });

    it('reads the plain settings', () => {
      const config = loadConfig({
        ...EXTERNAL,
        HOST: '::',
        PORT: '8080',
        PUBLIC_URL: 'https://login.example.com/devicegate/',
        DATABASE_POOL_SIZE: '25',
        REDIS_KEY_PREFIX: 'dg:prod:',
        MIGRATE_ON_BOOT: 'true',
        LOG_LEVEL: 'warn',
      });
      expect(config).toMatchObject({
        host: '::',
        port: 8080,
        publicUrl: 'https://login.example.com/devicegate',
        databasePoolSize: 25,
        redisKeyPrefix: 'dg:prod:',
        migrateOnBoot: true,
        logLevel: 'warn',
      });
    });
  });

  describe('one ConfigError listing every problem', () => {
    it('lists every bad environment variable at once', () => {
      const found = problems({
        NODE_ENV: 'staging',
        PORT: 'eighty',
        LOG_LEVEL: 'loud',
        DATABASE_URL: 'mysql://db/devicegate',
        REDIS_URL: 'http://cache',
        DEVICE_CODE_TTL: 'soon',
        RATE_LIMIT_LOOKUP_PER_IP: 'fast',
        MIGRATE_ON_BOOT: 'maybe',
      });
      expect(found).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^NODE_ENV: /),
          'PORT: PORT must be a port number',
          expect.stringMatching(/^LOG_LEVEL: /),
          'DATABASE_URL: DATABASE_URL must be a postgres:// URL',
          expect.stringMatching(/^REDIS_URL: REDIS_URL must be a redis:\/\//),
          'DEVICE_CODE_TTL: DEVICE_CODE_TTL must be a duration such as 90, 90s, 15m, 12h or 30d (got "soon")',
          'RATE_LIMIT_LOOKUP_PER_IP: RATE_LIMIT_LOOKUP_PER_IP must be a rate such as 20/1m (requests per window) (got "fast")',
          expect.stringMatching(/^MIGRATE_ON_BOOT: /),
        ]),
      );
    });

    it('lists every problem of a production setup at once', () => {
      const found = problems({
        NODE_ENV: 'production',
        DATABASE_URL: EXTERNAL.DATABASE_URL,
        DEVICE_CODE_TTL: '30s',
        POLL_INTERVAL: '2m',
        ACCESS_TOKEN_TTL: '10s',
        APPROVAL_GRANT_TTL: '1h',
      });
      expect(found).toEqual([
        'set both DATABASE_URL and REDIS_URL, or neither (embedded dev mode)',
        'PUBLIC_URL is required in production',
        'SECRET_KEYS is required (comma-separated id:secret pairs, the first one signs)',
        'DEVICE_CODE_TTL must be between 1m and 1h',
        'POLL_INTERVAL must be between 1s and 60s',
        'ACCESS_TOKEN_TTL must be at least 1m',
        'APPROVAL_GRANT_TTL must be between 30s and 5m',
      ]);
    });

    it('lists bad variables, bad settings and a bad config file together', () => {
      const config = file(
        'devicegate.yaml',
        `${CATALOG}
clients:
  - client_id: cli
    name: CLI
    type: public
    scopes: [profile, nonsense]
`,
      );
      const found = problems({ ...PRODUCTION, PORT: 'eighty', PUBLIC_URL: 'http://login.example.com', DEVICEGATE_CONFIG: config });
      expect(found).toEqual(
        expect.arrayContaining([
          'PORT: PORT must be a port number',
          expect.stringMatching(/^PUBLIC_URL must be https in production/),
          'client "cli" allows scope "nonsense", which the scope catalog does not declare',
        ]),
      );
    });

    it('reads as a message that names every problem on its own line', () => {
      try {
        loadConfig({ NODE_ENV: 'production', DATABASE_URL: EXTERNAL.DATABASE_URL, REDIS_URL: EXTERNAL.REDIS_URL });
        throw new Error('expected a ConfigError');
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).message).toBe(
          [
            'devicegate cannot start; fix the configuration:',
            '  - PUBLIC_URL is required in production',
            '  - SECRET_KEYS is required (comma-separated id:secret pairs, the first one signs)',
          ].join('\n'),
        );
      }
    });
  });

  describe('production', () => {
    it('accepts a complete production setup', () => {
      const config = loadConfig({ ...PRODUCTION, SECRET_KEYS: `k2:${STRONG_KEY}, k1:${OTHER_STRONG_KEY}` });
      expect(config.env).toBe('production');
      expect(config.mode).toBe('external');
      expect(config.publicUrl).toBe('https://login.example.com');
      expect(config.secretKeys.map((key) => [key.id, key.secret.toString('utf8')])).toEqual([
        ['k2', STRONG_KEY],
        ['k1', OTHER_STRONG_KEY],
      ]);
    });

    it('refuses the embedded mode', () => {
      expect(problems({ NODE_ENV: 'production', PUBLIC_URL: 'https://login.example.com', SECRET_KEYS: `k1:${STRONG_KEY}`, DATA_DIR: folder })).toContain(
        'NODE_ENV=production needs DATABASE_URL and REDIS_URL; the embedded mode is for development only',
      );
    });

    it('refuses the embedded mode without writing a generated key, and asks for SECRET_KEYS', () => {
      const dataDir = join(folder, 'refused-production');
      expect(problems({ NODE_ENV: 'production', PUBLIC_URL: 'https://login.example.com', DATA_DIR: dataDir })).toEqual(
        expect.arrayContaining([
          'NODE_ENV=production needs DATABASE_URL and REDIS_URL; the embedded mode is for development only',
          'SECRET_KEYS is required (comma-separated id:secret pairs, the first one signs)',
        ]),
      );
      expect(existsSync(join(dataDir, 'secret-keys'))).toBe(false);
    });

    it('refuses a PORT outside 1–65535', () => {
      expect(problems({ PORT: '70000', DATA_DIR: folder })).toContain('PORT must be between 1 and 65535');
    });

    it('refuses a missing SECRET_KEYS', () => {
      expect(problems({ ...PRODUCTION, SECRET_KEYS: undefined })).toEqual([
        'SECRET_KEYS is required (comma-separated id:secret pairs, the first one signs)',
      ]);
    });

    it('refuses a short key, in production and everywhere else', () => {
      const short = `k1:${'Zq7vN2pL9wR4tK8mB3fH6jD1sG5'}`;
      expect(problems({ ...PRODUCTION, SECRET_KEYS: short })).toEqual(['SECRET_KEYS key "k1" is shorter than 32 characters']);
      expect(problems({ ...EXTERNAL, SECRET_KEYS: short })).toEqual(['SECRET_KEYS key "k1" is shorter than 32 characters']);
    });

    it.each([
      ['each shipped placeholder, copied where no shell expands it', SHIPPED_KEY_PLACEHOLDERS[0]],
      ['a shipped placeholder inside a longer value', `"${SHIPPED_KEY_PLACEHOLDERS[0]}"-and-more-0123456789`],
      ['too few distinct characters', 'abababababababababababababababababab'],
      ['a repeated word', 'change-me-change-me-change-me-change-me'],
    ])('refuses a placeholder key (%s) in production only', (_what, secret) => {
      expect(problems({ ...PRODUCTION, SECRET_KEYS: `k1:${secret}` })).toEqual([
        'SECRET_KEYS key "k1" looks like a placeholder; generate one with: openssl rand -base64 48',
      ]);
      if (secret.length >= 32) expect(() => loadConfig({ ...EXTERNAL, SECRET_KEYS: `k1:${secret}` })).not.toThrow();
    });

    it('refuses every placeholder the README, the example config, the compose file and the Dockerfile ship', () => {
      const shipped = ['README.md', 'devicegate.example.yaml', 'docker-compose.yml', 'Dockerfile']
        .map((name) => readFileSync(join(__dirname, '..', '..', name), 'utf8'))
        .join('\n');
      // Whatever the shipped files show after an id where a key goes: each is one we refuse.
      const shown = [...shipped.matchAll(/SECRET_KEYS[^\n]*?\bk\d+:(\$\([^)]*\)|[^\s"'}]+)/g)].map((match) => match[1]);
      expect(shown.length).toBeGreaterThan(0);
      for (const secret of new Set(shown)) {
        expect(SHIPPED_KEY_PLACEHOLDERS).toContain(secret);
        expect(problems({ ...PRODUCTION, SECRET_KEYS: `k1:${secret}` })).toEqual([
          'SECRET_KEYS key "k1" looks like a placeholder; generate one with: openssl rand -base64 48',
        ]);
      }
      for (const placeholder of SHIPPED_KEY_PLACEHOLDERS) expect(shipped).toContain(placeholder);
    });

    it('accepts every random key, whatever words it happens to contain (20 000 keys as openssl rand -base64 48 makes them)', () => {
      const withWords: string[] = [];
      for (let batch = 0; batch < 20; batch++) {
        const keys = Array.from({ length: 1000 }, (_, index) => `k${index}:${randomBytes(48).toString('base64')}`);
        const config = loadConfig({ ...PRODUCTION, SECRET_KEYS: keys.join(',') });
        expect(config.secretKeys).toHaveLength(1000);
        withWords.push(...keys.filter((key) => /xxx|todo|secret|change|default/i.test(key)));
      }
      // The words the old check looked for do turn up in random keys; none of those keys is refused.
      expect(withWords.length).toBeGreaterThan(0);
      for (const secret of ['my-super-secret-signing-key-0123456789', 'Example0123456789abcdefghijklmnopqrstuv', `xxx${STRONG_KEY}`]) {
        expect(loadConfig({ ...PRODUCTION, SECRET_KEYS: `k1:${secret}` }).secretKeys).toHaveLength(1);
      }
    });

    it('refuses malformed and repeated key ids', () => {
      expect(problems({ ...PRODUCTION, SECRET_KEYS: STRONG_KEY })).toEqual([
        'SECRET_KEYS entry 1 must look like <id>:<secret> with a short id',
      ]);
      expect(problems({ ...PRODUCTION, SECRET_KEYS: `k1:${STRONG_KEY},k1:${OTHER_STRONG_KEY}` })).toEqual([
        'SECRET_KEYS has key id "k1" twice',
      ]);
    });

    it('refuses an http PUBLIC_URL, except on localhost', () => {
      expect(problems({ ...PRODUCTION, PUBLIC_URL: 'http://login.example.com' })).toEqual([
        'PUBLIC_URL must be https in production (the approval cookie is Secure only over https)',
      ]);
      expect(loadConfig({ ...PRODUCTION, PUBLIC_URL: 'http://localhost:8080' }).publicUrl).toBe('http://localhost:8080');
      expect(loadConfig({ ...PRODUCTION, PUBLIC_URL: 'http://127.0.0.1' }).publicUrl).toBe('http://127.0.0.1');
      expect(problems({ ...PRODUCTION, PUBLIC_URL: 'http://localhost.evil.example' })).toHaveLength(1);
    });

    it('refuses a PUBLIC_URL with a query or fragment, or of another scheme', () => {
      for (const url of ['https://login.example.com/?next=x', 'https://login.example.com/#x', 'ftp://login.example.com', 'login.example.com']) {
        expect(problems({ ...PRODUCTION, PUBLIC_URL: url })).toEqual([
          'PUBLIC_URL: PUBLIC_URL must be an http(s) URL without query or fragment',
        ]);
      }
    });

    const clientWithSecret = (secret: string) =>
      file(
        'devicegate.yaml',
        `${CATALOG}
clients:
  - client_id: agent
    name: Agent
    type: confidential
    client_secret: '${secret}'
    scopes: [read]
`,
      );

    it.each([
      'replace-this-with-a-real-client-secret',
      'my-super-secret-value-for-the-ci-runner',
      'TODO: put the real one here, 32 characters',
      'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    ])('refuses a placeholder client secret (%s) in production only', (secret) => {
      expect(problems({ ...PRODUCTION, DEVICEGATE_CONFIG: clientWithSecret(secret) })).toEqual([
        'config file clients[0] (agent): client_secret looks like a placeholder',
      ]);
      expect(() => loadConfig({ ...EXTERNAL, DEVICEGATE_CONFIG: clientWithSecret(secret) })).not.toThrow();
    });

    it('accepts random client secrets that happen to hold a placeholder word among other letters', () => {
      for (const secret of ['Qx9TODOz7vN2pL9wR4tK8mB3fH6jD1sG5a', 'kP3xxxxW8n-1SecretLy_4rT9vB2mQ7zL0', 'aB3dExampleQ9z7vN2pL9wR4tK8mB3fH6j']) {
        expect(() => loadConfig({ ...PRODUCTION, DEVICEGATE_CONFIG: clientWithSecret(secret) })).not.toThrow();
      }
    });
  });

  describe('the config file', () => {
    const YAML_FILE = `${CATALOG}
clients:
  - client_id: acme-cli
    name: Acme CLI
    type: public
    scopes: [profile, read]
    default_scopes: [profile]
    device_code_ttl: 900
    poll_interval: 10
    access_token_ttl: 3600
  - client_id: build-agent
    name: "\${AGENT_NAME} agent"
    type: confidential
    client_secret: \${BUILD_AGENT_SECRET}
    grant_types: [urn:ietf:params:oauth:grant-type:device_code, refresh_token]
    scopes: [read]
    enabled: false
users:
  - username: alice
    email: Alice@Example.COM
    name: Alice
    password_hash: ${PASSWORD_HASH}
  - username: bob
    email: bob@example.com
    password_hash: ${PASSWORD_HASH}
`;

    const EXPECTED = {
      scopes: [
        { name: 'profile', description: 'See your name and email address', sensitive: false },
        { name: 'read', description: 'Read your projects', sensitive: false },
      ],
      clients: [
        {
          clientId: 'acme-cli',
          name: 'Acme CLI',
          type: 'public',
          secretHash: undefined,
          grantTypes: [DEVICE_CODE_GRANT],
          allowedScopes: ['profile', 'read'],
          defaultScopes: ['profile'],
          deviceCodeTtlSeconds: 900,
          pollIntervalSeconds: 10,
          accessTokenTtlSeconds: 3600,
          enabled: true,
        },
        {
          clientId: 'build-agent',
          name: 'Nightly agent',
          type: 'confidential',
          secretHash: sha256Hex(CLIENT_SECRET),
          grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'],
          allowedScopes: ['read'],
          defaultScopes: ['read'],
          deviceCodeTtlSeconds: undefined,
          pollIntervalSeconds: undefined,
          accessTokenTtlSeconds: undefined,
          enabled: false,
        },
      ],
      localUsers: [
        { username: 'alice', email: 'alice@example.com', name: 'Alice', passwordHash: PASSWORD_HASH },
        { username: 'bob', email: 'bob@example.com', name: 'bob', passwordHash: PASSWORD_HASH },
      ],
    };

    it('reads YAML, replacing ${NAME} with the environment variable', () => {
      const config = loadConfig({
        ...EXTERNAL,
        DEVICEGATE_CONFIG: file('devicegate.yaml', YAML_FILE),
        BUILD_AGENT_SECRET: CLIENT_SECRET,
        AGENT_NAME: 'Nightly',
      });
      expect({ scopes: config.scopes, clients: config.clients, localUsers: config.localUsers }).toEqual(EXPECTED);
    });

    it('reads the same file written as JSON', () => {
      const json = JSON.stringify({
        scopes: EXPECTED.scopes,
        clients: [
          {
            client_id: 'acme-cli',
            name: 'Acme CLI',
            type: 'public',
            scopes: ['profile', 'read'],
            default_scopes: ['profile'],
            device_code_ttl: 900,
            poll_interval: 10,
            access_token_ttl: 3600,
          },
          {
            client_id: 'build-agent',
            name: '${AGENT_NAME} agent',
            type: 'confidential',
            client_secret: '${BUILD_AGENT_SECRET}',
            grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
            scopes: ['read'],
            enabled: false,
          },
        ],
        users: [
          { username: 'alice', email: 'Alice@Example.COM', name: 'Alice', password_hash: PASSWORD_HASH },
          { username: 'bob', email: 'bob@example.com', password_hash: PASSWORD_HASH },
        ],
      });
      const config = loadConfig({
        ...EXTERNAL,
        DEVICEGATE_CONFIG: file('devicegate.json', json),
        BUILD_AGENT_SECRET: CLIENT_SECRET,
        AGENT_NAME: 'Nightly',
      });
      expect({ scopes: config.scopes, clients: config.clients, localUsers: config.localUsers }).toEqual(EXPECTED);
    });

    it('keeps a client_secret_sha256 as it is', () => {
      const hash = sha256Hex(CLIENT_SECRET);
      const config = loadConfig({
        ...EXTERNAL,
        DEVICEGATE_CONFIG: file(
          'devicegate.yaml',
          `${CATALOG}
clients:
  - { client_id: agent, name: Agent, type: confidential, client_secret_sha256: ${hash}, scopes: [read] }
`,
        ),
      });
      expect(config.clients[0].secretHash).toBe(hash);
    });

    it('adds the demo client and user to a file in the embedded mode, and does not duplicate its scopes', () => {
      const config = loadConfig({ DATA_DIR: folder, DEVICEGATE_CONFIG: file('devicegate.yaml', CATALOG) });
      expect(config.scopes.map((scope) => scope.name)).toEqual(['profile', 'read', 'write']);
      expect(config.scopes[0].description).toBe('See your name and email address');
      expect(config.clients.map((client) => client.clientId)).toEqual([DEMO.clientId, DEMO.cliClientId]);
    });

    it('refuses a ${NAME} that is not set', () => {
      const config = file(
        'devicegate.yaml',
        `${CATALOG}
clients:
  - { client_id: agent, name: Agent, type: confidential, client_secret: "\${MISSING_SECRET}", scopes: [read] }
`,
      );
      expect(problems({ ...EXTERNAL, DEVICEGATE_CONFIG: config })).toEqual(
        expect.arrayContaining(['config file refers to ${MISSING_SECRET}, which is not set']),
      );
    });

    it('refuses a file it cannot read or parse', () => {
      expect(problems({ ...EXTERNAL, DEVICEGATE_CONFIG: join(folder, 'missing.yaml') })).toEqual([
        expect.stringMatching(/^DEVICEGATE_CONFIG \(.*missing\.yaml\) cannot be read: ENOENT/),
      ]);
      expect(problems({ ...EXTERNAL, DEVICEGATE_CONFIG: file('broken.yaml', 'clients: [unclosed\n') })).toEqual([
        expect.stringMatching(/^DEVICEGATE_CONFIG \(.*broken\.yaml\) cannot be read: /),
      ]);
      expect(problems({ ...EXTERNAL, DEVICEGATE_CONFIG: file('broken.json', '{"clients": [}') })).toEqual([
        expect.stringMatching(/^DEVICEGATE_CONFIG \(.*broken\.json\) cannot be read: /),
      ]);
    });

    it('refuses a file that is not a mapping', () => {
      for (const content of ['- a\n- b\n', '42\n', '"text"\n', '']) {
        expect(problems({ ...EXTERNAL, DEVICEGATE_CONFIG: file('list.yaml', content) })).toEqual([
          expect.stringMatching(/must hold a mapping with scopes, clients and users$/),
        ]);
      }
    });

    it('refuses a client that allows a scope the catalog does not declare', () => {
      const config = file(
        'devicegate.yaml',
        `${CATALOG}
clients:
  - { client_id: cli, name: CLI, type: public, scopes: [profile, admin], default_scopes: [profile, write] }
`,
      );
      expect(problems({ ...EXTERNAL, DEVICEGATE_CONFIG: config })).toEqual([
        'client "cli" allows scope "admin", which the scope catalog does not declare',
        'client "cli" has default scope "write" outside its allowed scopes',
      ]);
    });

    it('refuses a confidential client without a secret and a public client with one', () => {
      const config = file(
        'devicegate.yaml',
        `${CATALOG}
clients:
  - { client_id: agent, name: Agent, type: confidential, scopes: [read] }
  - { client_id: cli, name: CLI, type: public, client_secret: ${CLIENT_SECRET}, scopes: [read] }
  - { client_id: tool, name: Tool, type: public, client_secret_sha256: ${sha256Hex(CLIENT_SECRET)}, scopes: [read] }
`,
      );
      expect(problems({ ...EXTERNAL, DEVICEGATE_CONFIG: config })).toEqual([
        'config file clients[0] (agent): a confidential client needs a secret',
        'config file clients[1] (cli): a public client must not have a secret',
        'config file clients[2] (tool): a public client must not have a secret',
      ]);
    });

    it('refuses a short client secret, and a secret given twice', () => {
      const config = file(
        'devicegate.yaml',
        `${CATALOG}
clients:
  - { client_id: short, name: Short, type: confidential, client_secret: too-short, scopes: [read] }
  - { client_id: both, name: Both, type: confidential, client_secret: ${CLIENT_SECRET}, client_secret_sha256: ${sha256Hex(CLIENT_SECRET)}, scopes: [read] }
`,
      );
      expect(problems({ ...EXTERNAL, DEVICEGATE_CONFIG: config })).toEqual([
        'config file clients[0] (short): client_secret must be at least 32 characters',
        'config file clients[1] (both): give client_secret or client_secret_sha256, not both',
      ]);
    });

    it('refuses duplicate client ids, scopes and users', () => {
      const config = file(
        'devicegate.yaml',
        `${CATALOG}
  - { name: read, description: Read again }
clients:
  - { client_id: cli, name: CLI, type: public, scopes: [read] }
  - { client_id: cli, name: CLI again, type: public, scopes: [profile] }
users:
  - { username: alice, email: alice@example.com, password_hash: "${PASSWORD_HASH}" }
  - { username: alice, email: alice2@example.com, password_hash: "${PASSWORD_HASH}" }
`,
      );
      expect(problems({ ...EXTERNAL, DEVICEGATE_CONFIG: config })).toEqual([
        'config file declares scope "read" twice',
        'config file declares client "cli" twice',
        'config file declares user "alice" twice',
      ]);
    });

    it('refuses a password_hash that is not a scrypt hash', () => {
      const config = file(
        'devicegate.yaml',
        `users:
  - { username: alice, email: alice@example.com, password_hash: alice-password-1 }
  - { username: bob, email: bob@example.com, password_hash: "$2b$12$abcdefghijklmnopqrstuu5Yx6Q8G0C1bIb8p5QJj9v0S7b6h7h2K" }
`,
      );
      const found = problems({ ...EXTERNAL, DEVICEGATE_CONFIG: config });
      expect(found).toHaveLength(2);
      expect(found[0]).toMatch(/^config file users\[0\]\.password_hash: password_hash must come from `npm run hash-password`/);
      expect(found[1]).toMatch(/^config file users\[1\]\.password_hash: /);
    });

    it('refuses keys it does not know, at the top and inside entries', () => {
      const config = file(
        'devicegate.yaml',
        `${CATALOG}
tenants: []
clients:
  - { client_id: cli, name: CLI, type: public, scopes: [read], redirect_uris: [https://evil.example] }
users:
  - { username: alice, email: alice@example.com, password_hash: "${PASSWORD_HASH}", admin: true }
`,
      );
      expect(problems({ ...EXTERNAL, DEVICEGATE_CONFIG: config })).toEqual([
        'config file tenants: property tenants should not exist',
        'config file clients[0].redirect_uris: property redirect_uris should not exist',
        'config file users[0].admin: property admin should not exist',
      ]);
    });

    it('refuses bad field values', () => {
      const config = file(
        'devicegate.yaml',
        `${CATALOG}
clients:
  - client_id: "bad id with spaces"
    name: Bad
    type: secretive
    grant_types: [authorization_code]
    scopes: [read]
    poll_interval: 0
    device_code_ttl: 86400
`,
      );
      const found = problems({ ...EXTERNAL, DEVICEGATE_CONFIG: config });
      expect(found).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^config file clients\[0\]\.client_id: /),
          expect.stringMatching(/^config file clients\[0\]\.type: /),
          expect.stringMatching(/^config file clients\[0\]\.grant_types: /),
          expect.stringMatching(/^config file clients\[0\]\.poll_interval: /),
          expect.stringMatching(/^config file clients\[0\]\.device_code_ttl: /),
        ]),
      );
    });

    it.each([
      ['an empty list entry', 'clients:\n  -\n'],
      ['a list where a mapping list belongs', 'clients: just-a-string\n'],
      ['a mapping where a list belongs', 'users: { alice: 1 }\n'],
      ['a scalar scope entry', 'scopes:\n  - profile\n'],
      ['a number for a string', `users:\n  - { username: alice, email: 5, password_hash: "${PASSWORD_HASH}" }\n`],
      ['a number for the secret', 'clients:\n  - { client_id: a, name: A, type: confidential, client_secret: 12345, scopes: [] }\n'],
      ['a scalar for a scope list', 'clients:\n  - { client_id: a, name: A, type: public, scopes: 5 }\n'],
    ])('refuses a wrongly shaped file (%s) with a ConfigError, not a crash', (_what, content) => {
      const found = problems({ ...EXTERNAL, DEVICEGATE_CONFIG: file('shape.yaml', content) });
      expect(found.length).toBeGreaterThan(0);
      for (const problem of found) expect(problem).toMatch(/^config file /);
    });
  });

  describe('organizations and connectors', () => {
    let certificate: string;

    beforeAll(async () => {
      certificate = (await generate([{ name: 'commonName', value: 'idp.acme.test' }], { keyType: 'rsa', keySize: 2048 })).cert;
    });

    const directory = (connectors: string, clients = '') =>
      file(
        'devicegate.yaml',
        `${CATALOG}
organizations:
  - { id: acme, name: Acme Corp, email_domains: [acme.com, acme.co.uk] }
  - { id: globex, slug: globex-inc, name: Globex }
connectors:
${connectors}
${clients}`,
      );

    it('reads organizations, SAML and OIDC connectors and organization-scoped clients, with their defaults', () => {
      const bare = certificate.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
      const config = loadConfig({
        ...EXTERNAL,
        PUBLIC_URL: 'https://login.example.com',
        DEVICEGATE_CONFIG: directory(
          `  - id: acme-okta
    type: saml
    organization: acme
    display_name: Acme Okta
    saml: { entry_point: "https://acme.okta.example/sso", idp_issuer: "http://www.okta.com/exk1", idp_certs: ["${bare}"] }
  - id: globex-entra
    type: oidc
    organization: globex
    display_name: Globex Entra ID
    email_domains: [globex.example]
    oidc: { issuer: "https://login.globex.example/v2.0/", client_id: devicegate }`,
          `clients:
  - { client_id: acme-cli, name: Acme CLI, type: public, scopes: [read], organization: acme }`,
        ),
      });

      expect(config.organizations).toEqual([
        { id: 'acme', slug: 'acme', name: 'Acme Corp', emailDomains: ['acme.com', 'acme.co.uk'], emailDomainsDeclared: true },
        { id: 'globex', slug: 'globex-inc', name: 'Globex', emailDomains: [], emailDomainsDeclared: false },
      ]);
      expect(config.connectors).toEqual([
        {
          id: 'acme-okta',
          type: 'saml',
          organizationId: 'acme',
          displayName: 'Acme Okta',
          emailDomains: ['acme.com', 'acme.co.uk'],
          saml: {
            entryPoint: 'https://acme.okta.example/sso',
            idpIssuer: 'http://www.okta.com/exk1',
            idpCerts: [`${certificate.replace(/\r\n/g, '\n').trim()}\n`],
            spEntityId: 'https://login.example.com/oauth/device/sso/saml/acme-okta/metadata',
            wantResponseSigned: true,
            allowSha1: false,
            clockSkewMs: 0,
            emailAttribute: undefined,
            nameAttribute: undefined,
          },
        },
        {
          id: 'globex-entra',
          type: 'oidc',
          organizationId: 'globex',
          displayName: 'Globex Entra ID',
          emailDomains: ['globex.example'],
          oidc: {
            issuer: 'https://login.globex.example/v2.0',
            clientId: 'devicegate',
            clientSecret: undefined,
            scopes: ['openid', 'email', 'profile'],
            emailClaim: 'email',
            nameClaim: 'name',
            requireVerifiedEmail: true,
            allowInsecureHttp: false,
            allowHmacIdTokens: false,
          },
        },
      ]);
      expect(config.clients[0].organizationId).toBe('acme');
    });

    it('reads an LDAP connector with its defaults, the bind password from the environment and the CA by certificate', () => {
      const config = loadConfig({
        ...EXTERNAL,
        ACME_BIND_PASSWORD: 'from-the-environment',
        DEVICEGATE_CONFIG: directory(
          `  - id: acme-ad
    type: ldap
    organization: acme
    display_name: Acme directory
    ldap:
      url: "ldaps://dc.acme.com:636/"
      bind_dn: "cn=devicegate,ou=services,dc=acme,dc=com"
      bind_password: \${ACME_BIND_PASSWORD}
      search_base: "ou=people,dc=acme,dc=com"
      ca_certs: ["${certificate.replace(/\r?\n/g, '\\n')}"]`,
        ),
      });
      expect(config.connectors).toEqual([
        {
          id: 'acme-ad',
          type: 'ldap',
          organizationId: 'acme',
          displayName: 'Acme directory',
          emailDomains: ['acme.com', 'acme.co.uk'],
          ldap: {
            url: 'ldaps://dc.acme.com:636',
            bindDn: 'cn=devicegate,ou=services,dc=acme,dc=com',
            bindPassword: 'from-the-environment',
            searchBase: 'ou=people,dc=acme,dc=com',
            searchFilter: '(uid={{username}})',
            emailAttribute: 'mail',
            nameAttribute: 'cn',
            idAttribute: 'entryUUID',
            caCerts: [`${certificate.replace(/\r\n/g, '\n').trim()}\n`],
            timeoutMs: 5000,
          },
        },
      ]);
    });

    it('refuses a plain ldap:// directory in production, a CA that does not parse, and a filter without {{username}}', () => {
      const found = problems({
        ...PRODUCTION,
        DEVICEGATE_CONFIG: directory(
          `  - { id: a-ldap, type: ldap, organization: acme, display_name: A, ldap: { url: "ldap://dc.acme.com", bind_dn: x, bind_password: y, search_base: z } }
  - { id: c-ldap, type: ldap, organization: acme, display_name: C, ldap: { url: "ldaps://dc.acme.com", bind_dn: x, bind_password: y, search_base: z, ca_certs: [nope] } }
  - { id: d-ldap, type: ldap, display_name: D }`,
        ),
      });
      expect(found).toEqual([
        'config file connector "a-ldap": the url must be ldaps:// in production (passwords cross it)',
        'config file connector "c-ldap": ca_certs[0] is not an X.509 certificate (PEM or base64)',
        'config file connector "d-ldap": a ldap connector needs its "ldap" settings',
      ]);
      const filter = problems({
        ...EXTERNAL,
        DEVICEGATE_CONFIG: directory(
          `  - { id: b-ldap, type: ldap, organization: acme, display_name: B, ldap: { url: "ldaps://dc.acme.com", bind_dn: x, bind_password: y, search_base: z, search_filter: "(uid=*)" } }`,
        ),
      });
      expect(filter).toEqual(['config file connectors[0].ldap.search_filter: search_filter must be an LDAP filter in parentheses holding {{username}}']);
    });

    it('loads the example config file of the repository, whose local admin takes its hash from the environment', () => {
      const example = join(__dirname, '../../devicegate.example.yaml');
      const config = loadConfig({ ...PRODUCTION, DEVICEGATE_CONFIG: example, DEVICEGATE_ADMIN_PASSWORD_HASH: PASSWORD_HASH });
      expect(config.clients.map((client) => client.clientId)).toEqual(['acme-cli']);
      expect(config.connectors).toEqual([{ id: 'local', type: 'local', displayName: 'Local accounts' }]);
      expect(config.localUsers).toEqual([{ username: 'admin', email: 'admin@example.com', name: 'Administrator', passwordHash: PASSWORD_HASH }]);
      expect(problems({ ...PRODUCTION, DEVICEGATE_CONFIG: example })).toContain('config file refers to ${DEVICEGATE_ADMIN_PASSWORD_HASH}, which is not set');
    });

    it('adds the local connector, of no organization, when there are local users', () => {
      const config = loadConfig({ DATA_DIR: folder });
      expect(config.connectors).toEqual([{ id: 'local', type: 'local', displayName: 'Local accounts' }]);
      expect(config.organizations).toEqual([]);
    });

    it('lists every problem of the directory', () => {
      const found = problems({
        ...PRODUCTION,
        DEVICEGATE_CONFIG: directory(
          `  - { id: a-saml, type: saml, organization: initech, display_name: A, saml: { entry_point: "https://idp/sso", idp_issuer: x, idp_certs: [not-a-certificate] } }
  - { id: b-oidc, type: oidc, display_name: B, oidc: { issuer: "http://idp.example", client_id: c, allow_insecure_http: true } }
  - { id: c-oidc, type: oidc, organization: acme, display_name: C, oidc: { issuer: "http://idp.example", client_id: c } }
  - { id: d-saml, type: saml, organization: acme, display_name: D }
  - { id: e-local, type: local, organization: acme, display_name: E, oidc: { issuer: "https://idp.example", client_id: c } }
  - { id: c-oidc, type: local, display_name: F }`,
          `clients:
  - { client_id: cli, name: CLI, type: public, scopes: [read], organization: umbrella }`,
        ),
      });
      expect(found).toEqual([
        'config file connector "a-saml": idp_certs[0] is not an X.509 certificate (PEM or base64)',
        'config file connector "b-oidc": a oidc connector must belong to an organization',
        'config file connector "b-oidc": allow_insecure_http is refused in production',
        'config file connector "c-oidc": the issuer must be https (allow_insecure_http is for a local IdP in development)',
        'config file connector "d-saml": a saml connector needs its "saml" settings',
        'config file connector "e-local": a local connector takes no "oidc" settings',
        'connector "a-saml" belongs to organization "initech", which is not declared',
        'config file declares connector "c-oidc" twice',
        'config file declares more than one local connector',
        'connector "e-local" is local but the config file declares no users',
        'client "cli" belongs to organization "umbrella", which is not declared',
      ]);
    });

    it('binds every connector of an organization to email domains: its own, else the organization’s, [] only when written', () => {
      const oidc = 'oidc: { issuer: "https://idp.example", client_id: c }';
      expect(
        problems({
          ...EXTERNAL,
          DEVICEGATE_CONFIG: directory(`  - { id: globex-oidc, type: oidc, organization: globex, display_name: G, ${oidc} }`),
        }),
      ).toEqual([
        'connector "globex-oidc" cannot bind identities to organization "globex": give the organization (or the connector) email_domains, or write email_domains: [] to accept any address',
      ]);
      const config = loadConfig({
        ...EXTERNAL,
        DEVICEGATE_CONFIG: directory(
          `  - { id: globex-oidc, type: oidc, organization: globex, display_name: G, email_domains: [], ${oidc} }
  - { id: acme-oidc, type: oidc, organization: acme, display_name: A, ${oidc} }
  - { id: acme-uk, type: oidc, organization: acme, display_name: U, email_domains: [acme.co.uk], ${oidc} }`,
        ),
      });
      expect(config.connectors.map(({ id, emailDomains }) => ({ id, emailDomains }))).toEqual([
        { id: 'globex-oidc', emailDomains: [] },
        { id: 'acme-oidc', emailDomains: ['acme.com', 'acme.co.uk'] },
        { id: 'acme-uk', emailDomains: ['acme.co.uk'] },
      ]);
    });

    it('refuses a local user outside the email domains of the local connector’s organization', () => {
      const found = problems({
        ...EXTERNAL,
        DEVICEGATE_CONFIG: directory(
          `  - { id: local, type: local, organization: acme, display_name: Acme accounts }
users:
  - { username: ada, email: ada@acme.com, password_hash: "${PASSWORD_HASH}" }
  - { username: eve, email: eve@evil.example, password_hash: "${PASSWORD_HASH}" }`,
        ),
      });
      expect(found).toEqual(['user "eve" has an email outside the email_domains of connector "local"']);
    });

    it('reads granted_to as organization:email, subject:<id> or a bare email of no organization, and refuses anything else', () => {
      const scopes = (grantedTo: string) =>
        file(
          'devicegate.yaml',
          `scopes:
  - { name: admin, description: Admin, granted_to: ${grantedTo} }
organizations:
  - { id: acme, name: Acme Corp, email_domains: [acme.com] }`,
        );
      const config = loadConfig({
        ...EXTERNAL,
        DEVICEGATE_CONFIG: scopes('["acme:Ada@Acme.com", "subject:0B7A1C2E-4F3D-4A5B-8C9D-112233445566", "alice@example.com"]'),
      });
      expect(config.scopes[0].grantedTo).toEqual([
        { organizationId: 'acme', email: 'ada@acme.com' },
        { subjectId: '0b7a1c2e-4f3d-4a5b-8c9d-112233445566' },
        { organizationId: null, email: 'alice@example.com' },
      ]);
      expect(problems({ ...EXTERNAL, DEVICEGATE_CONFIG: scopes('["umbrella:a@umbrella.com", "subject:42", "not an email", "Acme:a@acme.com"]') })).toEqual([
        'scope "admin": granted_to "subject:42" must name a subject id (a UUID) after subject:',
        'scope "admin": granted_to "not an email" must be <organization>:<email>, subject:<subject id> or <email>',
        'scope "admin": granted_to "Acme:a@acme.com" must be <organization>:<email>, subject:<subject id> or <email>',
        'scope "admin" is granted to someone of organization "umbrella", which is not declared',
        'scope "admin" is granted to someone of organization "Acme", which is not declared',
      ]);
    });

    it('marks write and admin scopes as sensitive unless the catalog says otherwise, and reads sensitive: true', () => {
      const config = loadConfig({
        ...EXTERNAL,
        DEVICEGATE_CONFIG: file(
          'devicegate.yaml',
          `scopes:
  - { name: read, description: Read }
  - { name: write, description: Write }
  - { name: admin, description: Admin }
  - { name: "projects:write", description: Change projects }
  - { name: admin.users, description: Manage people }
  - { name: rewrite, description: Not a write scope by its name }
  - { name: deploy, description: Deploy, sensitive: true }
  - { name: write-once, description: Not by its name }
  - { name: "notes/write", description: Edit notes, sensitive: false }`,
        ),
      });
      expect(Object.fromEntries(config.scopes.map((scope) => [scope.name, scope.sensitive]))).toEqual({
        read: false,
        write: true,
        admin: true,
        'projects:write': true,
        'admin.users': true,
        rewrite: false,
        deploy: true,
        'write-once': false,
        'notes/write': false,
      });
      expect(problems({ ...EXTERNAL, DEVICEGATE_CONFIG: file('bad.yaml', 'scopes:\n  - { name: deploy, description: Deploy, sensitive: "yes" }') })).toEqual([
        'config file scopes[0].sensitive: sensitive must be a boolean value',
      ]);
    });

    it('reads the operator: name, an https logo URL and the support contact', () => {
      const config = loadConfig({
        ...EXTERNAL,
        DEVICEGATE_CONFIG: file(
          'devicegate.yaml',
          `operator:
  name: "  Acme Corp IT "
  logo_url: https://cdn.acme.example/logo.svg
  support_email: it-help@acme.example
  support_url: https://help.acme.example/devices`,
        ),
      });
      expect(config.operator).toEqual({
        name: 'Acme Corp IT',
        logo: { url: 'https://cdn.acme.example/logo.svg' },
        supportEmail: 'it-help@acme.example',
        supportUrl: 'https://help.acme.example/devices',
      });
      expect(loadConfig(EXTERNAL).operator).toEqual({});
    });

    it('reads a logo_file next to the config file once, and refuses one it cannot serve', () => {
      const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
      writeFileSync(join(folder, 'logo.png'), png);
      const config = loadConfig({ ...EXTERNAL, DEVICEGATE_CONFIG: file('devicegate.yaml', 'operator:\n  name: Acme\n  logo_file: logo.png') });
      expect(config.operator.logo).toEqual({ file: png, contentType: 'image/png' });

      writeFileSync(join(folder, 'huge.svg'), Buffer.alloc(256 * 1024 + 1));
      writeFileSync(join(folder, 'logo.gif'), png);
      const found = (operator: string) => problems({ ...EXTERNAL, DEVICEGATE_CONFIG: file('bad.yaml', `operator:\n${operator}`) });
      expect(found('  logo_file: missing.png')).toEqual([expect.stringMatching(/^config file operator: logo_file \(.*missing\.png\) cannot be read: ENOENT/)]);
      expect(found('  logo_file: huge.svg')).toEqual(['config file operator: logo_file is larger than 256 KB']);
      expect(found('  logo_file: logo.gif')).toEqual(['config file operator: logo_file must be a png, svg, webp, jpg, jpeg, ico file']);
      expect(found('  logo_file: logo.png\n  logo_url: https://cdn.acme.example/logo.png')).toEqual([
        'config file operator: give logo_url or logo_file, not both',
      ]);
    });

    it('refuses an operator logo over http, a support contact that is not one, and keys it does not know', () => {
      const found = problems({
        ...EXTERNAL,
        DEVICEGATE_CONFIG: file(
          'devicegate.yaml',
          `operator:
  name: ""
  logo_url: http://cdn.acme.example/logo.svg
  support_email: not-an-address
  support_url: "javascript:alert(1)"
  colour: red`,
        ),
      });
      expect(found).toEqual([
        'config file operator.colour: property colour should not exist',
        'config file operator.name: name must be longer than or equal to 1 characters',
        'config file operator.logo_url: operator.logo_url must be an https URL',
        'config file operator.support_email: operator.support_email must be an email address',
        'config file operator.support_url: operator.support_url must be an http(s) URL',
      ]);
    });

    it('refuses an email domain claimed by two organizations', () => {
      const found = problems({
        ...EXTERNAL,
        DEVICEGATE_CONFIG: file(
          'devicegate.yaml',
          `organizations:
  - { id: acme, name: Acme, email_domains: [shared.com] }
  - { id: globex, name: Globex, email_domains: [shared.com] }
  - { id: acme, name: Again }`,
        ),
      });
      expect(found).toEqual([
        'email domain "shared.com" belongs to both "acme" and "globex"',
        'config file declares organization "acme" twice',
        'config file has two organizations with the slug "acme"',
      ]);
    });
  });

  describe('durations and rates', () => {
    it.each([
      ['DEVICE_CODE_TTL', '15m', 'deviceCodeTtlSeconds', 900],
      ['DEVICE_CODE_TTL', '1h', 'deviceCodeTtlSeconds', 3600],
      ['DEVICE_CODE_TTL', '90', 'deviceCodeTtlSeconds', 90],
      ['POLL_INTERVAL', '10s', 'pollIntervalSeconds', 10],
      ['POLL_INTERVAL', '1', 'pollIntervalSeconds', 1],
      ['ACCESS_TOKEN_TTL', '12h', 'accessTokenTtlSeconds', 43_200],
      ['ACCESS_TOKEN_TTL', '30d', 'accessTokenTtlSeconds', 2_592_000],
      ['ACCESS_TOKEN_TTL', '2M', 'accessTokenTtlSeconds', 120],
      ['APPROVAL_GRANT_TTL', '90s', 'approvalGrantTtlSeconds', 90],
      ['APPROVAL_GRANT_TTL', ' 5m ', 'approvalGrantTtlSeconds', 300],
      ['CONSOLE_SESSION_IDLE_TTL', '30m', 'consoleSessionIdleSeconds', 1800],
      ['CONSOLE_SESSION_ABSOLUTE_TTL', '12h', 'consoleSessionAbsoluteSeconds', 43_200],
    ] as const)('reads %s=%j', (name, value, field, seconds) => {
      expect(loadConfig({ ...EXTERNAL, [name]: value })[field]).toBe(seconds);
    });

    it('drains the audit outbox every second and calls it behind after 30 s, unless told otherwise', () => {
      expect(loadConfig(EXTERNAL)).toMatchObject({ auditOutboxDrainIntervalSeconds: 1, auditOutboxMaxLagSeconds: 30 });
      expect(loadConfig({ ...EXTERNAL, AUDIT_OUTBOX_DRAIN_INTERVAL: '0', AUDIT_OUTBOX_MAX_LAG: '2m' })).toMatchObject({
        auditOutboxDrainIntervalSeconds: 0,
        auditOutboxMaxLagSeconds: 120,
      });
    });

    it.each(['0', '0s', 'soon', '-1s'])('refuses AUDIT_OUTBOX_MAX_LAG=%j: a lag of 0 would never be ready', (value) => {
      expect(problems({ ...EXTERNAL, AUDIT_OUTBOX_MAX_LAG: value })).toEqual([
        `AUDIT_OUTBOX_MAX_LAG: AUDIT_OUTBOX_MAX_LAG must be a duration of at least 1s, such as 30s`,
      ]);
    });

    it('refuses console session lifetimes out of their bounds', () => {
      expect(problems({ ...EXTERNAL, CONSOLE_SESSION_IDLE_TTL: '30s' })).toEqual(['CONSOLE_SESSION_IDLE_TTL must be between 1m and 1h']);
      expect(problems({ ...EXTERNAL, CONSOLE_SESSION_IDLE_TTL: '30m', CONSOLE_SESSION_ABSOLUTE_TTL: '20m' })).toEqual([
        'CONSOLE_SESSION_ABSOLUTE_TTL must be at least CONSOLE_SESSION_IDLE_TTL and at most 24h',
      ]);
      expect(problems({ ...EXTERNAL, CONSOLE_SESSION_ABSOLUTE_TTL: '2d' })).toEqual([
        'CONSOLE_SESSION_ABSOLUTE_TTL must be at least CONSOLE_SESSION_IDLE_TTL and at most 24h',
      ]);
    });

    it.each(['15 minutes', '-5m', '1.5h', '5w', 'm', '15m30s'])('refuses the duration %j', (value) => {
      expect(problems({ ...EXTERNAL, ACCESS_TOKEN_TTL: value })).toEqual([
        `ACCESS_TOKEN_TTL: ACCESS_TOKEN_TTL must be a duration such as 90, 90s, 15m, 12h or 30d (got "${value}")`,
      ]);
    });

    it.each([
      ['RATE_LIMIT_DEVICE_CODE_PER_IP', '20/1m', 'deviceCodePerIp', { limit: 20, windowSeconds: 60 }],
      ['RATE_LIMIT_DEVICE_CODE_PER_CLIENT', '1000/1h', 'deviceCodePerClient', { limit: 1000, windowSeconds: 3600 }],
      ['RATE_LIMIT_LOOKUP_PER_IP', '5/30s', 'lookupPerIp', { limit: 5, windowSeconds: 30 }],
      ['RATE_LIMIT_LOGIN_PER_IP', '3/90', 'loginPerIp', { limit: 3, windowSeconds: 90 }],
      ['RATE_LIMIT_APPROVAL_PER_IP', '100/1d', 'approvalPerIp', { limit: 100, windowSeconds: 86_400 }],
      ['RATE_LIMIT_FAILED_USER_CODES', '500/10m', 'failedUserCodes', { limit: 500, windowSeconds: 600 }],
    ] as const)('reads %s=%s', (name, value, field, expected) => {
      expect(loadConfig({ ...EXTERNAL, [name]: value }).rateLimits[field]).toEqual(expected);
    });

    it.each(['20', '20 per minute', '0/1m', '20/0s', '20/1m/1', '/1m', 'x/1m', '-1/1m', '1.5/1m'])('refuses the rate %j', (value) => {
      expect(problems({ ...EXTERNAL, RATE_LIMIT_LOGIN_PER_IP: value })).toEqual([
        `RATE_LIMIT_LOGIN_PER_IP: RATE_LIMIT_LOGIN_PER_IP must be a rate such as 20/1m (requests per window) (got "${value}")`,
      ]);
    });
  });

  describe('HTTP_ADAPTER', () => {
    it.each([
      [undefined, 'express'],
      ['express', 'express'],
      ['fastify', 'fastify'],
    ] as const)('reads %j as %j', (value, expected) => {
      expect(loadConfig({ ...EXTERNAL, HTTP_ADAPTER: value }).httpAdapter).toBe(expected);
    });

    it.each(['koa', 'Fastify', 'express,fastify'])('refuses %j', (value) => {
      expect(problems({ ...EXTERNAL, HTTP_ADAPTER: value })).toEqual(['HTTP_ADAPTER: HTTP_ADAPTER must be express or fastify']);
    });
  });

  describe('TRUST_PROXY', () => {
    it.each([
      [undefined, false],
      ['false', false],
      ['FALSE', false],
      ['true', true],
      ['True', true],
      ['0', 0],
      ['2', 2],
      ['10.0.0.0/8', ['10.0.0.0/8']],
      ['10.0.0.0/8, 192.168.1.1', ['10.0.0.0/8', '192.168.1.1']],
      ['::1,fd00::/8', ['::1', 'fd00::/8']],
    ] as const)('reads %j as %j', (value, expected) => {
      expect(loadConfig({ ...EXTERNAL, TRUST_PROXY: value }).trustProxy).toEqual(expected);
    });

    it.each(['yes', 'loopback', '10.0.0.0/8; rm -rf', 'proxy.internal'])('refuses %j', (value) => {
      expect(problems({ ...EXTERNAL, TRUST_PROXY: value })).toEqual([
        'TRUST_PROXY: TRUST_PROXY must be true, false, a hop count, or a comma-separated list of proxy addresses/CIDRs',
      ]);
    });
  });
});

describe('loadConfig: metrics and API docs', () => {
  it('keeps /metrics on the main port and serves /docs outside production', () => {
    const config = loadConfig({ ...EXTERNAL });
    expect(config).toMatchObject({ metricsPort: undefined, docsEnabled: true });
  });

  it('serves metrics on their own port (9464, on the host of the app) and no /docs in production', () => {
    const config = loadConfig(PRODUCTION);
    expect(config).toMatchObject({ metricsPort: 9464, metricsHost: '0.0.0.0', docsEnabled: false });
  });

  it('takes METRICS_PORT, METRICS_HOST and DOCS_ENABLED', () => {
    const config = loadConfig({ ...PRODUCTION, METRICS_PORT: '9100', METRICS_HOST: '10.0.0.5', DOCS_ENABLED: 'true' });
    expect(config).toMatchObject({ metricsPort: 9100, metricsHost: '10.0.0.5', docsEnabled: true });
    expect(loadConfig({ ...EXTERNAL, METRICS_PORT: '9100', DOCS_ENABLED: 'false' })).toMatchObject({ metricsPort: 9100, docsEnabled: false });
    expect(loadConfig({ ...EXTERNAL, HOST: '127.0.0.1', METRICS_PORT: '9100' }).metricsHost).toBe('127.0.0.1');
  });

  it('refuses a metrics port that is the public port, or not a port', () => {
    expect(problems({ ...PRODUCTION, PORT: '8080', METRICS_PORT: '8080' })).toEqual(['METRICS_PORT must differ from PORT: metrics stay off the public port']);
    expect(problems({ ...PRODUCTION, METRICS_PORT: '0' })).toEqual(['METRICS_PORT must be between 1 and 65535']);
    expect(problems({ ...PRODUCTION, METRICS_PORT: 'metrics' })).toEqual(['METRICS_PORT: METRICS_PORT must be a port number']);
    expect(problems({ ...PRODUCTION, DOCS_ENABLED: 'yes' })).toEqual(['DOCS_ENABLED: DOCS_ENABLED must be true or false (got "yes")']);
  });
});
