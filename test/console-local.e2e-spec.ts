import { CONSOLE_STRINGS as T } from '../src/console/console-strings';
import { accessibilityProblems, screenshot, useBrowser } from './support/browser';
import { expectInvalidToken, obtainToken, uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { startTestApp, type TestApp, USERS } from './support/test-app';

/** The console in Chromium: sign in with a local account, see the devices approved earlier, revoke one. */
describe('the console with the local connector (browser)', () => {
  const session = useBrowser();
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    testApp = await startTestApp();
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp?.close());

  it('signs in, shows two devices, revokes one; that device is refused at once, the other keeps working; signs out', async () => {
    const { page } = session;
    const laptop = uniqueLabel('laptop');
    const buildAgent = uniqueLabel('build-agent');
    const kept = await obtainToken(http, { user: USERS.bob, deviceLabel: laptop });
    const revoked = await obtainToken(http, { user: USERS.bob, deviceLabel: buildAgent, scope: 'profile read' });
    expect((await http.me(revoked.access_token)).status).toBe(200);

    await page.goto(`${testApp.baseUrl}/console`);
    await page.getByRole('heading', { level: 1, name: T.signInTitle, exact: true }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'console-01-sign-in');
    await page.getByLabel(T.usernameLabel, { exact: true }).fill(USERS.bob.username);
    await page.getByLabel(T.passwordLabel, { exact: true }).fill(USERS.bob.password);
    await page.getByLabel(T.passwordLabel, { exact: true }).press('Enter');

    await page.getByRole('heading', { level: 1, name: T.devicesTitle, exact: true }).waitFor();
    await expect(page.getByText('Signed in as Bob Example (bob@example.com)').isVisible()).resolves.toBe(true);
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
});
