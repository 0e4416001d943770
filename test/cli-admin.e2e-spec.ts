import type { CliHome } from '../packages/device-login/src/test-support/cli-harness';
import { uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { useCliFixture } from './support/cli';
import { CLIENTS, freePort, type TestApp, USERS } from './support/test-app';

const AUDITOR = 'cli-auditor';

/** The CLI's admin commands (audit export and verify, OAuth clients), and how it fails: usage, not logged in, unreachable. */
describe('devicegate CLI: admin commands and failures', () => {
  const fixture = useCliFixture({
    configure: (file) => {
      file.clients.push({ client_id: AUDITOR, name: 'CLI Auditor', type: 'public', scopes: ['audit:read', 'profile'], poll_interval: 1 });
    },
  });
  const newHome = fixture.newHome;
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(() => ({ testApp, http } = fixture));

  async function logIn(home: CliHome, clientId: string, scope?: string): Promise<void> {
    const args = ['login', '--issuer', testApp.baseUrl, '--client', clientId, '--label', uniqueLabel('admin'), '--json'];
    const cli = home.start(scope ? [...args, '--scope', scope] : args);
    const code = await cli.waitForJson((line) => line.event === 'code');
    await http.approveAs(code.user_code, USERS.alice);
    expect(await cli.exited).toMatchObject({ code: 0 });
  }

  it('exports audit events as NDJSON with filters and verifies the chain, with a login that has audit:read', async () => {
    const home = newHome();
    await logIn(home, AUDITOR, 'audit:read profile');

    const all = await home.run(['audit', 'export', '--since', '1h', '--filter-client', AUDITOR]);
    expect(all.code).toBe(0);
    const events = all.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['device_code.issued', 'device.approved', 'token.minted']));
    expect(events.every((event) => event.client_id === AUDITOR)).toBe(true);
    expect(all.stderr).toBe(`Exported ${events.length} audit events.\n`);

    const approvals = await home.run(['audit', 'export', '--type', 'device.approved', '--filter-client', AUDITOR, '--since', new Date(Date.now() - 3600_000).toISOString()]);
    expect(approvals.json.map((event) => [event.type, event.actor.email])).toEqual([['device.approved', USERS.alice.email]]);

    const verify = await home.run(['audit', 'verify', '--json']);
    expect(verify).toMatchObject({ code: 0, json: [{ ok: true, seals: expect.any(Number), events: expect.any(Number) }] });
    expect((await home.run(['audit', 'verify'])).stdout).toMatch(/^✓ Audit chain intact: \d+ seals over \d+ events\.$/m);
  });

  it('says which scope is missing when the login lacks audit:read (exit 6)', async () => {
    const home = newHome();
    await logIn(home, CLIENTS.fast);
    const refused = await home.run(['audit', 'export', '--since', '1h']);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toBe(
      '✗ This resource needs the scope audit:read.\n  Log in with it: devicegate login --scope "audit:read" (with a client allowed it).\n',
    );
    expect(refused.stdout).toBe('');
    expect(await home.run(['audit', 'export', '--since', 'yesterday'])).toMatchObject({ code: 1 });
  });

  it('manages OAuth clients with an admin login: create (a confidential secret shown once), list, disable, enable', async () => {
    const home = newHome();
    await logIn(home, CLIENTS.admin, 'admin');
    const clientId = uniqueLabel('deploy-tool');

    const created = await home.run(['clients', 'create', '--name', 'Deploy Tool', '--id', clientId, '--scopes', 'profile read', '--default-scopes', 'profile', '--json']);
    expect(created).toMatchObject({ code: 0, json: [{ client_id: clientId, type: 'public', source: 'database', enabled: true, scopes: ['profile', 'read'] }] });
    expect(created.json[0].client_secret).toBeUndefined();

    const listed = await home.run(['clients', 'list', '--json']);
    const clients = listed.json[0].clients as { client_id: string; source: string }[];
    expect(clients.find((client) => client.client_id === clientId)).toMatchObject({ source: 'database' });
    expect(clients.find((client) => client.client_id === CLIENTS.fast)).toMatchObject({ source: 'config' });
    expect((await home.run(['clients', 'list'])).stdout).toMatch(/^CLIENT ID +NAME +TYPE +SOURCE +ENABLED +GRANTS +SCOPES$/m);

    expect(await home.run(['clients', 'disable', clientId])).toMatchObject({ code: 0, stdout: `Disabled client ${clientId}.\n` });
    expect((await http.deviceCode(clientId)).status).toBe(401);
    expect(await home.run(['clients', 'enable', clientId])).toMatchObject({ code: 0 });
    expect((await http.deviceCode(clientId)).status).toBe(200);
    const configured = await home.run(['clients', 'disable', CLIENTS.fast]);
    expect(configured).toMatchObject({ code: 6, stderr: expect.stringContaining(`Client ${CLIENTS.fast} comes from the config file; change it there`) });

    const confidential = await home.run(['clients', 'create', '--name', 'Build Agent', '--type', 'confidential', '--scopes', 'read']);
    expect(confidential.code).toBe(0);
    const [, id] = /Registered confidential client (\S+) \(Build Agent\)\./.exec(confidential.stdout) ?? [];
    const [, secret] = /client secret: (\S+)/.exec(confidential.stdout) ?? [];
    expect(confidential.stdout).toContain('It is shown this once');
    expect((await http.deviceCode(id, { client_secret: secret })).status).toBe(200);
  });

  it('says which scope the clients commands need when the login lacks admin (exit 6)', async () => {
    const home = newHome();
    await logIn(home, CLIENTS.fast);
    const refused = await home.run(['clients', 'list']);
    expect(refused).toMatchObject({ code: 6, stderr: expect.stringContaining('Log in with it: devicegate login --scope "admin"') });
    expect(await home.run(['clients', 'create', '--scopes', 'read'])).toMatchObject({ code: 1, stderr: expect.stringContaining('--name') });
    expect(await home.run(['clients'])).toMatchObject({ code: 1 });
  });

  it('exits 1 on bad usage, 2 when not logged in, 5 when the server cannot be reached, 6 for an unknown client', async () => {
    const home = newHome();
    expect(await home.run(['frobnicate'])).toMatchObject({ code: 1, stderr: expect.stringContaining('Unknown command "frobnicate"') });
    expect(await home.run(['whoami', '--label', 'x'])).toMatchObject({ code: 1, stderr: expect.stringContaining('whoami takes no --label') });
    expect(await home.run(['login'])).toMatchObject({ code: 1, stderr: expect.stringContaining('--issuer') });
    expect(await home.run(['login', '--issuer', 'http://example.com'])).toMatchObject({ code: 1, stderr: expect.stringContaining('must use https') });
    expect(await home.run(['devices'])).toMatchObject({ code: 2 });
    expect(await home.run(['token', '--json'])).toMatchObject({ code: 2, stderr: expect.stringContaining('"error":"not_logged_in"') });
    const closed = `http://127.0.0.1:${await freePort()}`;
    expect(await home.run(['login', '--issuer', closed, '--no-browser'])).toMatchObject({ code: 5, stderr: expect.stringContaining('ECONNREFUSED') });
    const unknown = await home.run(['login', '--issuer', testApp.baseUrl, '--client', 'no-such-client']);
    expect(unknown.code).toBe(6);
    expect(unknown.stderr).toContain('The server refused client no-such-client');
    expect((await home.run(['--help'])).stdout).toContain('Exit codes:');
  });
});
