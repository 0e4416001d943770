import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { encodeQr } from '../qr/qr-code';
import { renderQr } from '../qr/qr-terminal';
import { DEVICE_CODES, FakeAuthorizationServer, FakeClock, ISSUER, pending, slowDown, tokens } from '../test-support/fake-authorization-server';
import type { BrowserCommand } from './browser';
import { runCli } from './cli';

class Capture extends Writable {
  text = '';

  constructor(readonly isTTY = false) {
    super();
  }

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const ME = { sub: 's', email: 'alice@example.com', name: 'Alice', organization: null, client_id: 'acme-cli', device_label: 'laptop', scopes: ['profile'], authorization_id: 'a-1', expires_at: '2030-01-01T00:00:00.000Z' };

describe('devicegate CLI (in process)', () => {
  let home: string;
  let server: FakeAuthorizationServer;
  let launched: BrowserCommand[];

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'cli-spec-'));
    server = new FakeAuthorizationServer();
    server.on('POST /oauth/device/code', { status: 200, body: DEVICE_CODES });
    server.on('GET /v1/me', { status: 200, body: ME });
    launched = [];
  });

  afterEach(() => rmSync(home, { recursive: true, force: true }));

  async function cli(argv: string[], options: { tty?: boolean; env?: Record<string, string> } = {}) {
    const stdout = new Capture(options.tty);
    const stderr = new Capture(options.tty);
    const code = await runCli(argv, {
      stdout,
      stderr,
      env: { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), DEVICEGATE_CREDENTIAL_STORE: 'file', ...options.env },
      platform: 'linux',
      signal: new AbortController().signal,
      fetch: server.fetch,
      clock: new FakeClock(),
      launchBrowser: (command) => launched.push(command) > 0,
    });
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  it('logs in on a plain output: code, page, QR code on request, progress lines, the result, and no token', async () => {
    server.on('POST /oauth/token', pending, slowDown(10), tokens());
    const run = await cli(['login', '--issuer', ISSUER, '--client', 'acme-cli', '--label', 'laptop', '--qr']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(
      [
        `To log in to ${ISSUER}, open this page on a device you trust:`,
        '',
        `    ${ISSUER}/device`,
        '',
        'and enter the code:  BCDF-GHJK',
        '',
        'Or scan this with your phone (the page opens with the code filled in; check it matches):',
        '',
        renderQr(encodeQr(`${ISSUER}/device?user_code=BCDF-GHJK`)),
        '',
        'Waiting for approval (checking every 5 s; the code expires in 10:00)…',
        'The server asked to slow down: checking every 10 s.',
        `✓ Logged in to ${ISSUER} as Alice <alice@example.com>.`,
        '  device laptop · scopes profile read · token expires ' + run.stdout.match(/token expires (\S+)/)?.[1],
        `  Stored in ${join(home, 'config', 'devicegate', 'credentials')}.`,
        '',
      ].join('\n'),
    );
    expect(launched).toEqual([]);
    expect(JSON.parse(readFileSync(join(home, 'config', 'devicegate', 'config.json'), 'utf8'))).toEqual({
      version: 1,
      profiles: { default: { issuer: ISSUER, client_id: 'acme-cli' } },
    });
    // Later commands find the login without --issuer.
    expect(await cli(['whoami', '--json'])).toMatchObject({ code: 0 });
  });

  it('on a terminal with a display: opens the browser at the complete URL and paints the QR code black on white', async () => {
    server.on('POST /oauth/token', tokens());
    const run = await cli(['login', '--issuer', ISSUER, '--client', 'acme-cli'], { tty: true, env: { DISPLAY: ':0', TERM: 'xterm' } });
    expect(run.code).toBe(0);
    expect(launched).toEqual([{ command: 'xdg-open', args: [`${ISSUER}/device?user_code=BCDF-GHJK`] }]);
    expect(run.stdout).toContain('\u001b[30;107m');
    expect(run.stdout).toContain('check that it shows the same code');
    const again = await cli(['login', '--issuer', ISSUER, '--client', 'acme-cli', '--no-browser', '--no-qr'], { tty: true, env: { DISPLAY: ':0' } });
    expect(again.code).toBe(0);
    expect(launched).toHaveLength(1);
    expect(again.stdout).not.toContain('\u001b[30;107m');
  });

  it('reports a denial (3) and an expiry (4) as JSON on stderr with --json', async () => {
    server.on('POST /oauth/token', { status: 400, body: { error: 'access_denied' } });
    const denied = await cli(['login', '--issuer', ISSUER, '--json']);
    expect(denied.code).toBe(3);
    expect(JSON.parse(denied.stderr)).toMatchObject({ error: 'access_denied', exit_code: 3 });
    expect(JSON.parse(denied.stdout.split('\n')[0])).toMatchObject({ event: 'code', user_code: 'BCDF-GHJK' });
    server.on('POST /oauth/token', { status: 400, body: { error: 'expired_token' } });
    expect(await cli(['login', '--issuer', ISSUER, '--json'])).toMatchObject({ code: 4 });
  });

  it('exits 9 when audit verify finds the chain broken', async () => {
    server.on('POST /oauth/token', tokens());
    await cli(['login', '--issuer', ISSUER]);
    server.on('GET /v1/audit/verify', { status: 200, body: { ok: false, break: { seal_seq: 4, event_id: '812', reason: 'event_altered' } } });
    const run = await cli(['audit', 'verify']);
    expect(run).toEqual({ code: 9, stdout: '', stderr: '✗ Audit chain broken at seal 4, event 812: event_altered\n' });
  });

  it('exits 7 when the server has no admin API for clients (an older devicegate)', async () => {
    server.on('POST /oauth/token', tokens());
    await cli(['login', '--issuer', ISSUER]);
    server.on('GET /v1/admin/clients', { status: 404, body: { error: 'not_found', error_description: 'No such endpoint' } });
    const run = await cli(['clients', 'list', '--json']);
    expect(run.code).toBe(7);
    expect(JSON.parse(run.stderr)).toMatchObject({ error: 'not_available', message: '/v1/admin/clients is not available on this server (an older devicegate?)' });
  });

  it('builds the client to register from the options', async () => {
    server.on('POST /oauth/token', tokens());
    await cli(['login', '--issuer', ISSUER]);
    server.on('POST /v1/admin/clients', (request) => ({ status: 201, body: { ...JSON.parse(request.body), client_id: 'dgc_x', source: 'database', enabled: true, client_secret: 's3cret' } }));
    const run = await cli(['clients', 'create', '--name', 'Agent', '--type', 'confidential', '--scopes', 'read,write', '--grant-types', 'device_code refresh_token', '--poll-interval', '2', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(server.calls('POST /v1/admin/clients')[0].body)).toEqual({
      name: 'Agent',
      type: 'confidential',
      scopes: ['read', 'write'],
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      poll_interval: 2,
    });
    expect(server.calls('POST /v1/admin/clients')[0].headers.get('content-type')).toBe('application/json');
    expect(await cli(['clients', 'create', '--name', 'x', '--grant-types', 'password'])).toMatchObject({ code: 1 });
    expect(await cli(['clients', 'create', '--name', 'x', '--type', 'secret'])).toMatchObject({ code: 1 });
  });

  it('refuses bad usage with exit 1', async () => {
    expect(await cli(['login', '--issuer'])).toMatchObject({ code: 1 });
    expect(await cli(['devices', 'revoke'])).toMatchObject({ code: 1, stderr: expect.stringContaining('devicegate devices revoke <ID>') });
    expect(await cli(['clients', 'disable'])).toMatchObject({ code: 1, stderr: expect.stringContaining('devicegate clients disable <CLIENT_ID>') });
    expect(await cli(['clients', 'delete', 'x'])).toMatchObject({ code: 1 });
    expect(await cli(['whoami', 'extra'])).toMatchObject({ code: 1 });
    expect(await cli(['audit'])).toMatchObject({ code: 1 });
    expect(await cli(['login', '--issuer', ISSUER, '--label', ''])).toMatchObject({ code: 1, stderr: expect.stringContaining('--label') });
    expect(await cli(['help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage:') });
    expect(await cli(['--version'])).toMatchObject({ code: 0, stdout: 'devicegate 0.1.0\n' });
  });
});
