import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PAGE_STRINGS as T } from '../src/web/page-strings';
import { screenshot, useBrowser } from './support/browser';
import { queryDatabase } from './support/database';
import { expectOAuthError, type StartedFlow, startFlow, uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { CLIENTS, startTestApp, type TestApp, USERS } from './support/test-app';

const PENDING = { error: 'authorization_pending', error_description: 'The user has not yet approved or denied this device' };

/** A throwaway site on another port (another origin, same site): serves whatever page a test sets. */
async function startOtherSite(): Promise<{ url: string; serve(html: string): void; close(): Promise<void> }> {
  let html = '';
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    serve: (page) => (html = page),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** What another page cannot make the /device page do. */
describe('the /device page against hostile pages and forged requests', () => {
  const session = useBrowser();
  let testApp: TestApp;
  let http: DeviceGateHttp;
  let otherSite: Awaited<ReturnType<typeof startOtherSite>>;

  beforeAll(async () => {
    [testApp, otherSite] = await Promise.all([startTestApp(), startOtherSite()]);
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(async () => {
    await otherSite?.close();
    await testApp?.close();
  });

  /** Nothing happened to the code: no decision recorded, no token, and the device still waits. */
  async function expectUntouched(started: StartedFlow, label: string) {
    const decisions = await queryDatabase(`SELECT type FROM audit_events WHERE device_label = $1 AND type IN ('device.approved', 'device.denied')`, [label]);
    expect(decisions).toEqual([]);
    expect(await queryDatabase('SELECT id FROM access_tokens WHERE device_label = $1', [label])).toEqual([]);
    expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, PENDING);
  }

  it('cannot be framed by another site: the frame stays empty', async () => {
    const { page } = session;
    const started = await startFlow(http, CLIENTS.cli);
    const framed = `${testApp.baseUrl}/device?user_code=${started.user_code}`;
    otherSite.serve(`<!doctype html><title>Win a prize</title><h1>Click the big button</h1><iframe id="victim" src="${framed}" width="600" height="500"></iframe>`);
    const answered = page.waitForResponse((response) => response.url() === framed);
    const refused = page.waitForEvent('console', (message) => message.text().includes("frame-ancestors 'none'"));

    await page.goto(otherSite.url);

    expect((await answered).status()).toBe(200);
    await refused;
    const frame = page.frames().find((candidate) => candidate !== page.mainFrame());
    expect(frame).toBeDefined();
    await expect(frame?.locator('#enter-title').count()).resolves.toBe(0);
    expect(frame?.url()).not.toBe(framed);
    await screenshot(page, 'framed-by-another-site');
    // Chromium's refusal is the one expected problem of this test.
    expect(session.problems.every((problem) => problem.includes("frame-ancestors 'none'"))).toBe(true);
    session.problems.length = 0;
  });

  it("refuses another site's forged approval of a signed-in person's code, and that person can still decide", async () => {
    const { page } = session;
    const label = uniqueLabel('victim');
    const started = await startFlow(http, CLIENTS.cli, { device_label: label });
    await page.goto(`${testApp.baseUrl}/device?user_code=${started.user_code}`);
    await page.getByRole('button', { name: T.continueButton, exact: true }).click();
    await page.getByLabel(T.usernameLabel, { exact: true }).fill(USERS.alice.username);
    await page.getByLabel(T.passwordLabel, { exact: true }).fill(USERS.alice.password);
    await page.getByRole('button', { name: T.signInButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.consentTitle, exact: true }).waitFor();

    // The same browser (it holds the approval-grant cookie) visits another site that tries everything it can.
    const attacker = await session.context.newPage();
    otherSite.serve(`<!doctype html><title>Totally harmless</title>
<form method="post" action="${testApp.baseUrl}/oauth/device/approve"><input name="user_code" value="${started.user_code}"></form>
<script>
  const target = '${testApp.baseUrl}/oauth/device';
  const attempt = (promise) => promise.then((response) => 'read ' + response.status, (error) => 'blocked: ' + error.name);
  window.attempts = Promise.all([
    attempt(fetch(target + '/approval-context', { credentials: 'include' })),
    attempt(fetch(target + '/approve', {
      method: 'POST', credentials: 'include',
      headers: { 'content-type': 'application/json', 'x-csrf-token': 'guessed' },
      body: JSON.stringify({ user_code: '${started.user_code}' }),
    })),
  ]);
</script>`);
    await attacker.goto(otherSite.url);
    await expect(attacker.evaluate('window.attempts')).resolves.toEqual(['blocked: TypeError', 'blocked: TypeError']);
    const [forged] = await Promise.all([
      attacker.waitForResponse(`${testApp.baseUrl}/oauth/device/approve`),
      attacker.evaluate('document.forms[0].submit()'),
    ]);
    expect({ status: forged.status(), body: await forged.json() }).toEqual({
      status: 403,
      body: { error: 'invalid_csrf_token', error_description: 'The X-CSRF-Token header is missing or wrong; reload the page' },
    });
    await expectUntouched(started, label);

    // None of it used the person's sign-in up: their own click still decides.
    await page.bringToFront();
    await page.getByRole('button', { name: T.approveButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.approvedTitle, exact: true }).waitFor();
    testApp.clock.advance(started.interval * 1000);
    expect((await http.poll(CLIENTS.cli, started.device_code)).status).toBe(200);
  });

  it('a refused decision (no X-CSRF-Token, a wrong one, the cookie of another code) records nothing and uses nothing up', async () => {
    const label = uniqueLabel('target');
    const mine = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel('mine') });
    const target = await startFlow(http, CLIENTS.cli, { device_label: label });
    const cookie = await http.signIn(target.user_code, USERS.alice);
    const { csrf_token: csrf } = (await http.approvalContext(cookie)).body;
    const otherCookie = await http.signIn(mine.user_code, USERS.bob);
    const otherCsrf = (await http.approvalContext(otherCookie)).body.csrf_token;

    const refused = [
      await http.decide('approve', cookie, undefined, target.user_code),
      await http.decide('approve', cookie, otherCsrf, target.user_code),
      await http.decide('deny', cookie, `${csrf}x`, target.user_code),
      await http.decide('approve', otherCookie, otherCsrf, target.user_code),
      await http.decide('deny', otherCookie, otherCsrf, target.user_code),
    ];

    expect(refused.map((reply) => [reply.status, reply.body.error])).toEqual([
      [403, 'invalid_csrf_token'],
      [403, 'invalid_csrf_token'],
      [403, 'invalid_csrf_token'],
      [400, 'invalid_request'],
      [400, 'invalid_request'],
    ]);
    for (const reply of refused) expect(reply.headers.getSetCookie()).toEqual([]);
    await expectUntouched(target, label);
    expect((await http.decide('approve', cookie, csrf, target.user_code)).body).toEqual({ status: 'approved' });
    expect((await http.decide('deny', otherCookie, otherCsrf, mine.user_code)).body).toEqual({ status: 'denied' });
    const decisions = await queryDatabase(`SELECT type, actor_email FROM audit_events WHERE device_label = $1 AND type IN ('device.approved', 'device.denied')`, [label]);
    expect(decisions).toEqual([{ type: 'device.approved', actor_email: USERS.alice.email }]);
  });
});
