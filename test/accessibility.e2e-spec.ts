import type { BrowserContext, Page } from 'playwright-core';
import { CONSOLE_STRINGS as C } from '../src/console/console-strings';
import { PAGE_CATALOG } from '../src/web/page-strings';
import { axeViolations, useBrowser } from './support/browser';
import { type StartedFlow, startFlow, uniqueLabel, obtainToken } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { CLIENTS, grantAuditRead, startTestApp, type TestApp, USERS } from './support/test-app';

// The DOM, as the function below that runs inside the page uses it: the project compiles without lib "dom".
interface FocusedElement {
  id: string;
  tagName: string;
  textContent: string | null;
  getAttribute(name: string): string | null;
  matches(selector: string): boolean;
}
declare const document: { activeElement: FocusedElement | null };
declare function getComputedStyle(element: FocusedElement): { outlineStyle: string; outlineWidth: string };

const LOCALES = [
  ['en', 'en-US'],
  ['de', 'de-DE'],
] as const;

/** Where the keyboard focus is, and whether a person can see it (a :focus-visible outline of at least 2px). */
function focused(page: Page): Promise<{ id: string; name: string; visible: boolean }> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element) return { id: '', name: '', visible: false };
    const style = getComputedStyle(element);
    return {
      id: element.id,
      name: (element.getAttribute('aria-label') ?? element.textContent ?? '').trim(),
      visible: element.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    };
  });
}

/** Tab (forward) until the focus is on the element `matches` accepts, asserting the focus is visible there. */
async function tabTo(page: Page, matches: (element: { id: string; name: string }) => boolean): Promise<void> {
  for (let presses = 0; presses < 40; presses++) {
    await page.keyboard.press('Tab');
    const element = await focused(page);
    if (matches(element)) {
      expect({ element, visible: element.visible }).toEqual({ element, visible: true });
      return;
    }
  }
  throw new Error('the element was not reached with the Tab key');
}

/**
 * Every console page and every state of /device in English and German,
 * checked by axe-core (WCAG 2.1 A and AA rules) for serious and critical
 * violations; and the console used with the keyboard alone.
 */
