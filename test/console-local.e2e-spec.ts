import { randomUUID } from 'node:crypto';
import { hashPasswordSync } from '../src/common/crypto';
import { CONSOLE_STRINGS as T } from '../src/console/console-strings';
import { accessibilityProblems, screenshot, useBrowser } from './support/browser';
import { expectInvalidToken, obtainToken, uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { grantAuditRead, startTestApp, type TestApp, type TestUser, USERS } from './support/test-app';

/** A person of this spec alone, so the devices listed are only the ones this spec approved. */
const FRANK_SUFFIX = randomUUID().slice(0, 8);
const FRANK = { username: `frank-${FRANK_SUFFIX}`, password: 'frank-password-5', email: `frank-${FRANK_SUFFIX}@example.com`, name: 'Frank Devices' } as unknown as TestUser;

/** The console in Chromium: sign in with a local account, see the devices approved earlier, revoke one. */
describe('the console with the local connector (browser)', () => {
  const session = useBrowser();
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    testApp = await startTestApp({
      configure: (file) => {
        grantAuditRead(file, USERS.alice.email);
        (file.users as Record<string, unknown>[]).push({ username: FRANK.username, email: FRANK.email, name: FRANK.name, password_hash: hashPasswordSync(FRANK.password) });
      },
    });
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp?.close());

  it('signs in, shows two devices, revokes one; that device is refused at once, the other keeps working; signs out', async () => {
    const { page } = session;
    const laptop = uniqueLabel('laptop');
    const buildAgent = uniqueLabel('build-agent');
    const kept = await obtainToken(http, { user: FRANK, deviceLabel: laptop });
    const revoked = await obtainToken(http, { user: FRANK, deviceLabel: buildAgent, scope: 'profile read' });
    expect((await http.me(revoked.access_token)).status).toBe(200);

    await page.goto(`${testApp.baseUrl}/console`);
    await page.getByRole('heading', { level: 1, name: T.signInTitle, exact: true }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'console-01-sign-in');
    await page.getByLabel(T.usernameLabel, { exact: true }).fill(FRANK.username);
    await page.getByLabel(T.passwordLabel, { exact: true }).fill(FRANK.password);
    await page.getByLabel(T.passwordLabel, { exact: true }).press('Enter');

    await page.getByRole('heading', { level: 1, name: T.devicesTitle, exact: true }).waitFor();
    await expect(page.getByText(`Signed in as Frank Devices (${FRANK.email})`).isVisible()).resolves.toBe(true);
    const rows = page.locator('tbody tr');
    await expect(rows.count()).resolves.toBe(2);
    await expect(rows.filter({ hasText: laptop }).count()).resolves.toBe(1);
    await expect(rows.filter({ hasText: buildAgent }).locator('code').allInnerTexts()).resolves.toEqual(['profile', 'read']);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'console-02-my-devices');

    await page.getByRole('button', { name: `Revoke Test CLI on ${buildAgent}`, exact: true }).click();
    await page.getByRole('status').filter({ hasText: T.revoked }).waitFor();
    await expect(rows.count()).resolves.toBe(1);
    await expect(rows.filter({ hasText: laptop }).count()).resolves.toBe(1);
    await screenshot(page, 'console-03-revoked');
    expectInvalidToken(await http.me(revoked.access_token));
    expect((await http.me(kept.access_token)).status).toBe(200);

    await page.getByRole('button', { name: T.signOutButton, exact: true }).click();
    await page.getByRole('status').filter({ hasText: T.signedOut }).waitFor();
    await expect(page.getByRole('heading', { level: 1, name: T.signInTitle, exact: true }).isVisible()).resolves.toBe(true);
    expect((await session.context.cookies()).map((cookie) => cookie.name)).not.toContain('devicegate_console');
  });

  it('an auditor filters the trail, opens an event, sees the chain status; an admin registers a client and sees its secret once', async () => {
    const { page } = session;
    const label = uniqueLabel('audited');
    await obtainToken(http, { user: USERS.bob, deviceLabel: label });

    await page.goto(`${testApp.baseUrl}/console`);
    await page.getByLabel(T.usernameLabel, { exact: true }).fill(USERS.alice.username);
    await page.getByLabel(T.passwordLabel, { exact: true }).fill(USERS.alice.password);
    await page.getByRole('button', { name: T.signInButton, exact: true }).click();
    await page.getByRole('link', { name: T.navAudit, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.auditTitle, exact: true }).waitFor();
    await expect(page.locator('#chain-status').innerText()).resolves.toMatch(/^The digest chain verifies/);
    await page.getByLabel(T.filterType, { exact: true }).fill('token.minted');
    await page.getByLabel(T.filterSubject, { exact: true }).fill(USERS.bob.email);
    await page.getByRole('button', { name: T.filterButton, exact: true }).click();
    await page.waitForURL(/type=token.minted/);
    const row = page.locator('tbody tr').filter({ hasText: label });
    await expect(row.count()).resolves.toBe(1);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'console-04-audit');
    await row.getByRole('link').click();
    await page.getByText('"email": "bob@example.com"').first().waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'console-05-audit-event');

    await page.getByRole('link', { name: T.navAdmin, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.adminTitle, exact: true }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'console-06-admin');
    await page.getByLabel(T.fieldName, { exact: true }).fill('Nightly build bot');
    await page.getByLabel(T.fieldType, { exact: true }).fill('confidential');
    await page.getByLabel(T.fieldScopes, { exact: true }).fill('profile read');
    await page.getByRole('button', { name: T.registerButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.registeredTitle, exact: true }).waitFor();
    const secret = await page.locator('#client-secret').innerText();
    const clientId = await page.locator('#client-id').innerText();
    expect(secret).toMatch(/^[\w-]{43}$/);
    await screenshot(page, 'console-07-client-registered');
    await page.getByRole('link', { name: T.adminTitle, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.adminTitle, exact: true }).waitFor();
    await expect(page.getByText(clientId, { exact: true }).count()).resolves.toBe(1);
    await expect(page.content()).resolves.not.toContain(secret);
  });
});
