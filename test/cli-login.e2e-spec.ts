import { statSync } from 'node:fs';
import { PollRaceProxy } from '../packages/device-login/src/test-support/poll-race-proxy';
import { uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { useCliFixture } from './support/cli';
import { CLIENTS, type TestApp, USERS } from './support/test-app';

const mode = (path: string) => statSync(path).mode & 0o777;

/**
 * `devicegate login` as a child process against a running devicegate: the
 * device flow approved (or denied) through the local connector while the CLI
 * waits, slow_down honoured to the millisecond, and the code's expiry.
 */
describe('devicegate CLI: login', () => {
  const fixture = useCliFixture();
  const newHome = fixture.newHome;
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(() => ({ testApp, http } = fixture));

  it('logs in while the person approves, handling slow_down exactly, and keeps the token in a 0600 file in 0700 folders', async () => {
    const proxy = await PollRaceProxy.start(testApp.baseUrl);
    try {
      const home = newHome();
      const label = uniqueLabel('laptop');
      const cli = home.start(['login', '--issuer', proxy.url, '--client', CLIENTS.fast, '--label', label, '--json']);
      const code = await cli.waitForJson((line) => line.event === 'code');
      expect(code).toEqual({
        event: 'code',
        user_code: expect.stringMatching(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/),
        verification_uri: `${testApp.baseUrl}/device`,
        verification_uri_complete: `${testApp.baseUrl}/device?user_code=${code.user_code}`,
        expires_in: 600,
        interval: 1,
        browser_opened: false,
      });
      // Approve only after the device was told to slow down, so that the proxy's own poll cannot collect the token.
      await proxy.slowDownAnswered;
      await http.approveAs(code.user_code, USERS.alice);
      const run = await cli.exited;

      expect(run.code).toBe(0);
      expect(run.json.map((line) => line.event)).toEqual(['code', 'slow_down', ...run.json.slice(2, -1).map(() => 'pending'), 'logged_in']);
      expect(run.json[1]).toEqual({ event: 'slow_down', interval: 6 });
      expect(run.json.at(-1)).toEqual({
        event: 'logged_in',
        issuer: proxy.url,
        client_id: CLIENTS.fast,
        profile: 'default',
        user: { sub: expect.any(String), email: USERS.alice.email, name: USERS.alice.name, organization: null, authorizationId: expect.any(String) },
        device_label: label,
        scope: ['profile', 'read'],
        expires_at: expect.any(String),
        refreshable: false,
        store: { kind: 'file', location: home.credentialsDirectory },
      });
      // RFC 8628 §3.5, timed where the server sees it: the first poll a full interval after the codes, the ones after
      // slow_down a full 6 s after that answer went out.
      const [first, ...later] = proxy.polls;
      expect(first).toMatchObject({ error: 'slow_down', interval: 6 });
      expect(first.receivedAt - (proxy.codesAnsweredAt as number)).toBeGreaterThanOrEqual(1000);
      later.forEach((poll, index) => {
        const previous = proxy.polls[index];
        expect(poll.receivedAt - previous.answeredAt).toBeGreaterThanOrEqual(6000);
      });
      expect(later.at(-1)).toMatchObject({ status: 200 });

      const [file] = home.credentialFiles();
      expect(home.credentialFiles()).toHaveLength(1);
      expect({ file: mode(file), credentials: mode(home.credentialsDirectory), config: mode(home.configDirectory) }).toEqual({
        file: 0o600,
        credentials: 0o700,
        config: 0o700,
      });
      const credential = home.storedCredential();
      expect(credential).toMatchObject({ issuer: proxy.url, clientId: CLIENTS.fast, accessToken: expect.stringMatching(/^dgat_/) });
      expect((await http.me(credential.accessToken)).body).toMatchObject({ email: USERS.alice.email, device_label: label });
    } finally {
      await proxy.close();
    }
  });

  it('exits 3 when the person denies the login, and stores nothing', async () => {
    const home = newHome();
    const cli = home.start(['login', '--issuer', testApp.baseUrl, '--client', CLIENTS.fast, '--label', uniqueLabel('denied')]);
    const [, userCode] = await cli.waitForStdout(/enter the code: +([A-Z]{4}-[A-Z]{4})/);
    await http.approveAs(userCode, USERS.bob, 'deny');
    const run = await cli.exited;
    expect(run.code).toBe(3);
    expect(run.stdout).toContain(`and enter the code:  ${userCode}`);
    expect(run.stdout).toContain('Waiting for approval (checking every 1 s; the code expires in 10:00)');
    expect(run.stderr).toBe('✗ The login was denied on the approval page. Nothing was stored.\n');
    expect(home.credentialFiles()).toEqual([]);
  });

  it('exits 4 when the code expires while it waits', async () => {
    const home = newHome();
    const cli = home.start(['login', '--issuer', testApp.baseUrl, '--client', CLIENTS.shortLived, '--json']);
    const code = await cli.waitForJson((line) => line.event === 'code');
    expect(code).toMatchObject({ expires_in: 60, interval: 2 });
    testApp.clock.advance(61_000);
    const run = await cli.exited;
    expect(run.code).toBe(4);
    expect(JSON.parse(run.stderr)).toEqual({
      error: 'expired_token',
      message: 'The code expired before it was approved. Nothing was stored.',
      exit_code: 4,
      hint: 'Run "devicegate login" again for a new code.',
    });
    expect(home.credentialFiles()).toEqual([]);
  });
});
