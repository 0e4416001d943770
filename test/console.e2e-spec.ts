import { randomUUID } from 'node:crypto';
import { AUDIT_CSV_COLUMNS } from '../src/audit/audit-csv';
import { hashPasswordSync } from '../src/common/crypto';
import { createMigratedDatabase, queryDatabase, type TestDatabase } from './support/database';
import { acmeOidcConnector, type OidcIdp, signInAtIdp, startOidcIdp } from './support/oidc-idp';
import { approveThroughIdp, expectInvalidToken, obtainToken, startFlow, uniqueLabel } from './support/flows';
import { DeviceGateHttp, parseSetCookie, type Reply } from './support/http';
import { CLIENTS, freePort, grantAuditRead, startTestApp, type TestApp, type TestUser, USERS } from './support/test-app';

/** A person of this spec alone, so off-boarding her touches no other spec's tokens. */
const DORA_SUFFIX = randomUUID().slice(0, 8);
const DORA = { username: `dora-${DORA_SUFFIX}`, password: 'dora-password-3', email: `dora-${DORA_SUFFIX}@example.com`, name: 'Dora Leaving' } as unknown as TestUser;

/** Another person of this spec alone, so the devices listed are only the ones this spec approved. */
const EVE_SUFFIX = randomUUID().slice(0, 8);
const EVE = { username: `eve-${EVE_SUFFIX}`, password: 'eve-password-4', email: `eve-${EVE_SUFFIX}@example.com`, name: 'Eve Devices' } as unknown as TestUser;

/** A person of this spec alone, whose authorizations "revoke all but this browser's" may take. */
const GRACE_SUFFIX = randomUUID().slice(0, 8);
const GRACE = { username: `grace-${GRACE_SUFFIX}`, password: 'grace-password-6', email: `grace-${GRACE_SUFFIX}@example.com`, name: 'Grace Careful' } as unknown as TestUser;

/** The console over HTTP: sign-in, its session cookie and every way to misuse it, "my devices" and revoking. */

const SESSION = 'devicegate_console';
const LOGIN = 'devicegate_console_login';
const BROWSER = 'devicegate_browser';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0';

/** A browser's cookie jar of one console visitor, kept by hand. */
class ConsoleVisitor {
  readonly cookies = new Map<string, string>();

  constructor(readonly http: DeviceGateHttp) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async get(path: string): Promise<Reply<string>> {
    return this.keep(await this.http.request<string>(path, { headers: { cookie: this.cookieHeader, accept: 'text/html' } }));
  }

  async post(path: string, fields: Record<string, string | undefined>): Promise<Reply<string>> {
    return this.keep(await this.http.form<string>(path, fields, { cookie: this.cookieHeader, accept: 'text/html' }));
  }

  /** The sign-in page, then the local connector's form with the login CSRF field the page carried. */
  async signIn(user: TestUser): Promise<Reply<string>> {
    const page = await this.get('/console');
    return this.post('/console/sign-in/local', { login_csrf: field(page.body, 'login_csrf'), username: user.username, password: user.password });
  }

  /** Approves a device from this browser (its cookies, a Firefox user agent) after signing in at /device as `user`; the device's token. */
  async approveDevice(user: TestUser, deviceLabel: string, userAgent = FIREFOX) {
    const started = await startFlow(this.http, CLIENTS.cli, { device_label: deviceLabel });
    const grant = await this.http.signIn(started.user_code, user);
    const cookie = `${grant}; ${this.cookieHeader}`;
    const context = await this.http.approvalContext(cookie);
    const headers = { cookie, 'x-csrf-token': context.body.csrf_token, 'user-agent': userAgent };
    expect((await this.http.json('/oauth/device/approve', { user_code: started.user_code }, headers)).status).toBe(200);
    const token = await this.http.poll(CLIENTS.cli, started.device_code);
    expect(token.status).toBe(200);
    return token.body as { access_token: string };
  }

  keep<T>(reply: Reply<T>): Reply<T> {
    for (const header of reply.headers.getSetCookie()) {
      const cookie = parseSetCookie(header);
      if (cookie.attributes['max-age'] === '0') this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    return reply;
  }
}

/** The value of a hidden form field of a page (the first one of that name). */
function field(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match) throw new Error(`no ${name} field on the page`);
  return match[1];
}

