import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerProcess, SOURCE_MAIN, spawnServer } from './support/server-process';
import { freePort } from './support/test-app';

/** A fresh process transpiles the app and PGlite runs initdb: a few seconds, more on a busy machine. */
const BOOT_TIMEOUT_MS = 90_000;

/** `npm start` on a fresh checkout: what a person reads in the terminal. */
describe('dev mode logs (node src/main.ts, embedded)', () => {
  let folder: string;
  let server: ServerProcess;
  let baseUrl: string;
  let exitCode: number | null;
  let bootLines: string[];

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'devicegate-dev-logs-'));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    server = spawnServer(SOURCE_MAIN, { DATA_DIR: join(folder, 'data'), PORT: String(port), LOG_LEVEL: 'info' });
    await server.waitForLine(/API docs:/, BOOT_TIMEOUT_MS);
    bootLines = [...server.stdout];
  }, BOOT_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('writes lines for people, not JSON, and none per route', () => {
    expect(bootLines.filter((line) => line.trimStart().startsWith('{'))).toEqual([]);
    expect(bootLines.join('\n')).not.toMatch(/Mapped \{|RouterExplorer|RoutesResolver|InstanceLoader/);
    expect(bootLines.filter((line) => /^\[\d\d:\d\d:\d\d\] INFO/.test(line)).length).toBeLessThan(12);
  });

  it('says where it listens, then prints the banner last', () => {
    const listening = bootLines.findIndex((line) => line.includes(`INFO: listening on ${baseUrl}`));
    const banner = bootLines.findIndex((line) => line.includes('devicegate is running in DEV MODE'));
    expect(listening).toBeGreaterThan(-1);
    expect(banner).toBeGreaterThan(listening);
    expect(bootLines.slice(banner).filter((line) => /^\[\d\d:\d\d:\d\d\]/.test(line))).toEqual([]);
    expect(bootLines.filter(Boolean).at(-1)).toContain('API docs:');
  });

  it('logs one short line per request; /favicon.ico is an icon', async () => {
    const before = server.stdout.length;
    const response = await fetch(`${baseUrl}/favicon.ico`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/x-icon');
    const icon = Buffer.from(await response.arrayBuffer());
    // ICONDIR: reserved 0, type 1 (icon), one image.
    expect([...icon.subarray(0, 6)]).toEqual([0, 0, 1, 0, 1, 0]);
    const line = await server.waitForLine(/GET \/favicon\.ico 200/, 10_000);
    expect(line).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: GET \/favicon\.ico 200 [\d.]+ ms$/);
    expect(server.stdout.slice(before).filter(Boolean)).toEqual([line]);
  });

  it('on SIGTERM says it drains, then that it stopped, and exits 0', async () => {
    exitCode = await server.stop();
    const tail = server.stdout.filter(Boolean).slice(-2);
    expect(tail[0]).toMatch(/INFO: SIGTERM received: draining in-flight requests, then closing Postgres and Redis$/);
    expect(tail[1]).toMatch(/INFO: stopped$/);
    expect(exitCode).toBe(0);
  });
});
