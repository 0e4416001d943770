import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { AUDIT_CSV_COLUMNS } from '../src/audit/audit-csv';
import { AuditSealerService } from '../src/audit/audit-sealer.service';
import { AuditVerifierService } from '../src/audit/audit-verifier.service';
import { CONSOLE_STRINGS as T } from '../src/console/console-strings';
import { PAGE_STRINGS } from '../src/web/page-strings';
import { screenshot, useBrowser } from './support/browser';
import { parseCsv } from './support/csv';
import { createMigratedDatabase, type TestDatabase } from './support/database';
import { obtainToken, uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { acmeOidcConnector, type OidcIdp, startOidcIdp } from './support/oidc-idp';
import { CLIENTS, freePort, grantAuditRead, startTestApp, type TestApp, USERS } from './support/test-app';

const CONNECTOR = 'acme-oidc';
const IDP_CLIENT = { id: 'devicegate-console-audit', secret: 'console-audit-idp-client-secret-0123456789' };
const CAROL = { sub: 'idp-user-carol-0002', email: 'carol@acme.test', name: 'Carol Acme' };

type Event = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What a click on a download link saves. */
async function download(page: Page, link: string): Promise<string> {
  const [saved] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: link, exact: true }).click()]);
  return readFileSync(await saved.path(), 'utf8');
}