describe('accessibility of the console and /device (axe-core in Chromium)', () => {
  // axe-core is injected as an inline script, which the pages' CSP would refuse.
  const session = useBrowser({ bypassCSP: true });
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    testApp = await startTestApp({
      configure: (file) => {
        grantAuditRead(file, USERS.alice.email);
      },
    });
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp?.close());

  async function pageIn(locale: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await session.newContext({ locale, extraHTTPHeaders: { 'Accept-Language': locale } });
    return { context, page: await context.newPage() };
  }

  /** axe's verdict on the page now, named so a failure says which page. */
  async function expectAccessible(page: Page, what: string): Promise<void> {
    expect({ what, violations: await axeViolations(page) }).toEqual({ what, violations: [] });
  }

  it('finds what it is there to find: low contrast, an unlabelled field, a nameless button', async () => {
    const { page } = session;
    await page.setContent(
      '<html lang="en"><head><title>Broken</title></head><body><main><h1>Broken</h1><p style="color:#aaa;background:#fff">Faint</p><input><button></button></main></body></html>',
    );
    const found = (await axeViolations(page)).map((violation) => violation.split(' ')[0]);
    expect(new Set(found)).toEqual(new Set(['color-contrast', 'label', 'button-name']));
  });

  it.each(LOCALES)('every console page has no serious or critical violation (%s)', async (language, locale) => {
    const { page } = await pageIn(locale);
    const label = uniqueLabel('axe');
    await obtainToken(http, { user: USERS.alice, deviceLabel: label });
    await page.goto(`${testApp.baseUrl}/console`);
    await expectAccessible(page, 'sign-in');

    await page.getByLabel(C.usernameLabel, { exact: true }).fill(USERS.alice.username);
    await page.getByLabel(C.passwordLabel, { exact: true }).fill('wrong-password');
    await page.getByRole('button', { name: C.signInButton, exact: true }).click();
    await page.getByRole('alert').waitFor();
    await expectAccessible(page, 'sign-in refused');

    await page.goto(`${testApp.baseUrl}/console`);
    await page.getByLabel(C.usernameLabel, { exact: true }).fill(USERS.alice.username);
    await page.getByLabel(C.passwordLabel, { exact: true }).fill(USERS.alice.password);
    await page.getByRole('button', { name: C.signInButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: C.devicesTitle, exact: true }).waitFor();
    await expectAccessible(page, 'my devices');
    await page.getByRole('button', { name: `Revoke Test CLI on ${label}`, exact: true }).click();
    await page.getByRole('status').waitFor();
    await expectAccessible(page, 'my devices, one revoked');

    await page.getByRole('link', { name: C.navAudit, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: C.auditTitle, exact: true }).waitFor();
    await expectAccessible(page, 'audit trail');
    await page.locator('tbody tr a').first().click();
    await page.locator('dl.event').waitFor();
    await expectAccessible(page, 'audit event');

    await page.getByRole('link', { name: C.navAdmin, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: C.adminTitle, exact: true }).waitFor();
    await expectAccessible(page, 'admin: clients');
    await page.getByLabel(C.fieldName, { exact: true }).fill('Accessible bot');
    await page.getByLabel(C.fieldType, { exact: true }).fill('confidential');
    await page.getByLabel(C.fieldScopes, { exact: true }).fill('profile');
    await page.getByRole('button', { name: C.registerButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: C.registeredTitle, exact: true }).waitFor();
    await expectAccessible(page, 'client registered');
    await page.goto(`${testApp.baseUrl}/console/admin`);
    await page.getByLabel(C.fieldSubject, { exact: true }).fill(`nobody-${uniqueLabel('')}@example.com`);
    await page.getByLabel(C.fieldReason, { exact: true }).fill('Left');
    await page.getByRole('button', { name: C.offboardButton, exact: true }).click();
    await page.getByRole('status').waitFor();
    await expectAccessible(page, 'off-boarded');

    await page.goto(`${testApp.baseUrl}/console/audit/events/999999999999`);
    await page.getByRole('heading', { level: 1, name: C.errorTitle, exact: true }).waitFor();
    await expectAccessible(page, 'console error page');
    await page.goto(`${testApp.baseUrl}/oauth/device/sso/initiate?user_code=BCDF-GHJK&connector=nobody`);
    await page.getByRole('heading', { level: 1, name: PAGE_CATALOG[language].signInFailedTitle, exact: true }).waitFor();
    await expectAccessible(page, 'sign-in error page');
  }, 120_000);

  it.each(LOCALES)('every state of /device has no serious or critical violation (%s)', async (language, locale) => {
    const T = PAGE_CATALOG[language];
    const { page } = await pageIn(locale);
    const start = (): Promise<StartedFlow> => startFlow(http, CLIENTS.fast, { scope: 'profile read', device_label: uniqueLabel('axe') });
    async function toConsent(started: StartedFlow, check = false) {
      await page.goto(`${testApp.baseUrl}/device`);
      if (check) await expectAccessible(page, 'enter code');
      await page.getByLabel(T.codeLabel, { exact: true }).fill(started.user_code);
      await page.getByRole('button', { name: T.continueButton, exact: true }).click();
      await page.locator('#code-summary').waitFor();
      if (check) await expectAccessible(page, 'sign in');
      await page.getByLabel(T.usernameLabel, { exact: true }).fill(USERS.alice.username);
      await page.getByLabel(T.passwordLabel, { exact: true }).fill(USERS.alice.password);
      await page.getByRole('button', { name: T.signInButton, exact: true }).click();
      await page.getByRole('heading', { level: 1, name: T.consentTitle, exact: true }).waitFor();
      if (check) await expectAccessible(page, 'consent');
    }

    await toConsent(await start(), true);
    await page.getByRole('button', { name: T.approveButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.approvedTitle, exact: true }).waitFor();
    await expectAccessible(page, 'approved');

    await toConsent(await start());
    await page.getByRole('button', { name: T.denyButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.deniedTitle, exact: true }).waitFor();
    await expectAccessible(page, 'denied');

    await toConsent(await start());
    await page.route('**/oauth/device/approve', (route) =>
      route.fulfill({ status: 503, headers: { 'retry-after': '5' }, contentType: 'application/json', body: '{"error":"temporarily_unavailable"}' }),
    );
    await page.getByRole('button', { name: T.approveButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.errorTitle, exact: true }).waitFor();
    await expectAccessible(page, 'error');
    await page.unroute('**/oauth/device/approve');

    const expiring = await start();
    await toConsent(expiring);
    testApp.clock.advance(expiring.expires_in * 1000);
    await page.getByRole('button', { name: T.approveButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.expiredTitle, exact: true }).waitFor();
    await expectAccessible(page, 'expired');
  }, 120_000);

  it('signs in, revokes a device and filters the audit trail with the keyboard alone, the focus always visible', async () => {
    const { page } = session;
    const label = uniqueLabel('keyboard');
    await obtainToken(http, { user: USERS.alice, deviceLabel: label });
    await page.goto(`${testApp.baseUrl}/console`);

    await tabTo(page, (element) => element.id === 'local-username');
    await page.keyboard.type(USERS.alice.username);
    await tabTo(page, (element) => element.id === 'local-password');
    await page.keyboard.type(USERS.alice.password);
    await tabTo(page, (element) => element.name === C.signInButton);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: C.devicesTitle, exact: true }).waitFor();

    await tabTo(page, (element) => element.name === `Revoke Test CLI on ${label}`);
    await page.keyboard.press('Space');
    await page.getByRole('status').filter({ hasText: C.revoked }).waitFor();
    await expect(page.content()).resolves.not.toContain(label);

    await tabTo(page, (element) => element.name === C.navAudit);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: C.auditTitle, exact: true }).waitFor();
    await tabTo(page, (element) => element.id === 'filter-type');
    await page.keyboard.type('token.revoked');
    await tabTo(page, (element) => element.id === 'filter-subject');
    await page.keyboard.type(USERS.alice.email);
    await tabTo(page, (element) => element.name === C.filterButton);
    await page.keyboard.press('Space');
    await page.waitForURL(/type=token.revoked/);
    await expect(page.locator('tbody tr').filter({ hasText: label }).count()).resolves.toBe(1);
    await tabTo(page, (element) => element.name.includes(new Date().toISOString().slice(0, 10)));
    await page.keyboard.press('Enter');
    await page.locator('dl.event').waitFor();
  });
});
