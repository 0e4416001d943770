import type { Page } from 'playwright-core';
import { PAGE_STRINGS as T } from '../src/web/page-strings';
import { accessibilityProblems, focusedId, pollInBackground, screenshot, useBrowser } from './support/browser';
import { expectOAuthError, type StartedFlow, startFlow, uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { CLIENTS, startTestApp, type TestApp, USERS } from './support/test-app';

const DEVICE_AGENT = 'mycli/2.4.0 (linux; x64)';
/** The device's address as a trusted proxy reports it; the browser itself comes from 127.0.0.1. */
const REMOTE_DEVICE_IP = '203.0.113.9';
const LOOKUPS_PER_IP = 30;

/** The /device page in Chromium, signing in through the local connector while a device polls. */
describe('the /device page with the local connector (browser)', () => {
  const session = useBrowser();
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    testApp = await startTestApp({ env: { TRUST_PROXY: 'true', RATE_LIMIT_LOOKUP_PER_IP: `${LOOKUPS_PER_IP}/1m` } });
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp?.close());

  function startDevice(headers: Record<string, string> = {}, label = uniqueLabel('build-agent')): Promise<StartedFlow> {
    return startFlow(http, CLIENTS.fast, { scope: 'profile read', device_label: label }, { 'user-agent': DEVICE_AGENT, ...headers });
  }

  const visibleText = (page: Page, id: string) => page.locator(`#${id}`).innerText();

  async function enterCode(page: Page, typed: string) {
    await page.goto(`${testApp.baseUrl}/device`);
    await page.getByLabel(T.codeLabel, { exact: true }).fill(typed);
    await page.getByRole('button', { name: T.continueButton, exact: true }).click();
  }

  async function signIn(page: Page, user: { username: string; password: string } = USERS.alice) {
    await page.getByLabel(T.usernameLabel, { exact: true }).fill(user.username);
    await page.getByLabel(T.passwordLabel, { exact: true }).fill(user.password);
    await page.getByRole('button', { name: T.signInButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.consentTitle, exact: true }).waitFor();
  }

  async function toConsent(page: Page, started: StartedFlow) {
    await enterCode(page, started.user_code);
    await signIn(page);
  }

  it('runs the whole journey by keyboard from the link; the polling device gets its token only after Approve', async () => {
    const { page } = session;
    const label = uniqueLabel('build-agent');
    const started = await startDevice({}, label);
    const device = pollInBackground(http, CLIENTS.fast, started);
    const decisions: string[] = [];
    page.on('request', (request) => {
      if (/\/oauth\/device\/(approve|deny)$/.test(request.url())) decisions.push(request.url());
    });

    await page.goto(started.verification_uri_complete);

    // 1. The link only fills the code in, and says so; the cursor is in the field.
    await expect(page.getByLabel(T.codeLabel, { exact: true }).inputValue()).resolves.toBe(started.user_code);
    await expect(visibleText(page, 'prefill-notice')).resolves.toBe(T.prefillNotice);
    await expect(page.getByText(T.cautionLead).isVisible()).resolves.toBe(true);
    await expect(page.getByLabel(T.usernameLabel, { exact: true }).isVisible()).resolves.toBe(false);
    expect(await focusedId(page)).toBe('user_code');
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, '01-enter-code');

    // 2. Enter checks the code and shows what it is for before anyone signs in.
    await page.keyboard.press('Enter');
    await page.locator('#code-summary').waitFor();
    expect(await focusedId(page)).toBe('code-summary');
    await expect(visibleText(page, 'summary-code')).resolves.toBe(started.user_code);
    await expect(visibleText(page, 'summary-client')).resolves.toBe('Fast CLI');
    await expect(visibleText(page, 'summary-device')).resolves.toBe(label);
    await expect(visibleText(page, 'summary-expiry')).resolves.toMatch(/^The code expires in about \d+ min, at \d{1,2}:\d{2}\s[AP]M\sUTC\.$/);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, '02-sign-in');

    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      order.push(await focusedId(page));
    }
    expect(order).toEqual(['change-code', 'username', 'password', '']);
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.type(USERS.alice.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(USERS.alice.password);
    await page.keyboard.press('Enter');

    // 3. Consent: who asks for what, from where and when, and who is signed in.
    const title = page.getByRole('heading', { level: 1, name: T.consentTitle, exact: true });
    await title.waitFor();
    expect(await focusedId(page)).toBe('consent-title');
    expect(new URL(page.url()).pathname).toBe('/device');
    await expect(visibleText(page, 'consent-lead')).resolves.toBe('Fast CLI wants to act as you, from the device described below.');
    await expect(visibleText(page, 'client-name')).resolves.toBe('Fast CLI');
    await expect(visibleText(page, 'device-label')).resolves.toBe(label);
    await expect(visibleText(page, 'user-code')).resolves.toBe(started.user_code);
    await expect(visibleText(page, 'request-ip')).resolves.toBe('127.0.0.1');
    await expect(visibleText(page, 'request-agent')).resolves.toBe(DEVICE_AGENT);
    // Times carry their zone (the browser's; UTC in these specs).
    await expect(visibleText(page, 'request-time')).resolves.toMatch(/\d{4},\s\d{1,2}:\d{2}\s[AP]M\sUTC\s\((just now|\d+ minutes? ago)\)$/);
    await expect(visibleText(page, 'consent-expiry')).resolves.toMatch(/^Decide before \d{1,2}:\d{2}\s[AP]M\sUTC; after that/);
    await expect(visibleText(page, 'identity')).resolves.toBe('Alice Example (alice@example.com)');
    await expect(page.locator('#scopes li').allInnerTexts()).resolves.toEqual([
      'See your name and email address profile',
      'Read your projects read',
    ]);
    await expect(page.locator('#ip-warning').isVisible()).resolves.toBe(false);
    await expect(page.getByText('Approve only if you started this on a device you have.').isVisible()).resolves.toBe(true);
    const [approveBox, denyBox] = await Promise.all([page.locator('#approve').boundingBox(), page.locator('#deny').boundingBox()]);
    expect({ width: denyBox?.width, height: denyBox?.height }).toEqual({ width: approveBox?.width, height: approveBox?.height });
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, '03-consent');

    await device.polled(1);
    expect(decisions).toEqual([]);
    await page.keyboard.press('Tab');
    expect(await focusedId(page)).toBe('approve');
    await page.keyboard.press('Tab');
    expect(await focusedId(page)).toBe('deny');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');

    // 4. Approved: what to do next, and the device, still polling, gets its token.
    await page.getByRole('heading', { level: 1, name: T.approvedTitle, exact: true }).waitFor();
    expect(await focusedId(page)).toBe('approved-title');
    await expect(page.locator('#approved').innerText()).resolves.toContain('You can close this tab');
    await expect(visibleText(page, 'approved-detail')).resolves.toBe(`Fast CLI on “${label}” can now act as you.`);
    expect(new URL(page.url()).search).toBe('');
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, '05-approved');

    const token = await device.outcome;
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({ token_type: 'Bearer', scope: 'profile read' });
    expect(decisions).toHaveLength(1);
    const me = await http.me(token.body.access_token);
    expect(me.body).toMatchObject({ email: USERS.alice.email, device_label: label });
  });

  it('denies: the page says nothing was given and what to do next, the device hears access_denied', async () => {
    const { page } = session;
    const started = await startDevice();
    // Typed the way people type: lower case, a space instead of the dash.
    await enterCode(page, started.user_code.toLowerCase().replace('-', ' '));
    await signIn(page);

    await page.getByRole('button', { name: T.denyButton, exact: true }).click();

    await page.getByRole('heading', { level: 1, name: T.deniedTitle, exact: true }).waitFor();
    await expect(page.locator('#denied').innerText()).resolves.toContain(T.deniedDetail);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, '06-denied');
    expectOAuthError(await http.poll(CLIENTS.fast, started.device_code), 400, {
      error: 'access_denied',
      error_description: 'The user denied this device',
    });
  });

  it('formats the code as it is typed, and gives every bad code the same message', async () => {
    const { page } = session;
    const live = await startDevice();
    const used = await startDevice();
    await http.approveAs(used.user_code, USERS.bob);
    const expiring = await startFlow(http, CLIENTS.shortLived);
    testApp.clock.advance(expiring.expires_in * 1000);

    await page.goto(`${testApp.baseUrl}/device`);
    const field = page.getByLabel(T.codeLabel, { exact: true });
    await page.keyboard.type(live.user_code.replace('-', '').toLowerCase());
    await expect(field.inputValue()).resolves.toBe(live.user_code);

    const messages: Record<string, string> = {};
    for (const [what, typed] of Object.entries({
      unknown: 'ZZZZ-ZZZZ',
      mistyped: `${live.user_code.slice(0, 8)}${live.user_code.endsWith('B') ? 'C' : 'B'}`,
      'not a code': 'hello',
      vowels: 'AEIO-UAEI',
      expired: expiring.user_code,
      used: used.user_code,
    })) {
      await field.fill(typed);
      await page.getByRole('button', { name: T.continueButton, exact: true }).click();
      await page.locator('#user_code-error').filter({ hasText: /\S/ }).waitFor();
      messages[what] = await visibleText(page, 'user_code-error');
      await expect(field.getAttribute('aria-invalid')).resolves.toBe('true');
      expect(await focusedId(page)).toBe('user_code');
      if (what === 'unknown') await screenshot(page, '04-mistyped-code');
      await field.fill('');
    }
    expect(messages).toEqual(Object.fromEntries(Object.keys(messages).map((what) => [what, T.badCode])));
    await expect(page.getByLabel(T.usernameLabel, { exact: true }).isVisible()).resolves.toBe(false);

    await field.fill(live.user_code);
    await page.getByRole('button', { name: T.continueButton, exact: true }).click();
    await page.getByLabel(T.usernameLabel, { exact: true }).waitFor();
    await expect(field.getAttribute('aria-invalid')).resolves.toBe('false');
  });

  it('asks politely to wait when the lookups of its address are rate limited', async () => {
    const address = '198.51.100.23';
    const started = await startDevice();
    const lookups = Array.from({ length: LOOKUPS_PER_IP }, () =>
      http.request(`/oauth/device/lookup?user_code=${started.user_code}`, { headers: { 'x-forwarded-for': address } }),
    );
    expect((await Promise.all(lookups)).map((reply) => reply.status)).toEqual(Array(LOOKUPS_PER_IP).fill(200));
    const page = await (await session.newContext({ extraHTTPHeaders: { 'x-forwarded-for': address } })).newPage();

    await enterCode(page, started.user_code);

    await page.locator('#user_code-error').filter({ hasText: /\S/ }).waitFor();
    const message = await visibleText(page, 'user_code-error');
    expect(message).toMatch(/^Too many codes were tried in a short time\. Please wait (\d+ seconds|about \d+ minutes), then try again\.$/);
    await screenshot(page, 'rate-limited');
    // Only that address waits.
    expect((await http.request(`/oauth/device/lookup?user_code=${started.user_code}`)).body.valid).toBe(true);
  });

  it('warns plainly when the device asked from another network than the browser approving it', async () => {
    const { page } = session;
    const started = await startDevice({ 'x-forwarded-for': REMOTE_DEVICE_IP }, uniqueLabel('ci-runner'));

    await toConsent(page, started);

    const warning = page.getByRole('alert').filter({ hasText: T.ipWarningTitle });
    await expect(warning.isVisible()).resolves.toBe(true);
    await expect(visibleText(page, 'ip-warning-detail')).resolves.toBe(
      `The device asked for this code from ${REMOTE_DEVICE_IP}, but you are connecting from 127.0.0.1.`,
    );
    await expect(visibleText(page, 'request-ip')).resolves.toBe(REMOTE_DEVICE_IP);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, '08-ip-warning');
  });

  it('shows the expired page when the code runs out while the person decides', async () => {
    const { page } = session;
    const started = await startDevice();
    await toConsent(page, started);

    testApp.clock.advance(started.expires_in * 1000);
    await page.getByRole('button', { name: T.approveButton, exact: true }).click();

    await page.getByRole('heading', { level: 1, name: T.expiredTitle, exact: true }).waitFor();
    await expect(page.locator('#expired').innerText()).resolves.toContain(T.expiredNext);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, '07-expired');
    expectOAuthError(await http.poll(CLIENTS.fast, started.device_code), 400, {
      error: 'expired_token',
      error_description: expect.any(String),
    });
    await page.getByRole('link', { name: T.newCodeLink, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.enterTitle, exact: true }).waitFor();
  });

  it('sends the person back to sign in when only the sign-in ran out, and the code still works', async () => {
    const { page } = session;
    const started = await startDevice();
    await toConsent(page, started);

    testApp.clock.advance(testApp.config.approvalGrantTtlSeconds * 1000);
    await page.getByRole('button', { name: T.approveButton, exact: true }).click();

    await page.getByRole('alert').filter({ hasText: T.signInExpired }).waitFor();
    await expect(visibleText(page, 'summary-code')).resolves.toBe(started.user_code);
    await signIn(page);
    await page.getByRole('button', { name: T.approveButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.approvedTitle, exact: true }).waitFor();
    expect((await http.poll(CLIENTS.fast, started.device_code)).status).toBe(200);
  });

  it('shows an error page that offers to try again when the server fails, and trying again works', async () => {
    const { page } = session;
    const started = await startDevice();
    await toConsent(page, started);
    await page.route('**/oauth/device/approve', (route) =>
      route.fulfill({
        status: 503,
        headers: { 'retry-after': '5' },
        contentType: 'application/json',
        body: JSON.stringify({ error: 'temporarily_unavailable', error_description: 'The service cannot reach its storage right now. Try again shortly.' }),
      }),
    );

    await page.getByRole('button', { name: T.approveButton, exact: true }).click();

    await page.getByRole('heading', { level: 1, name: T.errorTitle, exact: true }).waitFor();
    await expect(visibleText(page, 'error-detail')).resolves.toBe(T.unavailable);
    await expect(page.locator('#error').innerText()).resolves.toContain(T.errorNext);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, '09-error');
    expectOAuthError(await http.poll(CLIENTS.fast, started.device_code), 400, {
      error: 'authorization_pending',
      error_description: expect.any(String),
    });

    await page.unroute('**/oauth/device/approve');
    await page.getByRole('button', { name: T.tryAgainButton, exact: true }).click();
    await page.getByRole('button', { name: T.approveButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.approvedTitle, exact: true }).waitFor();
    testApp.clock.advance(started.interval * 1000);
    expect((await http.poll(CLIENTS.fast, started.device_code)).status).toBe(200);
  });
});