/** The console's audit and admin views in Chromium, over a database of this spec alone so it may break the chain. */
describe('the console for auditors and admins (browser)', () => {
  const session = useBrowser();
  let database: TestDatabase;
  let idp: OidcIdp;
  let testApp: TestApp;
  let http: DeviceGateHttp;
  const globexLabel = uniqueLabel('globex-secret');

  beforeAll(async () => {
    const port = await freePort();
    [database, idp] = await Promise.all([
      createMigratedDatabase(),
      startOidcIdp({
        clients: [{ client_id: IDP_CLIENT.id, client_secret: IDP_CLIENT.secret, redirect_uris: [`http://127.0.0.1:${port}/oauth/device/sso/oidc/${CONNECTOR}/callback`] }],
        accounts: { carol: CAROL },
      }),
    ]);
    testApp = await startTestApp({
      port,
      env: { DATABASE_URL: database.url, AUDIT_SEAL_LAG: '0s', AUDIT_SEAL_INTERVAL: '0s' },
      configure: (file) => {
        grantAuditRead(file, USERS.alice.email, `acme:${CAROL.email}`);
        file.organizations = [
          { id: 'acme', name: 'Acme Corp', email_domains: ['acme.test'] },
          { id: 'globex', name: 'Globex', email_domains: ['globex.test'] },
        ];
        file.connectors = [acmeOidcConnector(CONNECTOR, idp, IDP_CLIENT)];
      },
    });
    http = new DeviceGateHttp(testApp.baseUrl);
    await database.query(
      `INSERT INTO audit_events (occurred_at, type, outcome, actor_type, actor_email, organization_id, client_id, device_label, details)
       VALUES (now(), 'token.minted', 'success', 'user', 'gina@globex.test', 'globex', 'globex-cli', $1, '{}')`,
      [globexLabel],
    );
  });

  afterAll(async () => {
    await testApp?.close();
    await idp?.stop();
    await database?.drop();
  });

  async function signInLocally(page: Page, user: { username: string; password: string }) {
    await page.goto(`${testApp.baseUrl}/console`);
    await page.getByLabel(T.usernameLabel, { exact: true }).fill(user.username);
    await page.getByLabel(T.passwordLabel, { exact: true }).fill(user.password);
    await page.getByRole('button', { name: T.signInButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.devicesTitle, exact: true }).waitFor();
  }

  /** The events table as text, one record per row: time, type, outcome, actor, organization, client, device, ip. */
  function tableRows(page: Page): Promise<string[][]> {
    return page.locator('tbody tr').evaluateAll((rows) =>
      rows.map((row) => Array.from((row as unknown as { cells: ArrayLike<{ textContent: string }> }).cells, (cell) => cell.textContent.trim())),
    );
  }

  it('an auditor filters by type, person, client and time range, opens an event, sees the chain verified, exports NDJSON and CSV of the filter', async () => {
    const { page } = session;
    const since = new Date(Date.now() - 60_000).toISOString();
    const wanted = [uniqueLabel('wanted'), uniqueLabel('wanted')];
    for (const deviceLabel of wanted) await obtainToken(http, { user: USERS.bob, deviceLabel });
    const otherClient = uniqueLabel('other-client');
    await obtainToken(http, { user: USERS.bob, deviceLabel: otherClient, clientId: CLIENTS.fast });
    const otherPerson = uniqueLabel('other-person');
    await obtainToken(http, { user: USERS.alice, deviceLabel: otherPerson });
    const until = new Date(Date.now() + 60_000).toISOString();
    await testApp.app.get(AuditSealerService).sealPending();
    const report = await testApp.app.get(AuditVerifierService).verify();
    expect(report).toMatchObject({ ok: true, last_event_id: expect.any(String) });

    await signInLocally(page, USERS.alice);
    await page.getByRole('link', { name: T.navAudit, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.auditTitle, exact: true }).waitFor();
    const chain = page.locator('#chain-status');
    await expect(chain.innerText()).resolves.toBe(
      `The digest chain verifies: ${report.ok && report.events} events in ${report.ok && report.seals} seals; the newest sealed event is ${report.ok && report.last_event_id}.`,
    );

    await page.getByLabel(T.filterType, { exact: true }).fill('token.minted');
    await page.getByLabel(T.filterSubject, { exact: true }).fill(USERS.bob.email);
    await page.getByLabel(T.filterClient, { exact: true }).fill(CLIENTS.cli);
    await page.getByLabel(T.filterSince, { exact: true }).fill(since);
    await page.getByLabel(T.filterUntil, { exact: true }).fill(until);
    await page.getByRole('button', { name: T.filterButton, exact: true }).click();
    await page.waitForURL(/type=token.minted/);
    const rows = await tableRows(page);
    expect(rows.map((row) => row[6]).sort()).toEqual([...wanted].sort());
    for (const row of rows) expect(row.slice(1, 6)).toEqual(['token.minted', 'success', USERS.bob.email, '—', CLIENTS.cli]);
    await expect(page.getByLabel(T.filterSince, { exact: true }).inputValue()).resolves.toBe(since);

    const ndjson = (await download(page, T.exportNdjson)).trimEnd().split('\n').map((line) => JSON.parse(line) as Event);
    expect(ndjson.map((event) => event.device_label).sort()).toEqual([...wanted].sort());
    for (const event of ndjson) {
      expect(event).toMatchObject({ type: 'token.minted', client_id: CLIENTS.cli, actor: { email: USERS.bob.email } });
      expect(event.occurred_at >= since && event.occurred_at < until).toBe(true);
    }
    const [header, ...records] = parseCsv(await download(page, T.exportCsv));
    expect(header).toEqual([...AUDIT_CSV_COLUMNS]);
    expect(records.map((record) => Object.fromEntries(header.map((column, index) => [column, record[index]])))).toEqual(
      ndjson.map((event) => expect.objectContaining({ id: event.id, sequence: event.sequence, type: 'token.minted', actor_email: USERS.bob.email, client_id: CLIENTS.cli, device_label: event.device_label })),
    );

    await page.locator('tbody tr').filter({ hasText: wanted[0] }).getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: `Audit event ${ndjson.find((event) => event.device_label === wanted[0])?.sequence}`, exact: true }).waitFor();
    await expect(page.locator('dl.event').innerText()).resolves.toContain(wanted[0]);
    await page.getByRole('link', { name: T.backToAudit, exact: true }).click();

    await page.getByLabel(T.filterOrganization, { exact: true }).fill('globex');
    await page.getByRole('button', { name: T.filterButton, exact: true }).click();
    await page.waitForURL(/organization=globex/);
    const globex = await tableRows(page);
    expect(new Set(globex.map((row) => row[4]))).toEqual(new Set(['globex']));
    expect(globex.filter((row) => row[6] === globexLabel)).toEqual([[expect.any(String), 'token.minted', 'success', 'gina@globex.test', 'globex', 'globex-cli', globexLabel, '—']]);

    // Someone edits a sealed event behind the application's back: the page names the first break.
    const [{ id }] = await database.query(`SELECT id::text AS id FROM audit_events WHERE device_label = $1 AND type = 'token.minted'`, [wanted[1]]);
    await database.query(
      `DO $$ BEGIN SET LOCAL session_replication_role = replica; UPDATE audit_events SET details = details || '{"edited": true}' WHERE id = ${Number(id)}; END $$`,
    );
    await page.reload();
    const broken = await testApp.app.get(AuditVerifierService).verify();
    expect(broken).toMatchObject({ ok: false, break: { event_id: id, reason: 'event_altered' } });
    await expect(chain.innerText()).resolves.toBe(`The digest chain is broken: seal ${!broken.ok && broken.break.seal_seq}, event ${id} (event_altered).`);
    await screenshot(page, 'console-08-chain-broken');
  });

  it("an organization's auditor sees only that organization's events, in the browser and over HTTP", async () => {
    const { page } = session;
    await obtainToken(http, { user: USERS.bob, deviceLabel: uniqueLabel('no-organization') });
    await page.goto(`${testApp.baseUrl}/console`);
    await page.getByRole('link', { name: 'Sign in with Acme SSO', exact: true }).click();
    await page.waitForURL(`${idp.issuer}/interaction/**`);
    await page.locator('input[name=login]').fill('carol');
    await page.locator('input[name=password]').fill('any');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.devicesTitle, exact: true }).waitFor();

    await page.getByRole('link', { name: T.navAudit, exact: true }).click();
    await page.getByText('You see the events of organization acme only.', { exact: true }).waitFor();
    await screenshot(page, 'console-09-audit-of-an-organization');
    const rows = await tableRows(page);
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((row) => row[4]))).toEqual(new Set(['acme']));
    await expect(page.content()).resolves.not.toContain(globexLabel);
    for (const line of (await download(page, T.exportNdjson)).trimEnd().split('\n')) expect(JSON.parse(line).organization).toBe('acme');
    const [header, ...records] = parseCsv(await download(page, T.exportCsv));
    expect(new Set(records.map((record) => record[header.indexOf('organization')]))).toEqual(new Set(['acme']));

    await page.getByLabel(T.filterOrganization, { exact: true }).fill('globex');
    await page.getByRole('button', { name: T.filterButton, exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'organization acme only' }).waitFor();
    await expect(page.content()).resolves.not.toContain(globexLabel);
    await screenshot(page, 'console-10-error');

    // The same session cookie, over HTTP: no way around the organization.
    for (const path of ['/console/audit?organization=globex', '/console/audit/export?organization=globex', '/console/audit/export?organization=globex&format=csv']) {
      expect((await session.context.request.get(`${testApp.baseUrl}${path}`)).status()).toBe(403);
    }
    const exported = await (await session.context.request.get(`${testApp.baseUrl}/console/audit/export?format=csv`)).text();
    expect(exported).not.toContain(globexLabel);
    const [{ sequence }] = await database.query(`SELECT id::text AS sequence FROM audit_events WHERE device_label = $1`, [globexLabel]);
    expect((await session.context.request.get(`${testApp.baseUrl}/console/audit/events/${sequence}`)).status()).toBe(404);
  });

  it('an admin registers a client and sees its secret once (a reload registers nothing more and shows no secret, nor does going back), and off-boards a person', async () => {
    const { page } = session;
    await signInLocally(page, USERS.alice);
    await page.getByRole('link', { name: T.navAdmin, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.adminTitle, exact: true }).waitFor();
    await page.getByLabel(T.fieldName, { exact: true }).fill('Release pipeline');
    await page.getByLabel(T.fieldType, { exact: true }).fill('confidential');
    await page.getByLabel(T.fieldScopes, { exact: true }).fill('profile read');
    await page.getByRole('button', { name: T.registerButton, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.registeredTitle, exact: true }).waitFor();
    const secret = await page.locator('#client-secret').innerText();
    expect(secret).toMatch(/^[\w-]{43}$/);

    const seen: string[] = [];
    page.on('response', async (response) => {
      if (response.url().startsWith(testApp.baseUrl)) seen.push(await response.text().catch(() => ''));
    });
    await page.reload();
    await page.getByRole('status').filter({ hasText: T.registrationSentAlready }).waitFor();
    expect(await database.query(`SELECT client_id FROM oauth_clients WHERE name = 'Release pipeline'`)).toHaveLength(1);
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: T.adminTitle, exact: true }).waitFor();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((body) => body.includes(secret))).toEqual([]);
    await expect(page.content()).resolves.not.toContain(secret);

    await obtainToken(http, { user: USERS.bob, deviceLabel: uniqueLabel('leaving') });
    await page.getByLabel(T.fieldSubject, { exact: true }).fill(USERS.bob.email);
    await page.getByLabel(T.fieldReason, { exact: true }).fill('Left the company');
    await page.getByRole('button', { name: T.offboardButton, exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'The person was off-boarded' }).waitFor();
    await screenshot(page, 'console-11-offboarded');
  });

  it('ends a failed single sign-on on a page that offers the way back', async () => {
    const { page } = session;
    await page.goto(`${testApp.baseUrl}/console`);
    await page.getByRole('link', { name: 'Sign in with Acme SSO', exact: true }).click();
    await page.waitForURL(`${idp.issuer}/interaction/**`);
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: PAGE_STRINGS.signInFailedTitle, exact: true }).waitFor();
    await screenshot(page, 'console-12-sign-in-failed');
    await page.getByRole('link', { name: PAGE_STRINGS.signInFailedConsoleLink, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: T.signInTitle, exact: true }).waitFor();
  });
});