function expectPageHeaders(reply: Reply<unknown>): void {
  expect(reply.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(reply.headers.get('content-security-policy')).toContain("script-src 'self'");
  expect(reply.headers.get('x-frame-options')).toBe('DENY');
  expect(reply.headers.get('cache-control')).toBe('no-store');
}

async function consoleEvents(type: string, email: string) {
  return queryDatabase('SELECT * FROM audit_events WHERE type = $1 AND actor_email = $2 ORDER BY id', [type, email]);
}

describe('the console (HTTP)', () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    testApp = await startTestApp({
      configure: (file) => {
        grantAuditRead(file, USERS.alice.email);
        for (const person of [DORA, EVE, GRACE]) {
          (file.users as Record<string, unknown>[]).push({ username: person.username, email: person.email, name: person.name, password_hash: hashPasswordSync(person.password) });
        }
      },
    });
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp.close());

  describe('sign-in and session', () => {
    it('shows the sign-in page without a session, with the page security headers', async () => {
      const visitor = new ConsoleVisitor(http);
      const page = await visitor.get('/console');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expectPageHeaders(page);
      expect(page.body).toContain('action="/console/sign-in/local"');
      expect(visitor.cookies.get(LOGIN)).toBe(field(page.body, 'login_csrf'));
    });

    it('signs in through the local connector into a path-scoped, HttpOnly, SameSite=Lax session cookie, audited', async () => {
      const visitor = new ConsoleVisitor(http);
      const reply = await visitor.signIn(USERS.alice);
      expect(reply.status).toBe(303);
      expect(reply.headers.get('location')).toBe('/console');
      const cookie = parseSetCookie(reply.headers.getSetCookie().find((header) => header.startsWith(`${SESSION}=`)) as string);
      expect(cookie.attributes).toMatchObject({ path: '/console', httponly: true, samesite: 'Lax', 'max-age': String(8 * 3600) });
      expect(cookie.attributes.secure).toBeUndefined();
      expect(reply.headers.getSetCookie().some((header) => header.startsWith('devicegate_approval='))).toBe(false);

      const home = await visitor.get('/console');
      expect(home.status).toBe(200);
      expectPageHeaders(home);
      expect(home.body).toContain('Signed in as Alice Example (alice@example.com)');
      const [event] = (await consoleEvents('console.signed_in', USERS.alice.email)).slice(-1);
      expect(event).toMatchObject({ outcome: 'success', actor_type: 'user', actor_issuer: 'urn:devicegate:local', details: { connector: 'local' } });
      expect(JSON.stringify(event)).not.toContain(visitor.cookies.get(SESSION));
    });

    it('refuses a wrong password with a page, audited as a rejected console sign-in', async () => {
      const visitor = new ConsoleVisitor(http);
      const page = await visitor.get('/console');
      const reply = await visitor.post('/console/sign-in/local', { login_csrf: field(page.body, 'login_csrf'), username: 'alice', password: 'wrong' });
      expect(reply.status).toBe(401);
      expectPageHeaders(reply);
      expect(reply.body).toContain('Unknown user or wrong password');
      expect(visitor.cookies.has(SESSION)).toBe(false);
      const rejected = await queryDatabase(
        `SELECT details FROM audit_events WHERE type = 'sso.assertion_rejected' AND details->>'purpose' = 'console' ORDER BY id DESC LIMIT 1`,
      );
      expect(rejected[0].details).toEqual({ connector: 'local', reason: 'invalid_credentials', username: 'alice', purpose: 'console' });
    });

    it('refuses a sign-in form without the login CSRF token of its cookie', async () => {
      const visitor = new ConsoleVisitor(http);
      const page = await visitor.get('/console');
      const token = field(page.body, 'login_csrf');
      const credentials = { username: USERS.alice.username, password: USERS.alice.password };
      expect((await visitor.post('/console/sign-in/local', credentials)).status).toBe(403);
      expect((await visitor.post('/console/sign-in/local', { ...credentials, login_csrf: `${token.slice(0, -1)}A` === token ? `${token.slice(0, -1)}B` : `${token.slice(0, -1)}A` })).status).toBe(403);
      const stranger = new ConsoleVisitor(http);
      expect((await stranger.post('/console/sign-in/local', { ...credentials, login_csrf: token })).status).toBe(403);
      expect(visitor.cookies.has(SESSION) || stranger.cookies.has(SESSION)).toBe(false);
    });

    it('refuses a forged session cookie: the sign-in page again, the cookie cleared, forms refused', async () => {
      const visitor = new ConsoleVisitor(http);
      await visitor.signIn(USERS.alice);
      const [id, mac] = (visitor.cookies.get(SESSION) as string).split('.');
      for (const forged of [`${id}.${mac.slice(0, -2)}AA`, `${'A'.repeat(43)}.${mac}`, 'not-a-session', `${id}.`]) {
        const forger = new ConsoleVisitor(http);
        forger.cookies.set(SESSION, forged);
        const page = await forger.get('/console');
        expect(page.status).toBe(200);
        expect(page.body).toContain('Your console session has ended');
        expect(page.body).not.toContain('Signed in as');
        expect(forger.cookies.has(SESSION)).toBe(false);
        forger.cookies.set(SESSION, forged);
        expect((await forger.post('/console/sign-out', { csrf_token: 'x' })).status).toBe(401);
      }
      const refused = await queryDatabase(`SELECT * FROM audit_events WHERE type = 'console.refused' ORDER BY id DESC LIMIT 8`);
      expect(refused.map((event) => event.details.reason)).toEqual(Array(8).fill('invalid'));
      expect(refused[0]).toMatchObject({ outcome: 'failure', actor_type: null });
    });

    it('ends a session idle for 15 minutes, and any session 8 hours after its sign-in', async () => {
      const idle = new ConsoleVisitor(http);
      await idle.signIn(USERS.alice);
      testApp.clock.advance(14 * 60_000);
      expect((await idle.get('/console')).body).toContain('Signed in as');
      testApp.clock.advance(15 * 60_000);
      const ended = await idle.get('/console');
      expect(ended.body).toContain('Your console session has ended');
      expect(idle.cookies.has(SESSION)).toBe(false);

      const busy = new ConsoleVisitor(http);
      await busy.signIn(USERS.alice);
      const cookie = busy.cookies.get(SESSION) as string;
      for (let minutes = 0; minutes < 8 * 60 - 14; minutes += 14) {
        testApp.clock.advance(14 * 60_000);
        expect((await busy.get('/console')).body).toContain('Signed in as');
      }
      testApp.clock.advance(14 * 60_000);
      busy.cookies.set(SESSION, cookie);
      expect((await busy.get('/console')).body).toContain('Your console session has ended');
    });

    it('signs out with a CSRF-checked POST; the session is gone server-side, so a replayed cookie is refused', async () => {
      const visitor = new ConsoleVisitor(http);
      await visitor.signIn(USERS.bob);
      const cookie = visitor.cookies.get(SESSION) as string;
      const home = await visitor.get('/console');
      expect((await visitor.post('/console/sign-out', {})).status).toBe(403);
      expect((await visitor.post('/console/sign-out', { csrf_token: 'forged-csrf-token-of-nobody-0000' })).status).toBe(403);
      expect((await visitor.get('/console')).body).toContain('Signed in as Bob');
      const mismatches = await consoleEvents('console.refused', USERS.bob.email);
      expect(mismatches.slice(-2).map((event) => event.details)).toEqual([{ reason: 'csrf_mismatch' }, { reason: 'csrf_mismatch' }]);

      const out = await visitor.post('/console/sign-out', { csrf_token: field(home.body, 'csrf_token') });
      expect(out.status).toBe(303);
      expect(out.headers.get('location')).toBe('/console?notice=signed_out');
      expect(visitor.cookies.has(SESSION)).toBe(false);
      const [event] = (await consoleEvents('console.signed_out', USERS.bob.email)).slice(-1);
      expect(event).toMatchObject({ outcome: 'success', actor_type: 'user', details: { connector: 'local' } });

      const replay = new ConsoleVisitor(http);
      replay.cookies.set(SESSION, cookie);
      expect((await replay.get('/console')).body).toContain('Your console session has ended');
      replay.cookies.set(SESSION, cookie);
      expect((await replay.post('/console/sign-out', { csrf_token: field(home.body, 'csrf_token') })).status).toBe(401);
      const [replayed] = await queryDatabase(`SELECT * FROM audit_events WHERE type = 'console.refused' ORDER BY id DESC LIMIT 1`);
      expect(replayed.details).toEqual({ reason: 'unknown' });
    });

    it('keeps the console session and the approval grant apart: neither opens the other, and the session is no bearer token', async () => {
      const visitor = new ConsoleVisitor(http);
      await visitor.signIn(USERS.alice);
      const session = visitor.cookies.get(SESSION) as string;
      const context = await http.approvalContext(`devicegate_approval=${session}`);
      expect(context.status).toBe(401);
      expectInvalidToken(await http.me(session), 'The access token is malformed');

      const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel('grant') });
      const grant = (await http.signIn(started.user_code, USERS.alice)).split('=').slice(1).join('=');
      const withGrant = new ConsoleVisitor(http);
      withGrant.cookies.set(SESSION, grant);
      expect((await withGrant.get('/console')).body).not.toContain('Signed in as');
    });
  });

  describe('my devices', () => {
    it("lists the person's live authorizations, revokes one with a CSRF-checked form, and the revoked token stops working", async () => {
      const kept = await obtainToken(http, { user: EVE, deviceLabel: uniqueLabel('kept') });
      const doomedLabel = uniqueLabel('doomed');
      const doomed = await obtainToken(http, { user: EVE, deviceLabel: doomedLabel, scope: 'profile read' });
      expect((await http.me(doomed.access_token)).status).toBe(200);
      const others = await obtainToken(http, { user: USERS.alice, deviceLabel: uniqueLabel('alices') });

      const visitor = new ConsoleVisitor(http);
      await visitor.signIn(EVE);
      const home = await visitor.get('/console');
      const rows = home.body.split('<tr>').slice(2);
      expect(rows).toHaveLength(2);
      const row = rows.find((text) => text.includes(doomedLabel)) as string;
      expect(row).toContain('<code>profile</code> <code>read</code>');
      expect(row).toContain(' UTC</time>');
      expect(row).toContain('127.0.0.1');
      const action = /action="(\/console\/devices\/[0-9a-f-]{36}\/revoke)"/.exec(row)?.[1] as string;

      expect((await visitor.post(action, {})).status).toBe(403);
      expect((await visitor.post(action, { csrf_token: 'forged-csrf-token-of-nobody-0000' })).status).toBe(403);
      expect((await http.me(doomed.access_token)).status).toBe(200);
      const strangerAlice = new ConsoleVisitor(http);
      await strangerAlice.signIn(USERS.alice);
      const aliceHome = await strangerAlice.get('/console');
      const notHers = await strangerAlice.post(action, { csrf_token: field(aliceHome.body, 'csrf_token') });
      expect(notHers.headers.get('location')).toBe('/console?notice=already_gone');
      expect((await http.me(doomed.access_token)).status).toBe(200);

      const revoked = await visitor.post(action, { csrf_token: field(home.body, 'csrf_token') });
      expect(revoked.status).toBe(303);
      expect(revoked.headers.get('location')).toBe('/console?notice=revoked');
      expectInvalidToken(await http.me(doomed.access_token));
      expect((await http.me(kept.access_token)).status).toBe(200);
      expect((await http.me(others.access_token)).status).toBe(200);
      const after = await visitor.get('/console?notice=revoked');
      expect(after.body).toContain('The authorization was revoked');
      expect(after.body).not.toContain(doomedLabel);

      const [event] = await queryDatabase(`SELECT * FROM audit_events WHERE type = 'token.revoked' AND device_label = $1`, [doomedLabel]);
      expect(event).toMatchObject({ actor_type: 'user', actor_email: EVE.email, details: { reason: 'user' } });
    });

    it("shows where each approval came from (IP and software), marks this browser's, and the API lists the origin too", async () => {
      const visitor = new ConsoleVisitor(http);
      const first = await visitor.get('/console');
      const set = parseSetCookie(first.headers.getSetCookie().find((header) => header.startsWith(`${BROWSER}=`)) as string);
      expect(set.value).toMatch(/^[\w-]{43}$/);
      expect(set.attributes).toMatchObject({ path: '/', httponly: true, samesite: 'Lax', 'max-age': String(400 * 24 * 3600) });
      await visitor.signIn(EVE);
      expect((await visitor.get('/console')).headers.getSetCookie().some((header) => header.startsWith(`${BROWSER}=`))).toBe(false);
      const browserId = visitor.cookies.get(BROWSER) as string;
      expect(browserId).toBe(set.value);
      const here = uniqueLabel('here');
      const token = await visitor.approveDevice(EVE, here);
      const elsewhere = uniqueLabel('elsewhere');
      await obtainToken(http, { user: EVE, deviceLabel: elsewhere });

      const rows = (await visitor.get('/console')).body.split('<tr>').slice(2);
      const ours = rows.find((row) => row.includes(here)) as string;
      expect(ours).toContain('<td><span class="mono">127.0.0.1</span> <strong class="this-browser">this browser</strong><br><span class="hint">Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0</span></td>');
      const theirs = rows.find((row) => row.includes(elsewhere)) as string;
      expect(theirs).toContain('<span class="mono">127.0.0.1</span>');
      expect(theirs).not.toContain('this browser');
      expect(JSON.stringify(await queryDatabase('SELECT * FROM access_tokens WHERE device_label = $1', [here]))).not.toContain(browserId);

      const inventory = await http.request('/v1/oauth/authorizations', { headers: { authorization: `Bearer ${token.access_token}` } });
      const entry = inventory.body.authorizations.find((authorization: { device_label: string }) => authorization.device_label === here);
      expect(entry).toMatchObject({ current: true, approved_from: { ip: '127.0.0.1', user_agent: FIREFOX } });
      expect(JSON.stringify(inventory.body)).not.toMatch(/browser/);
    });

    it("revokes all but this browser's: every other authorization refused at once, each audited with the person as actor, the other console sessions ended", async () => {
      const visitor = new ConsoleVisitor(http);
      await visitor.signIn(GRACE);
      await visitor.get('/console');
      const keptLabel = uniqueLabel('this-browser');
      const kept = await visitor.approveDevice(GRACE, keptLabel);
      const otherBrowser = new ConsoleVisitor(http);
      await otherBrowser.get('/console');
      const lostLabel = uniqueLabel('lost-laptop');
      const lost = await otherBrowser.approveDevice(GRACE, lostLabel);
      const unknownLabel = uniqueLabel('no-browser-id');
      const unknown = await obtainToken(http, { user: GRACE, deviceLabel: unknownLabel });
      const bystander = await obtainToken(http, { user: USERS.bob, deviceLabel: uniqueLabel('bystander') });
      await otherBrowser.signIn(GRACE);
      expect((await otherBrowser.get('/console')).body).toContain('Signed in as Grace Careful');

      const home = await visitor.get('/console');
      expect(home.body).toContain('action="/console/devices/revoke-others"');
      expect((await visitor.post('/console/devices/revoke-others', {})).status).toBe(403);
      expect((await visitor.post('/console/devices/revoke-others', { csrf_token: 'forged-csrf-token-of-nobody-0000' })).status).toBe(403);
      const withoutId = new ConsoleVisitor(http);
      withoutId.cookies.set(SESSION, visitor.cookies.get(SESSION) as string);
      const refused = await withoutId.post('/console/devices/revoke-others', { csrf_token: field(home.body, 'csrf_token') });
      expect(refused.status).toBe(400);
      expect(refused.body).toContain('This browser cannot be recognised');
      expect((await http.me(lost.access_token)).status).toBe(200);

      const done = await visitor.post('/console/devices/revoke-others', { csrf_token: field(home.body, 'csrf_token') });
      expect(done.status).toBe(303);
      expect(done.headers.get('location')).toBe('/console?notice=revoked_others&count=2&sessions=1');
      expectInvalidToken(await http.me(lost.access_token));
      expectInvalidToken(await http.me(unknown.access_token));
      expect((await http.me(kept.access_token)).status).toBe(200);
      expect((await http.me(bystander.access_token)).status).toBe(200);
      const after = await visitor.get(done.headers.get('location') as string);
      expect(after.body).toContain('2 authorizations were revoked and 1 other console sessions ended.');
      expect(after.body).toContain(keptLabel);
      expect(after.body).not.toContain(lostLabel);
      expect((await otherBrowser.get('/console')).body).toContain('Your console session has ended');

      const events = await queryDatabase(`SELECT * FROM audit_events WHERE type = 'token.revoked' AND device_label = ANY($1) ORDER BY id`, [[lostLabel, unknownLabel, keptLabel]]);
      expect(events.map((event) => [event.device_label, event.actor_email, event.details.reason]).sort()).toEqual(
        [[lostLabel, GRACE.email, 'user'], [unknownLabel, GRACE.email, 'user']].sort(),
      );
      const [ended] = (await consoleEvents('console.sessions_ended', GRACE.email)).slice(-1);
      expect(ended).toMatchObject({ outcome: 'success', actor_type: 'user', details: { ended: 1 } });
    });

    it('shows script in a displayed field as text', async () => {
      const label = `<script>alert("x")</script>${uniqueLabel('')}`.slice(0, 64);
      await obtainToken(http, { user: USERS.alice, deviceLabel: label });
      const visitor = new ConsoleVisitor(http);
      await visitor.signIn(USERS.alice);
      await visitor.approveDevice(USERS.alice, uniqueLabel('agent'), '<img src=x onerror=alert(2)>');
      const home = await visitor.get('/console');
      expect(home.body).not.toContain('<script>alert');
      expect(home.body).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;');
      expect(home.body).not.toContain('<img src=x');
      expect(home.body).toContain('<span class="hint">&#60;img src=x onerror=alert(2)&#62;</span>');
    });
  });

  describe('audit', () => {
    it('is refused (403) to a person without audit:read, on every audit page', async () => {
      const visitor = new ConsoleVisitor(http);
      await visitor.signIn(USERS.bob);
      expect((await visitor.get('/console')).body).not.toContain('href="/console/audit"');
      for (const path of ['/console/audit', '/console/audit/events/1', '/console/audit/export']) {
        const reply = await visitor.get(path);
        expect(reply.status).toBe(403);
        expectPageHeaders(reply);
        expect(reply.body).toContain('Your account may not open this part of the console.');
      }
      expect((await new ConsoleVisitor(http).get('/console/audit')).status).toBe(401);
    });

    it('filters with the API filters, shows the chain status, opens an event, pages and exports the filter as NDJSON and CSV', async () => {
      const label = `<img src=x onerror=alert(1)>${uniqueLabel('')}`.slice(0, 64);
      await obtainToken(http, { user: USERS.bob, deviceLabel: label });
      await obtainToken(http, { user: USERS.bob, deviceLabel: uniqueLabel('second') });
      const visitor = new ConsoleVisitor(http);
      await visitor.signIn(USERS.alice);
      expect((await visitor.get('/console')).body).toContain('href="/console/audit"');

      const filtered = await visitor.get(`/console/audit?type=token.minted&subject=${encodeURIComponent(USERS.bob.email)}&client=&organization=`);
      expect(filtered.status).toBe(200);
      expectPageHeaders(filtered);
      expect(filtered.body).toMatch(/id="chain-status">The digest chain verifies/);
      expect(filtered.body).not.toContain('<img src=x');
      expect(filtered.body).toContain('&#60;img src=x onerror=alert(1)&#62;');
      const rows = filtered.body.split('<tbody>')[1].split('</tbody>')[0].split('<tr>').slice(1);
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const row of rows) expect(row).toContain('<code>token.minted</code>');
      expect(filtered.body).toContain('value="token.minted"');

      const link = /href="(\/console\/audit\/events\/\d+)"/.exec(rows[0])?.[1] as string;
      const detail = await visitor.get(link);
      expect(detail.status).toBe(200);
      expect(detail.body).toContain('<code>token.minted</code>');
      expect(detail.body).toContain('&#34;email&#34;: &#34;bob@example.com&#34;');
      expect((await visitor.get('/console/audit/events/999999999999')).status).toBe(404);

      const firstPage = await visitor.get('/console/audit');
      const next = /href="(\/console\/audit\?cursor=[^"]+)"/.exec(firstPage.body)?.[1];
      if (next) expect((await visitor.get(next.replace(/&#38;/g, '&'))).status).toBe(200);

      const exported = await visitor.get(`/console/audit/export?type=token.minted&subject=${encodeURIComponent(USERS.bob.email)}`);
      expect(exported.status).toBe(200);
      expect(exported.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      expect(exported.headers.get('content-disposition')).toBe('attachment; filename="audit-events.ndjson"');
      const lines = String(exported.body).trim().split('\n').map((line) => JSON.parse(line));
      for (const line of lines) expect(line).toMatchObject({ type: 'token.minted', actor: { email: USERS.bob.email } });
      expect(lines.map((line) => line.device_label)).toContain(label);

      expect(filtered.body).toContain(`href="/console/audit/export?type=token.minted&#38;subject=${encodeURIComponent(USERS.bob.email)}&#38;format=csv" download>`);
      const csv = await visitor.get(`/console/audit/export?type=token.minted&subject=${encodeURIComponent(USERS.bob.email)}&format=csv`);
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(csv.headers.get('content-disposition')).toBe('attachment; filename="audit-events.csv"');
      const [header, ...records] = String(csv.body).split('\r\n').filter(Boolean);
      expect(header).toBe(AUDIT_CSV_COLUMNS.join(','));
      expect(records.map((record) => record.split(',')[1])).toEqual(lines.map((line) => line.sequence));
      expect((await visitor.get('/console/audit/export?format=xlsx')).status).toBe(400);

      const bad = await visitor.get('/console/audit?type=no.such.event');
      expect(bad.status).toBe(400);
      expect(bad.body).toContain('Unknown event type');
    });
  });

  describe('admin', () => {
    it('is refused (403) to a person without admin, on every admin page and form', async () => {
      const visitor = new ConsoleVisitor(http);
      await visitor.signIn(USERS.bob);
      const csrf = field((await visitor.get('/console')).body, 'csrf_token');
      expect((await visitor.get('/console')).body).not.toContain('href="/console/admin"');
      expect((await visitor.get('/console/admin')).status).toBe(403);
      expect((await visitor.post('/console/admin/clients', { csrf_token: csrf, name: 'x', type: 'public', scopes: 'profile' })).status).toBe(403);
      expect((await visitor.post(`/console/admin/clients/${CLIENTS.cli}/enabled`, { csrf_token: csrf, enabled: 'false' })).status).toBe(403);
      expect((await visitor.post('/console/admin/offboard', { csrf_token: csrf, subject: USERS.alice.email, reason: 'no' })).status).toBe(403);
    });

    it('registers a client with its secret shown once, disables and enables it, every form CSRF-checked', async () => {
      const visitor = new ConsoleVisitor(http);
      await visitor.signIn(USERS.alice);
      const page = await visitor.get('/console/admin');
      expect(page.status).toBe(200);
      expectPageHeaders(page);
      expect(page.body).toContain(`<code>${CLIENTS.cli}</code>`);
      const csrf = field(page.body, 'csrf_token');
      const clientId = `console-${randomUUID().slice(0, 8)}`;
      const fields = { name: '<b onmouseover=alert(1)>Build bot</b>', type: 'confidential', scopes: 'profile read', client_id: clientId, registration_id: field(page.body, 'registration_id') };
      expect((await visitor.post('/console/admin/clients', fields)).status).toBe(403);
      const registered = await visitor.post('/console/admin/clients', { ...fields, csrf_token: csrf });
      expect(registered.status).toBe(200);
      expectPageHeaders(registered);
      const secret = /<code id="client-secret">([^<]+)<\/code>/.exec(registered.body)?.[1] as string;
      expect(secret).toMatch(/^[\w-]{43}$/);
      expect(registered.body).toContain('&#60;b onmouseover=alert(1)&#62;Build bot&#60;/b&#62;');
      const listed = await visitor.get('/console/admin');
      expect(listed.body).toContain(`<code>${clientId}</code>`);
      expect(listed.body).not.toContain(secret);
      expect(listed.body).not.toContain('<b onmouseover');
      const [created, ...more] = await queryDatabase(`SELECT * FROM audit_events WHERE type = 'client.created' AND client_id = $1`, [clientId]);
      expect(created).toMatchObject({ actor_type: 'user', actor_email: USERS.alice.email });
      expect(more).toEqual([]);
      expect(JSON.stringify(created)).not.toContain(secret);

      // The same form sent again (a reload of the answer) registers nothing and shows no secret; a new form registers.
      const { client_id: _named, ...unnamed } = fields;
      const again = await visitor.post('/console/admin/clients', { ...unnamed, csrf_token: csrf });
      const resent = await visitor.post('/console/admin/clients', { ...unnamed, csrf_token: csrf });
      expect(again.body).toMatch(/<code id="client-secret">/);
      expect(resent.status).toBe(200);
      expect(resent.body).toContain('This registration form was sent already');
      expect(resent.body).not.toMatch(/<code id="client-secret">/);
      const named = await queryDatabase(`SELECT client_id FROM oauth_clients WHERE name = $1`, [fields.name]);
      expect(named).toHaveLength(2);
      const fresh = field((await visitor.get('/console/admin')).body, 'registration_id');
      expect(fresh).not.toBe(fields.registration_id);
      expect((await visitor.post('/console/admin/clients', { ...unnamed, registration_id: fresh, csrf_token: csrf })).body).toMatch(/<code id="client-secret">/);

      const toggle = `/console/admin/clients/${clientId}/enabled`;
      expect((await visitor.post(toggle, { enabled: 'false' })).status).toBe(403);
      const disabled = await visitor.post(toggle, { csrf_token: csrf, enabled: 'false' });
      expect(disabled.headers.get('location')).toBe('/console/admin?notice=client_changed');
      expect((await http.deviceCode(clientId)).status).not.toBe(200);
      await visitor.post(toggle, { csrf_token: csrf, enabled: 'true' });
      expect((await http.deviceCode(clientId, {}, { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` })).status).toBe(200);
      expect((await visitor.post(`/console/admin/clients/${CLIENTS.cli}/enabled`, { csrf_token: csrf, enabled: 'false' })).status).toBe(400);
    });

    it('off-boards a person with a reason: every authorization revoked and audited', async () => {
      const first = await obtainToken(http, { user: DORA, deviceLabel: uniqueLabel('dora') });
      const second = await obtainToken(http, { user: DORA, deviceLabel: uniqueLabel('dora') });
      const kept = await obtainToken(http, { user: USERS.bob, deviceLabel: uniqueLabel('bob') });
      const visitor = new ConsoleVisitor(http);
      await visitor.signIn(USERS.alice);
      const csrf = field((await visitor.get('/console/admin')).body, 'csrf_token');
      const reason = 'Left the company on 2026-12-05 <script>';
      expect((await visitor.post('/console/admin/offboard', { subject: DORA.email, reason })).status).toBe(403);
      expect((await http.me(first.access_token)).status).toBe(200);
      const done = await visitor.post('/console/admin/offboard', { csrf_token: csrf, subject: DORA.email, reason });
      expect(done.headers.get('location')).toBe('/console/admin?notice=offboarded&count=2');
      expect((await visitor.get(done.headers.get('location') as string)).body).toContain('The person was off-boarded: 2 authorizations revoked.');
      expectInvalidToken(await http.me(first.access_token));
      expectInvalidToken(await http.me(second.access_token));
      expect((await http.me(kept.access_token)).status).toBe(200);
      const [event] = await queryDatabase(`SELECT * FROM audit_events WHERE type = 'subject.offboarded' AND details->>'subject' = $1`, [DORA.email]);
      expect(event).toMatchObject({ actor_email: USERS.alice.email, details: { reason, revoked: 2 } });
      const revoked = await queryDatabase(`SELECT * FROM audit_events WHERE type = 'token.revoked' AND details->>'reason' = 'admin' AND actor_email = $1 AND details->>'subject_id' = $2`, [USERS.alice.email, event.details.subjects[0]]);
      expect(revoked).toHaveLength(2);
    });
  });
});

describe('the console signing in through OpenID Connect (HTTP)', () => {
  const IDP_CLIENT = { id: 'devicegate-console', secret: 'console-idp-client-secret-0123456789abcdef' };
  const CAROL = { sub: 'idp-user-carol-0001', email: 'carol@acme.test', name: 'Carol Acme' };
  const DAVE = { sub: 'idp-user-dave-0002', email: 'dave@acme.test', name: 'Dave Acme' };
  const ACME_CLI = 'acme-console-cli';
  const GLOBEX_CLI = 'globex-console-cli';
  let database: TestDatabase;
  let idp: OidcIdp;
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    const port = await freePort();
    [database, idp] = await Promise.all([
      createMigratedDatabase(),
      startOidcIdp({
        clients: [{ client_id: IDP_CLIENT.id, client_secret: IDP_CLIENT.secret, redirect_uris: [`http://127.0.0.1:${port}/oauth/device/sso/oidc/acme-oidc/callback`] }],
        accounts: { carol: CAROL, dave: DAVE },
      }),
    ]);
    testApp = await startTestApp({
      port,
      env: { DATABASE_URL: database.url },
      configure: (file) => {
        grantAuditRead(file, `acme:${CAROL.email}`);
        const scopes = file.scopes as { name: string; granted_to?: string[] }[];
        (scopes.find((scope) => scope.name === 'admin') as { granted_to: string[] }).granted_to.push(`acme:${CAROL.email}`);
        file.organizations = [
          { id: 'acme', name: 'Acme Corp', email_domains: ['acme.test'] },
          { id: 'globex', name: 'Globex', email_domains: ['globex.test'] },
        ];
        file.clients.push(
          { client_id: ACME_CLI, name: 'Acme CLI', type: 'public', scopes: ['profile', 'read'], organization: 'acme' },
          { client_id: GLOBEX_CLI, name: 'Globex CLI', type: 'public', scopes: ['profile', 'read'], organization: 'globex' },
        );
        file.connectors = [acmeOidcConnector('acme-oidc', idp, IDP_CLIENT)];
      },
    });
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(async () => {
    await testApp?.close();
    await idp?.stop();
    await database?.drop();
  });

  it('goes to the IdP from the sign-in page and comes back into a console session, never an approval grant; the answer is single use', async () => {
    const visitor = new ConsoleVisitor(http);
    const page = await visitor.get('/console');
    expect(page.body).toContain('href="/console/sign-in/sso/acme-oidc">Sign in with Acme SSO</a>');
    const initiated = await visitor.get('/console/sign-in/sso/acme-oidc');
    expect(initiated.status).toBe(303);
    const callback = new URL(await signInAtIdp(initiated.headers.get('location') as string, 'carol'));
    expect(callback.pathname).toBe('/oauth/device/sso/oidc/acme-oidc/callback');

    const returned = visitor.keep(await http.request(`${callback.pathname}${callback.search}`, { headers: { accept: 'text/html' } }));
    expect(returned.status).toBe(303);
    expect(returned.headers.get('location')).toBe('/console');
    const cookies = returned.headers.getSetCookie().map(parseSetCookie);
    expect(cookies.map((cookie) => [cookie.name, cookie.attributes.path])).toEqual([['devicegate_console', '/console']]);

    const home = await visitor.get('/console');
    expect(home.body).toContain('Signed in as Carol Acme (carol@acme.test) · Organization: acme');
    const [event] = await database.query(`SELECT * FROM audit_events WHERE type = 'console.signed_in' AND actor_email = $1`, [CAROL.email]);
    expect(event).toMatchObject({ organization_id: 'acme', actor_issuer: idp.issuer, actor_external_id: CAROL.sub, details: { connector: 'acme-oidc' } });
    const [initiatedEvent] = await database.query(`SELECT * FROM audit_events WHERE type = 'sso.initiated' ORDER BY id DESC LIMIT 1`);
    expect(initiatedEvent.details).toEqual({ connector: 'acme-oidc', connector_type: 'oidc', routed_by: 'connector', purpose: 'console' });

    const replayed = await http.request(`${callback.pathname}${callback.search}`, { headers: { accept: 'text/html' } });
    expect(replayed.status).toBe(400);
    expect(replayed.headers.getSetCookie()).toEqual([]);
  });

  it("shows an organization's auditor only that organization's events", async () => {
    await obtainToken(http, { user: USERS.alice, deviceLabel: uniqueLabel('no-organization') });
    const visitor = new ConsoleVisitor(http);
    const initiated = await visitor.get('/console/sign-in/sso/acme-oidc');
    const callback = new URL(await signInAtIdp(initiated.headers.get('location') as string, 'carol'));
    visitor.keep(await http.request(`${callback.pathname}${callback.search}`));
    const audit = await visitor.get('/console/audit');
    expect(audit.status).toBe(200);
    expect(audit.body).toContain('You see the events of organization acme only.');
    const organizations = [...audit.body.matchAll(/<code>[^<]+<\/code><\/td>\n  <td>[^<]*<\/td>\n  <td>[^<]*<\/td>\n  <td>([^<]*)<\/td>/g)].map((match) => match[1]);
    expect(organizations.length).toBeGreaterThan(0);
    expect(new Set(organizations)).toEqual(new Set(['acme']));
    expect(audit.body).not.toContain('alice@example.com');
    const other = await visitor.get('/console/audit?organization=globex');
    expect(other.status).toBe(403);
    const exported = await visitor.get('/console/audit/export');
    for (const line of String(exported.body).trim().split('\n')) expect(JSON.parse(line).organization).toBe('acme');
    const csv = String((await visitor.get('/console/audit/export?format=csv')).body).split('\r\n').filter(Boolean);
    expect(csv.length).toBeGreaterThan(1);
    for (const record of csv.slice(1)) expect(record.split(',')[10]).toBe('acme');
    expect((await visitor.get('/console/audit/export?format=csv&organization=globex')).status).toBe(403);
  });

  /** A console visitor signed in at the IdP as `login`. */
  async function signedInThroughIdp(login: string): Promise<ConsoleVisitor> {
    const visitor = new ConsoleVisitor(http);
    const initiated = await visitor.get('/console/sign-in/sso/acme-oidc');
    const callback = new URL(await signInAtIdp(initiated.headers.get('location') as string, login));
    visitor.keep(await http.request(`${callback.pathname}${callback.search}`));
    return visitor;
  }

  describe("an organization's admin", () => {
    it("sees and changes that organization's clients only, and registers into it whatever the form says", async () => {
      const carol = await signedInThroughIdp('carol');
      expect((await carol.get('/console')).body).toContain('href="/console/admin"');
      const page = await carol.get('/console/admin');
      expect(page.status).toBe(200);
      expect(page.body).toContain('You administer organization acme');
      expect(page.body).toContain(`<code>${ACME_CLI}</code>`);
      for (const foreign of [GLOBEX_CLI, CLIENTS.cli, CLIENTS.admin]) expect(page.body).not.toContain(`<code>${foreign}</code>`);
      expect(page.body).not.toContain('name="organization"');
      const csrf = field(page.body, 'csrf_token');

      const registrationId = field(page.body, 'registration_id');
      const forged = await carol.post('/console/admin/clients', { csrf_token: csrf, registration_id: registrationId, name: 'Sneaky', type: 'public', scopes: 'profile', organization: 'globex', client_id: `sneaky-${randomUUID().slice(0, 8)}` });
      expect(forged.status).toBe(403);
      expect(forged.body).toContain('You administer organization acme');
      expect(await database.query(`SELECT * FROM oauth_clients WHERE name = 'Sneaky'`)).toEqual([]);

      const clientId = `acme-bot-${randomUUID().slice(0, 8)}`;
      const registered = await carol.post('/console/admin/clients', { csrf_token: csrf, registration_id: registrationId, name: 'Acme bot', type: 'confidential', scopes: 'profile', client_id: clientId });
      expect(registered.status).toBe(200);
      expect(registered.body).toMatch(/<code id="client-secret">[\w-]{43}<\/code>/);
      const [stored] = await database.query('SELECT * FROM oauth_clients WHERE client_id = $1', [clientId]);
      expect(stored.organization_id).toBe('acme');
      const [created] = await database.query(`SELECT * FROM audit_events WHERE type = 'client.created' AND client_id = $1`, [clientId]);
      expect(created).toMatchObject({ actor_email: CAROL.email });
      expect((await carol.get('/console/admin')).body).toContain(`<code>${clientId}</code>`);

      const toggle = (id: string, enabled: string) => carol.post(`/console/admin/clients/${encodeURIComponent(id)}/enabled`, { csrf_token: csrf, enabled });
      expect((await toggle(clientId, 'false')).headers.get('location')).toBe('/console/admin?notice=client_changed');
      expect((await database.query('SELECT enabled FROM oauth_clients WHERE client_id = $1', [clientId]))[0].enabled).toBe(false);
      const globexBot = `globex-bot-${randomUUID().slice(0, 8)}`;
      await database.query(
        `INSERT INTO oauth_clients (client_id, name, type, grant_types, allowed_scopes, organization_id) VALUES ($1, 'Globex bot', 'public', '{urn:ietf:params:oauth:grant-type:device_code}', '{profile}', 'globex')`,
        [globexBot],
      );
      for (const foreign of [globexBot, GLOBEX_CLI, CLIENTS.cli, 'no-such-client']) {
        const reply = await toggle(foreign, 'false');
        expect(reply.status).toBe(404);
        expect(reply.body).toContain(`No client ${foreign}`);
      }
      expect((await database.query('SELECT enabled FROM oauth_clients WHERE client_id = $1', [globexBot]))[0].enabled).toBe(true);
    });

    it("off-boards that organization's people only, audited in that organization", async () => {
      const daveAcme = await approveThroughIdp(http, { clientId: ACME_CLI, connector: 'acme-oidc', login: 'dave' });
      const alice = await obtainToken(http, { user: USERS.alice, deviceLabel: uniqueLabel('not-acme') });
      const carol = await signedInThroughIdp('carol');
      const csrf = field((await carol.get('/console/admin')).body, 'csrf_token');

      const outside = await carol.post('/console/admin/offboard', { csrf_token: csrf, subject: USERS.alice.email, reason: 'Not mine to take' });
      expect(outside.headers.get('location')).toBe('/console/admin?notice=offboarded&count=0');
      expect((await http.me(alice.access_token)).status).toBe(200);
      const [refusedEvent] = await database.query(`SELECT * FROM audit_events WHERE type = 'subject.offboarded' AND details->>'reason' = 'Not mine to take'`);
      expect(refusedEvent).toMatchObject({ organization_id: 'acme', details: { subjects: [], revoked: 0 } });

      const inside = await carol.post('/console/admin/offboard', { csrf_token: csrf, subject: DAVE.email, reason: 'Left Acme' });
      expect(inside.headers.get('location')).toBe('/console/admin?notice=offboarded&count=1');
      expectInvalidToken(await http.me(daveAcme));
      const [event] = await database.query(`SELECT * FROM audit_events WHERE type = 'subject.offboarded' AND details->>'reason' = 'Left Acme'`);
      expect(event).toMatchObject({ organization_id: 'acme', actor_email: CAROL.email, details: { subject: DAVE.email, revoked: 1 } });
    });
  });

  it('answers an unknown connector with a console page', async () => {
    const reply = await new ConsoleVisitor(http).get('/console/sign-in/sso/nobody');
    expect(reply.status).toBe(404);
    expectPageHeaders(reply);
    expect(reply.body).toContain('There is no single sign-on connector');
  });
});
