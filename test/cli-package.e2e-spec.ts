import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PACKAGE = join(__dirname, '..', 'packages', 'device-login');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The CLI as someone outside this repository gets it: a packed @devicegate/device-login, run with npx. */
describe('the devicegate CLI package', () => {
  let folder: string;
  let tarball: string;
  const run = (args: string[], cwd: string) =>
    execFileSync(NPM, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_cache: join(folder, 'npm-cache'), npm_config_update_notifier: 'false' } });

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'devicegate-cli-package-'));
    // npm pack runs the package's prepare script, which compiles it to JavaScript.
    const [packed] = JSON.parse(run(['pack', '--json', '--pack-destination', folder], PACKAGE)) as { filename: string; files: { path: string }[] }[];
    tarball = join(folder, packed.filename);
    expect(packed.files.map((file) => file.path)).toEqual(expect.arrayContaining(['dist/cli/main.js', 'dist/index.js', 'dist/index.d.ts', 'package.json']));
    expect(packed.files.some((file) => file.path.endsWith('.ts') && !file.path.endsWith('.d.ts'))).toBe(false);
  }, 120_000);

  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('ships compiled JavaScript with a node shebang as its bin', () => {
    const manifest = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
    expect(manifest.bin).toEqual({ devicegate: 'dist/cli/main.js' });
    expect(manifest.scripts.prepare).toBe('npm run build');
    expect(readFileSync(join(PACKAGE, 'dist', 'cli', 'main.js'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('runs with npx from the packed tarball, offline', () => {
    const output = run(['exec', '--offline', '--yes', `--package=${tarball}`, '--', 'devicegate', '--help'], folder);
    expect(output.split('\n')[0]).toBe('devicegate 0.1.0: log in to a devicegate server from a terminal (OAuth 2.0 device flow)');
    expect(output).toContain('devicegate login --issuer URL');
  }, 60_000);
});
