import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { hashPasswordSync } from '../src/common/crypto';
import { CONSOLE_STRINGS as T } from '../src/console/console-strings';
import { PAGE_STRINGS as P } from '../src/web/page-strings';
import { useBrowser } from './support/browser';
import { createMigratedDatabase, type TestDatabase } from './support/database';
import { approveThroughIdp, expectInvalidToken, obtainToken, startFlow, uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { acmeOidcConnector, type OidcIdp, startOidcIdp } from './support/oidc-idp';
import { CLIENTS, deleteKeys, freePort, startTestApp, type TestApp, type TestUser } from './support/test-app';

const CONNECTOR = 'acme-oidc';
const ACME_CLI = 'acme-cli';
const IDP_CLIENT = { id: 'devicegate-console-devices', secret: 'console-devices-idp-secret-0123456789abcdef' };
const CAROL = { sub: 'idp-user-carol-0001', email: 'carol@acme.test', name: 'Carol Acme' };
const FRANK_SUFFIX = randomUUID().slice(0, 8);
const FRANK = { username: `frank-${FRANK_SUFFIX}`, password: 'frank-password-5', email: `frank-${FRANK_SUFFIX}@example.com`, name: 'Frank Devices' } as unknown as TestUser;

/**
 * Acceptance 1 of the console in Chromium, on two instances sharing one
 * Postgres and one Redis: a person signs in (through OpenID Connect, and
 * through a local account), sees the devices approved earlier, revokes one,
 * and the other instance refuses that device's next call although its own
 * cache (TOKEN_CACHE_TTL 60 s) still held the token.
 */
describe('revoking devices from the console, seen by a second instance (browser)', () => {
  const session = useBrowser();
  const prefix = `devicegate-test:${randomUUID()}:`;
  let database: TestDatabase;
  let idp: OidcIdp;
  let first: TestApp;
  let second: TestApp;
  let one: DeviceGateHttp;
  let two: DeviceGateHttp;

  beforeAll(async () => {
    const ports = [await freePort(), await freePort()];
    [database, idp] = await Promise.all([
      createMigratedDatabase(),
      startOidcIdp({
        clients: [
          {
            client_id: IDP_CLIENT.id,
            client_secret: IDP_CLIENT.secret,
            redirect_uris: ports.map((port) => `http://127.0.0.1:${port}/oauth/device/sso/oidc/${CONNECTOR}/callback`),
          },
        ],
        accounts: { carol: CAROL },
      }),
    ]);
    const start = (port: number) =>
      startTestApp({
        port,
        env: { DATABASE_URL: database.url, REDIS_KEY_PREFIX: prefix, TOKEN_CACHE_TTL: '60s' },
        configure: (file) => {
          file.organizations = [{ id: 'acme', name: 'Acme Corp', email_domains: ['acme.test'] }];
          file.connectors = [acmeOidcConnector(CONNECTOR, idp, IDP_CLIENT)];
          file.clients.push({ client_id: ACME_CLI, name: 'Acme CLI', type: 'public', scopes: ['profile', 'read'], organization: 'acme' });
          (file.users as Record<string, unknown>[]).push({ username: FRANK.username, email: FRANK.email, name: FRANK.name, password_hash: hashPasswordSync(FRANK.password) });
        },
      });
    [first, second] = await Promise.all(ports.map(start));
    one = new DeviceGateHttp(first.baseUrl);
    two = new DeviceGateHttp(second.baseUrl);
  });

  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
    await idp?.stop();
    await database?.drop();
    await deleteKeys(prefix);
  });

  /** A device of the Acme CLI that Carol approved through the IdP, from some other browser; its token. */
  function approvedByCarolElsewhere(label: string): Promise<string> {
    return approveThroughIdp(one, { clientId: ACME_CLI, connector: CONNECTOR, login: 'carol', deviceLabel: label });
  }

  /** Valid on both instances, so each holds it in its own cache. */
  async function expectAcceptedEverywhere(...tokens: string[]): Promise<void> {
    for (const token of tokens) for (const http of [one, two]) expect((await http.me(token)).status).toBe(200);
  }

  async function expectRefusedEverywhere(...tokens: string[]): Promise<void> {
    for (const token of tokens) for (const http of [two, one]) expectInvalidToken(await http.me(token));
  }

  async function devicesPage(page: Page) {
    await page.getByRole('heading', { level: 1, name: T.devicesTitle, exact: true }).waitFor();
    return page.locator('tbody tr');
  }

  it('through OpenID Connect: sees two devices approved earlier, revokes one; both instances refuse it at once', async () => {
    const { page } = session;
    const laptop = uniqueLabel('laptop');
    const buildAgent = uniqueLabel('build-agent');
    const kept = await approvedByCarolElsewhere(laptop);
    const revoked = await approvedByCarolElsewhere(buildAgent);
    await expectAcceptedEverywhere(kept, revoked);

    await page.goto(`${first.baseUrl}/console`);
    await page.getByRole('link', { name: 'Sign in with Acme SSO', exact: true }).click();
    await page.waitForURL(`${idp.issuer}/interaction/**`);
    await page.locator('input[name=login]').fill('carol');
    await page.locator('input[name=password]').fill('any');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    const rows = await devicesPage(page);
    await expect(page.getByText(`Signed in as Carol Acme (${CAROL.email}) · Organization: acme`).isVisible()).resolves.toBe(true);
    await expect(rows.count()).resolves.toBe(2);
    for (const label of [laptop, buildAgent]) {
      const row = rows.filter({ hasText: label });
      await expect(row.locator('td').allInnerTexts()).resolves.toEqual([
        `Acme CLI ${ACME_CLI}`,
        label,
        'acme',
        'profile read',
        expect.stringMatching(/ UTC$/),
        expect.stringMatching(/ UTC 127\.0\.0\.1$/),
        expect.stringMatching(/ UTC$/),
        expect.stringMatching(/^127\.0\.0\.1\n/),
        T.revokeButton,
      ]);
    }

    await page.getByRole('button', { name: `Revoke Acme CLI on ${buildAgent}`, exact: true }).click();
    await page.getByRole('status').filter({ hasText: T.revoked }).waitFor();
    await expect(rows.count()).resolves.toBe(1);
    await expectRefusedEverywhere(revoked);
    await expectAcceptedEverywhere(kept);
  });

  it("through a local account, from the /device page's link: keeps this browser's device and revokes the other on both instances", async () => {
    const { page } = session;
    const elsewhere = uniqueLabel('build-agent');
    const other = await obtainToken(two, { user: FRANK, deviceLabel: elsewhere });

    const here = uniqueLabel('laptop');
    const started = await startFlow(one, CLIENTS.cli, { device_label: here });
    await page.goto(started.verification_uri_complete);
    await page.getByRole('button', { name: P.continueButton, exact: true }).click();
    await page.getByLabel(P.usernameLabel, { exact: true }).fill(FRANK.username);
    await page.getByLabel(P.passwordLabel, { exact: true }).fill(FRANK.password);
    await page.getByLabel(P.passwordLabel, { exact: true }).press('Enter');
    await page.getByRole('button', { name: P.approveButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: P.approvedTitle, exact: true }).waitFor();
    const delivered = await one.poll(CLIENTS.cli, started.device_code);
    expect(delivered.status).toBe(200);
    const kept = delivered.body.access_token as string;
    await expectAcceptedEverywhere(kept, other.access_token);

    await page.getByRole('link', { name: P.myDevicesLink, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.signInTitle, exact: true }).waitFor();
    await page.getByLabel(T.usernameLabel, { exact: true }).fill(FRANK.username);
    await page.getByLabel(T.passwordLabel, { exact: true }).fill(FRANK.password);
    await page.getByLabel(T.passwordLabel, { exact: true }).press('Enter');

    const rows = await devicesPage(page);
    await expect(rows.count()).resolves.toBe(2);
    await expect(rows.filter({ hasText: here }).getByText(T.thisBrowser, { exact: true }).count()).resolves.toBe(1);
    await expect(rows.filter({ hasText: elsewhere }).getByText(T.thisBrowser, { exact: true }).count()).resolves.toBe(0);
    await expect(rows.filter({ hasText: here }).locator('td').nth(7).innerText()).resolves.toContain('Chrome/156.0');

    await page.getByRole('button', { name: T.revokeOthersButton, exact: true }).click();
    await page.getByRole('status').filter({ hasText: '1 authorizations were revoked' }).waitFor();
    await expect(rows.count()).resolves.toBe(1);
    await expect(rows.filter({ hasText: here }).count()).resolves.toBe(1);
    await expectRefusedEverywhere(other.access_token);
    await expectAcceptedEverywhere(kept);
  });
});
