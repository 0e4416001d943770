import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getMetadataStorage } from 'class-validator';
import { parse } from 'yaml';
import { EnvironmentVariables } from '../src/config/environment.dto';

const ROOT = join(__dirname, '..');
const read = (name: string) => readFileSync(join(ROOT, name), 'utf8');

interface Service {
  build?: string;
  image?: string;
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
}

const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
const { services } = compose;

/** Every variable the config loader validates, read from its class-validator metadata. */
const LOADER_VARIABLES = new Set(
  getMetadataStorage()
    .getTargetValidationMetadatas(EnvironmentVariables, '', true, false)
    .map((metadata) => metadata.propertyName),
);

/** The `${NAME}` references of a config file (interpolated by the loader from the environment), comments left out. */
function configReferences(path: string): string[] {
  const text = read(path)
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n');
  return [...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((match) => match[1]);
}

/** The compose file an operator starts: Postgres, Redis, the migrations, then devicegate. */
describe('docker-compose.yml', () => {
  it('has Postgres, Redis, a one-shot migrate service and devicegate, each with its health', () => {
    expect(Object.keys(services).sort()).toEqual(['devicegate', 'migrate', 'postgres', 'redis']);
    for (const name of ['postgres', 'redis', 'devicegate']) expect(services[name].healthcheck?.test.length).toBeGreaterThan(0);
    expect(services.devicegate.healthcheck?.test.join(' ')).toContain('/readyz');
  });

  it('runs the compiled migrations before the app, which waits for them to succeed', () => {
    expect(services.migrate.build).toBe('.');
    expect(services.migrate.command).toEqual(['node', 'dist/src/cli/migrate.js']);
    expect(existsSync(join(ROOT, 'src/cli/migrate.ts'))).toBe(true);
    expect(services.migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(services.migrate.environment?.DATABASE_URL).toBe(services.devicegate.environment?.DATABASE_URL);
    expect(services.devicegate.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      migrate: { condition: 'service_completed_successfully' },
    });
    expect(services.devicegate.environment?.MIGRATE_ON_BOOT).toBeUndefined();
  });

  it('sets only variables the config loader reads or the config file refers to, and every one the file needs', () => {
    const mounted = services.devicegate.volumes?.find((volume) => volume.endsWith(':/etc/devicegate/devicegate.yaml:ro'));
    const defaultFile = /^\$\{DEVICEGATE_CONFIG_FILE:-\.\/([^}]+)\}:/.exec(mounted ?? '')?.[1];
    expect(defaultFile).toBe('devicegate.example.yaml');
    const references = configReferences(defaultFile as string);
    expect(references).toEqual(['DEVICEGATE_ADMIN_PASSWORD_HASH']);

    const environment = services.devicegate.environment ?? {};
    expect(environment.DEVICEGATE_CONFIG).toBe('/etc/devicegate/devicegate.yaml');
    for (const name of Object.keys(environment)) {
      expect([name, LOADER_VARIABLES.has(name) || references.includes(name)]).toEqual([name, true]);
    }
    for (const name of references) expect(Object.keys(environment)).toContain(name);
    for (const name of ['NODE_ENV', 'PUBLIC_URL', 'DATABASE_URL', 'REDIS_URL', 'SECRET_KEYS']) expect(Object.keys(environment)).toContain(name);
    expect(Object.keys(services.migrate.environment ?? {}).every((name) => LOADER_VARIABLES.has(name))).toBe(true);
  });

  it('builds an image with npm ci that runs the compiled server as an unprivileged user', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).not.toMatch(/npm install/);
    expect(dockerfile).toMatch(/^RUN npm run build && npm prune --omit=dev$/m);
    // A numeric user, so a Kubernetes runAsNonRoot check can verify it without a runAsUser of its own.
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/src\/main\.js"\]$/m);
  });

  const composeAvailable = (() => {
    try {
      execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (composeAvailable) {
    it('passes docker compose config', () => {
      execFileSync('docker', ['compose', 'config', '--quiet'], {
        cwd: ROOT,
        env: { ...process.env, SECRET_KEYS: 'k1:x', DEVICEGATE_ADMIN_PASSWORD_HASH: 'scrypt$1' },
        stdio: 'pipe',
      });
    });
  }
});
