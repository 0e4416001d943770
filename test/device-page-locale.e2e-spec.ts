import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { PAGE_CATALOG, PAGE_STRINGS as EN } from '../src/web/page-strings';
import { accessibilityProblems, pollInBackground, screenshot, useBrowser } from './support/browser';
import { startFlow, uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { startTestApp, type TestApp, USERS } from './support/test-app';

const DE = PAGE_CATALOG.de;
const DEPLOYER = 'test-deployer';
const OPERATOR = { name: 'Acme Corp IT', support_email: 'it-help@acme.test', support_url: 'https://help.acme.test/devices' };
const LOGO =
  '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="32"><rect width="32" height="32" rx="7" fill="#1d4ed8"/><path d="M9 23 16 8l7 15" stroke="#fff" stroke-width="3" fill="none"/>' +
  '<text x="40" y="23" font-family="sans-serif" font-size="19" font-weight="700" fill="#1b1f24">ACME</text></svg>';

// Run inside the page; the project compiles without lib "dom".
declare function getComputedStyle(element: unknown): { backgroundColor: string; color: string; borderTopColor: string; fontWeight: string };

/** /device in German, for a person in Berlin, on a page that names its operator. */
describe('the /device page in another language, with its operator named (browser)', () => {
  const session = useBrowser({ locale: 'de-DE', timezoneId: 'Europe/Berlin', extraHTTPHeaders: { 'Accept-Language': 'de' } });
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    const logo = join(mkdtempSync(join(tmpdir(), 'devicegate-logo-')), 'acme.svg');
    writeFileSync(logo, LOGO);
    testApp = await startTestApp({
      configure: (file) => {
        file.operator = { ...OPERATOR, logo_file: logo };
        (file.scopes as Record<string, unknown>[]).push({ name: 'deploy', description: 'Deploy your services', sensitive: true });
        file.clients.push({ client_id: DEPLOYER, name: 'Deployer', type: 'public', scopes: ['profile', 'write', 'deploy'], poll_interval: 1 });
      },
    });
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp?.close());

  const visibleText = (page: Page, id: string) => page.locator(`#${id}`).innerText();
  const style = (page: Page, id: string) =>
    page.locator(`#${id}`).evaluate((element) => {
      const computed = getComputedStyle(element);
      return { background: computed.backgroundColor, color: computed.color, border: computed.borderTopColor, weight: computed.fontWeight };
    });

  it('chooses the language by Accept-Language and its q-values, says so in lang and Vary, and falls back to English', async () => {
    const page = (acceptLanguage?: string) => http.request('/device', { headers: acceptLanguage ? { 'accept-language': acceptLanguage } : {} });
    for (const [acceptLanguage, locale] of [
      ['de-DE,de;q=0.9,en;q=0.8', 'de'],
      ['fr;q=1, de;q=0.5, en;q=0.4', 'de'],
      ['en-GB, de;q=0.9', 'en'],
      ['de;q=0, fr', 'en'],
      [undefined, 'en'],
    ] as const) {
      const reply = await page(acceptLanguage);
      expect([acceptLanguage, reply.status, reply.headers.get('content-language')]).toEqual([acceptLanguage, 200, locale]);
      expect(reply.headers.get('vary')).toMatch(/Accept-Language/i);
      expect(reply.body).toContain(`<html lang="${locale}">`);
      expect(reply.body).toContain(`<h1 id="enter-title" tabindex="-1">${PAGE_CATALOG[locale].enterTitle}</h1>`);
    }
  });

  it('serves the logo file as an image that runs no script, and keeps the page policy to its own origin', async () => {
    const logo = await http.request('/device/logo');
    expect(logo.status).toBe(200);
    expect(logo.headers.get('content-type')).toBe('image/svg+xml');
    expect(logo.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; sandbox");
    expect(logo.headers.get('x-content-type-options')).toBe('nosniff');
    const page = await http.request('/device');
    expect(page.headers.get('content-security-policy')).toContain("img-src 'self';");
  });

  it('runs the journey in German: operator in header and footer, times with their zone, sensitive scopes marked, Deny weighed like Approve', async () => {
    const { page } = session;
    const label = uniqueLabel('deploy-bot');
    const started = await startFlow(http, DEPLOYER, { scope: 'profile write deploy', device_label: label });
    const device = pollInBackground(http, DEPLOYER, started);

    const response = await page.goto(started.verification_uri_complete);
    expect(response?.headers()['content-language']).toBe('de');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('de');
    await page.getByRole('heading', { level: 1, name: DE.enterTitle, exact: true }).waitFor();
    await expect(page.title()).resolves.toBe(`${DE.enterTitle} · ${OPERATOR.name}`);

    // Whose page: the operator's logo and name on top, who runs it and whom to ask below.
    await expect(page.locator('header').innerText()).resolves.toBe(OPERATOR.name);
    await expect(page.locator('header img.logo').evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth)).resolves.toBe(120);
    await expect(visibleText(page, 'run-by')).resolves.toBe(`Diese Seite wird von ${OPERATOR.name} betrieben.`);
    await expect(page.getByRole('link', { name: OPERATOR.support_email, exact: true }).getAttribute('href')).resolves.toBe(`mailto:${OPERATOR.support_email}`);
    await expect(page.getByRole('link', { name: DE.supportLink, exact: true }).getAttribute('href')).resolves.toBe(OPERATOR.support_url);
    await expect(page.locator('link[rel=icon]').getAttribute('href')).resolves.toBe('/favicon.ico');
    const icon = await fetch(`${testApp.baseUrl}/favicon.ico`);
    expect([icon.status, icon.headers.get('content-type')]).toEqual([200, 'image/x-icon']);
    // ICONDIR: reserved 0, type 1 (icon), one image.
    expect([...Buffer.from(await icon.arrayBuffer()).subarray(0, 6)]).toEqual([0, 0, 1, 0, 1, 0]);

    await page.getByRole('button', { name: DE.continueButton, exact: true }).click();
    await page.locator('#code-summary').waitFor();
    await expect(visibleText(page, 'summary-expiry')).resolves.toMatch(/^Der Code läuft in etwa \d+ Min\. ab, um \d{1,2}:\d{2} MEZ\.$/);
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.getByLabel(DE.usernameLabel, { exact: true }).fill(USERS.alice.username);
    await page.getByLabel(DE.passwordLabel, { exact: true }).fill(USERS.alice.password);
    await page.getByRole('button', { name: DE.signInButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: DE.consentTitle, exact: true }).waitFor();

    await expect(page.title()).resolves.toBe(`${DE.consentTitle} · ${OPERATOR.name}`);
    await expect(page.getByRole('heading', { level: 2, name: DE.scopesHeading, exact: true }).isVisible()).resolves.toBe(true);
    await expect(visibleText(page, 'consent-lead')).resolves.toBe('Deployer möchte von dem unten beschriebenen Gerät aus in Ihrem Namen handeln.');
    // Berlin in December: Central European (standard) Time, named as German readers know it.
    await expect(visibleText(page, 'request-time')).resolves.toMatch(/^\d{1,2}\. \S+ \d{4}, \d{1,2}:\d{2} MEZ \((gerade eben|vor \d+ Minuten?)\)$/);
    await expect(visibleText(page, 'consent-expiry')).resolves.toMatch(/^Entscheiden Sie vor \d{1,2}:\d{2} MEZ; danach/);
    // write (by its name) and deploy (sensitive: true in the catalog) say so in words, not colour alone.
    await expect(page.locator('#scopes li').allInnerTexts()).resolves.toEqual([
      'See your name and email address profile',
      `${DE.sensitiveMarker} Change your projects write`,
      `${DE.sensitiveMarker} Deploy your services deploy`,
    ]);
    await expect(visibleText(page, 'sensitive-note')).resolves.toBe(DE.sensitiveNote);
    await expect(page.locator('footer').isVisible()).resolves.toBe(true);

    // Neither choice is painted as the dangerous one: the same size, colours and weight, and no red.
    const [approve, deny] = await Promise.all([style(page, 'approve'), style(page, 'deny')]);
    expect(deny).toEqual(approve);
    expect([approve.background, approve.color, approve.border]).not.toContain('rgb(185, 28, 28)');
    const [approveBox, denyBox] = await Promise.all([page.locator('#approve').boundingBox(), page.locator('#deny').boundingBox()]);
    expect({ width: denyBox?.width, height: denyBox?.height }).toEqual({ width: approveBox?.width, height: approveBox?.height });
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'de-03-consent');

    await page.getByRole('button', { name: DE.approveButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: DE.approvedTitle, exact: true }).waitFor();
    await expect(visibleText(page, 'approved-detail')).resolves.toBe(`Deployer auf „${label}“ kann jetzt in Ihrem Namen handeln.`);
    const token = await device.outcome;
    expect(token.status).toBe(200);
    expect(token.body.scope).toBe('profile write deploy');
  });

  it('shows only English to an English browser, with the same operator and markers', async () => {
    const page = await (await session.newContext({ locale: 'en-US', timezoneId: 'UTC', extraHTTPHeaders: { 'Accept-Language': 'en-US,en;q=0.9' } })).newPage();
    const started = await startFlow(http, DEPLOYER, { scope: 'profile write deploy', device_label: 'deploy-bot-7' }, { 'user-agent': 'deploy-bot/1.8.0 (linux; arm64)' });
    await page.goto(started.verification_uri_complete);
    await page.getByRole('heading', { level: 1, name: EN.enterTitle, exact: true }).waitFor();
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');
    await expect(visibleText(page, 'run-by')).resolves.toBe(`This page is run by ${OPERATOR.name}.`);
    await expect(page.getByRole('link', { name: EN.supportLink, exact: true }).isVisible()).resolves.toBe(true);

    await page.getByRole('button', { name: EN.continueButton, exact: true }).click();
    await page.getByLabel(EN.usernameLabel, { exact: true }).fill(USERS.alice.username);
    await page.getByLabel(EN.passwordLabel, { exact: true }).fill(USERS.alice.password);
    await page.getByRole('button', { name: EN.signInButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: EN.consentTitle, exact: true }).waitFor();
    await expect(visibleText(page, 'request-time')).resolves.toMatch(/ UTC \(just now\)$/);
    await expect(page.locator('#scopes li.sensitive').allInnerTexts()).resolves.toEqual([
      `${EN.sensitiveMarker} Change your projects write`,
      `${EN.sensitiveMarker} Deploy your services deploy`,
    ]);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'en-03-consent');
  });
});
