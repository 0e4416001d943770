import type { Page } from 'playwright-core';
import { PAGE_STRINGS as T } from '../src/web/page-strings';
import { accessibilityProblems, pollInBackground, screenshot, useBrowser } from './support/browser';
import { createMigratedDatabase, type TestDatabase } from './support/database';
import { expectOAuthError, startFlow, uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { acmeOidcConnector, type OidcIdp, startOidcIdp } from './support/oidc-idp';
import { freePort, startTestApp, type TestApp, USERS } from './support/test-app';

const ACME_CLI = 'acme-fast-cli';
const CONNECTOR = 'acme-oidc';
const IDP_CLIENT = { id: 'devicegate-acme', secret: 'acme-idp-client-secret-0123456789abcdef' };
const CAROL = { sub: 'idp-user-carol-0001', email: 'carol@acme.test', name: 'Carol Acme' };

/** The /device page in Chromium, signing in at a real OpenID Connect IdP (oidc-provider in a child process). */
describe('the /device page with an OpenID Connect connector (browser)', () => {
  const session = useBrowser();
  let database: TestDatabase;
  let idp: OidcIdp;
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    const port = await freePort();
    [database, idp] = await Promise.all([
      createMigratedDatabase(),
      startOidcIdp({
        clients: [
          { client_id: IDP_CLIENT.id, client_secret: IDP_CLIENT.secret, redirect_uris: [`http://127.0.0.1:${port}/oauth/device/sso/oidc/${CONNECTOR}/callback`] },
        ],
        accounts: { carol: CAROL },
      }),
    ]);
    testApp = await startTestApp({
      port,
      env: { DATABASE_URL: database.url },
      configure: (file) => {
        file.organizations = [{ id: 'acme', name: 'Acme Corp', email_domains: ['acme.test'] }];
        file.connectors = [acmeOidcConnector(CONNECTOR, idp, IDP_CLIENT)];
        file.clients.push({ client_id: ACME_CLI, name: 'Acme CLI', type: 'public', scopes: ['profile', 'read'], organization: 'acme', poll_interval: 1 });
      },
    });
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(async () => {
    await testApp?.close();
    await idp?.stop();
    await database?.drop();
  });

  const startDevice = (label = uniqueLabel('laptop')) =>
    startFlow(http, ACME_CLI, { scope: 'profile read', device_label: label }, { 'user-agent': 'acme-cli/1.0 (darwin; arm64)' });

  async function continueWithCode(page: Page, link: string) {
    await page.goto(link);
    await page.getByRole('button', { name: T.continueButton, exact: true }).click();
    await page.locator('#code-summary').waitFor();
  }

  /** The IdP's own login page: a form with a `login` field (any password). */
  async function signInAtIdp(page: Page, login: string) {
    await page.waitForURL(`${idp.issuer}/interaction/**`);
    await page.locator('input[name=login]').fill(login);
    await page.locator('input[name=password]').fill('any');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  it('runs the whole journey through the IdP while the device polls; the device gets its token after Approve', async () => {
    const { page } = session;
    const started = await startDevice('carols-laptop');
    const device = pollInBackground(http, ACME_CLI, started);

    await continueWithCode(page, started.verification_uri_complete);
    await expect(page.getByRole('button', { name: 'Sign in with Acme SSO', exact: true }).isVisible()).resolves.toBe(true);
    await expect(page.getByLabel(T.emailLabel, { exact: true }).isVisible()).resolves.toBe(true);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, '02-sign-in-sso');

    await page.getByRole('button', { name: 'Sign in with Acme SSO', exact: true }).click();
    await signInAtIdp(page, 'carol');

    await page.getByRole('heading', { level: 1, name: T.consentTitle, exact: true }).waitFor();
    expect(new URL(page.url()).origin).toBe(testApp.baseUrl);
    await expect(page.locator('#identity').innerText()).resolves.toBe('Carol Acme (carol@acme.test), Acme Corp');
    await expect(page.locator('#client-name').innerText()).resolves.toBe('Acme CLI, Acme Corp');
    await expect(page.locator('#device-label').innerText()).resolves.toBe('carols-laptop');
    await expect(page.locator('#request-agent').innerText()).resolves.toBe('acme-cli/1.0 (darwin; arm64)');
    await expect(page.locator('#ip-warning').isVisible()).resolves.toBe(false);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, '03-consent-sso');

    await device.polled(1);
    await page.getByRole('button', { name: T.approveButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.approvedTitle, exact: true }).waitFor();

    const token = await device.outcome;
    expect(token.status).toBe(200);
    const me = await http.me(token.body.access_token);
    expect(me.body).toMatchObject({ issuer: idp.issuer, external_id: CAROL.sub, email: CAROL.email, organization: 'acme' });
  });

  it('routes a work email to its connector; a sign-in cancelled at the IdP ends on a page that says what to do', async () => {
    const { page } = session;
    const started = await startDevice();
    await continueWithCode(page, started.verification_uri_complete);

    await page.getByRole('button', { name: T.emailButton, exact: true }).click();
    await page.locator('#email-error').filter({ hasText: T.emailRequired }).waitFor();
    await page.getByLabel(T.emailLabel, { exact: true }).fill('Carol@ACME.test');
    await page.keyboard.press('Enter');

    await page.waitForURL(`${idp.issuer}/interaction/**`);
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();

    await page.getByRole('heading', { level: 1, name: 'Sign-in failed', exact: true }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/oauth/device/sso/oidc/${CONNECTOR}/callback`);
    await expect(page.locator('main').innerText()).resolves.toMatch(/Nothing was approved/);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, '10-sign-in-failed');
    expectOAuthError(await http.poll(ACME_CLI, started.device_code), 400, { error: 'authorization_pending', error_description: expect.any(String) });

    await page.getByRole('link', { name: 'enter its code again' }).click();
    await page.getByRole('heading', { level: 1, name: T.enterTitle, exact: true }).waitFor();
  });

  it("tells a local user at once that another organization's application is not theirs to approve", async () => {
    const { page } = session;
    const started = await startDevice();
    await continueWithCode(page, started.verification_uri_complete);

    await page.getByLabel(T.usernameLabel, { exact: true }).fill(USERS.alice.username);
    await page.getByLabel(T.passwordLabel, { exact: true }).fill(USERS.alice.password);
    await page.getByRole('button', { name: T.signInButton, exact: true }).click();

    await page.locator('#login-error').filter({ hasText: /\S/ }).waitFor();
    await expect(page.locator('#login-error').innerText()).resolves.toBe(
      'This application belongs to Acme Corp; only its members can approve it. Sign in with your Acme Corp account.',
    );
    await expect(page.getByRole('heading', { level: 1, name: T.enterTitle, exact: true }).isVisible()).resolves.toBe(true);
  });
});
