import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { type CliHome, TOKEN } from '../packages/device-login/src/test-support/cli-harness';
import { obtainToken, uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { useCliFixture } from './support/cli';
import { CLIENTS, type TestApp, USERS } from './support/test-app';

const mode = (path: string) => statSync(path).mode & 0o777;

/**
 * What a person does with a stored login, each command a child process
 * against a running devicegate: whoami, devices, token, logout; refresh
 * shared by concurrent commands; the credential file's permissions; no token
 * in any output unless asked (every run of the harness checks that).
 */
describe('devicegate CLI: the stored login', () => {
  const fixture = useCliFixture();
  const newHome = fixture.newHome;
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(() => ({ testApp, http } = fixture));

  /** A login of Alice through the CLI, approved as soon as it shows its code. */
  function logIn(home: CliHome, clientId: string = CLIENTS.fast, extra: string[] = [], printsToken = false) {
    const args = ['--issuer', testApp.baseUrl, '--client', clientId, '--label', uniqueLabel('cli'), ...extra];
    return home.logIn(args, (userCode) => http.approveAs(userCode, USERS.alice), { printsToken });
  }

  it('says who is logged in, lists and revokes devices, prints the token only when asked, and logs out for good', async () => {
    const home = newHome();
    await logIn(home);
    const accessToken = home.storedCredential().accessToken;
    const other = await obtainToken(http, { clientId: CLIENTS.cli, deviceLabel: uniqueLabel('other') });

    const whoami = await home.run(['whoami']);
    expect(whoami.code).toBe(0);
    expect(whoami.stdout).toContain(`Logged in to ${testApp.baseUrl} as ${USERS.alice.name} <${USERS.alice.email}>`);
    const whoamiJson = await home.run(['whoami', '--json']);
    expect(whoamiJson.json).toEqual([
      expect.objectContaining({
        email: USERS.alice.email,
        client_id: CLIENTS.fast,
        scopes: ['profile', 'read'],
        login: { issuer: testApp.baseUrl, client_id: CLIENTS.fast, profile: 'default', store: 'file' },
      }),
    ]);

    const devices = await home.run(['devices', '--json']);
    const listed = devices.json[0].authorizations as { id: string; current: boolean; client: { id: string } }[];
    const otherId = (await http.me(other.access_token)).body.authorization_id;
    expect(listed.find((entry) => entry.current)).toMatchObject({ id: whoamiJson.json[0].authorization_id, client: { id: CLIENTS.fast } });
    expect(listed.map((entry) => entry.id)).toContain(otherId);
    const table = await home.run(['devices']);
    expect(table.stdout).toMatch(/^ID +CLIENT +DEVICE +SCOPES +LAST USED +EXPIRES$/m);
    expect(table.stdout).toContain(`* ${whoamiJson.json[0].authorization_id}`);

    expect(await home.run(['devices', 'revoke', otherId, '--json'])).toMatchObject({ code: 0, json: [{ revoked: otherId, current: false }] });
    expect((await http.me(other.access_token)).status).toBe(401);
    expect(await home.run(['devices', 'revoke', otherId])).toMatchObject({ code: 6, stderr: expect.stringContaining('No such authorization') });

    const printed = await home.run(['token'], { printsToken: true });
    expect(printed).toMatchObject({ code: 0, stdout: `${accessToken}\n` });
    const shown = await home.run(['whoami', '--show-token'], { printsToken: true });
    expect(shown.stdout).toContain(accessToken);

    const logout = await home.run(['logout', '--json']);
    expect(logout).toMatchObject({ code: 0, json: [{ logged_out: true, issuer: testApp.baseUrl, revocation: 'revoked' }] });
    expect((await http.me(accessToken)).status).toBe(401);
    expect(home.credentialFiles()).toEqual([]);
    expect(await home.run(['whoami'])).toMatchObject({ code: 2, stderr: expect.stringContaining('Not logged in') });
    expect(await home.run(['logout'])).toMatchObject({ code: 2 });
  });

  it('refreshes an expired access token once for concurrent commands, storing the rotated refresh token', async () => {
    const home = newHome();
    await logIn(home, CLIENTS.refreshing);
    const [file] = home.credentialFiles();
    const before = home.storedCredential();
    expect(before.refreshToken).toMatch(/^dgrt_/);
    // As if the access token's lifetime had passed: every command must refresh first.
    const expired = { ...before, expiresAt: new Date(Date.now() - 1000).toISOString() };
    writeCredential(file, expired);

    const runs = await Promise.all([1, 2, 3].map(() => home.run(['whoami', '--json'])));

    expect(runs.map((run) => run.code)).toEqual([0, 0, 0]);
    const after = home.storedCredential();
    expect(after.refreshToken).toMatch(/^dgrt_/);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(mode(file)).toBe(0o600);
    // One refresh, not three: a second use of the same refresh token would have revoked the whole login.
    expect(new Set(runs.map((run) => run.json[0].authorization_id)).size).toBe(1);
    expect((await http.me(after.accessToken)).status).toBe(200);
    expect((await http.me(before.accessToken)).status).toBe(401);
    expect(await home.run(['whoami'])).toMatchObject({ code: 0 });
  });

  it('refuses a credential file other users can read (exit 8), and works again once it is 0600', async () => {
    const home = newHome();
    await logIn(home);
    const [file] = home.credentialFiles();
    chmodSync(file, 0o644);
    const refused = await home.run(['whoami']);
    expect(refused.code).toBe(8);
    expect(refused.stderr).toContain(`${file} has mode 0644, readable or writable by others`);
    expect(refused.stderr).toContain(`chmod 600 ${file}`);
    chmodSync(file, 0o600);
    expect(await home.run(['whoami'])).toMatchObject({ code: 0 });
  });

  it('prints no token in the output of login unless asked', async () => {
    const home = newHome();
    const quiet = await logIn(home);
    expect(quiet.stdout).not.toMatch(TOKEN);
    const shown = await logIn(home, CLIENTS.fast, ['--show-token'], true);
    expect(shown.json.at(-1)?.access_token).toMatch(/^dgat_/);
    expect(shown.json.at(-1)?.access_token).toBe(home.storedCredential().accessToken);
  });
});

function writeCredential(path: string, credential: unknown): void {
  // Written in place, so the file keeps its inode and its mode.
  writeFileSync(path, JSON.stringify(credential));
}
