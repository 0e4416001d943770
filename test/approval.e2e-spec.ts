import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { deriveKey } from '../src/common/crypto';
import {
  expectNoStore,
  expectOAuthError,
  retryAfterSeconds,
  startFlow,
  uniqueLabel,
} from './support/flows';
import { DeviceGateHttp, parseSetCookie, type Reply } from './support/http';
import { CLIENTS, CONFIDENTIAL_SECRET, startTestApp, type TestApp, USERS } from './support/test-app';

const INVALID_USER_CODE = {
  error: 'invalid_user_code',
  error_description: 'The code is wrong, has expired or has already been used. Start again on your device to get a new one.',
};
const INVALID_CREDENTIALS = { error: 'invalid_credentials', error_description: 'Unknown user or wrong password' };
const NO_SIGN_IN = { error: 'login_required', error_description: 'Sign in to approve or deny this device' };
const BAD_SIGN_IN = { error: 'login_required', error_description: 'Your sign-in has expired or is not valid; sign in again' };
const USED_SIGN_IN = { error: 'login_required', error_description: 'This sign-in was already used; sign in again' };
const BAD_CSRF = { error: 'invalid_csrf_token', error_description: 'The X-CSRF-Token header is missing or wrong; reload the page' };
const OTHER_CODE = { error: 'invalid_request', error_description: 'This sign-in is for another code; sign in again for this one' };
const PENDING = { error: 'authorization_pending', error_description: 'The user has not yet approved or denied this device' };
const TOO_MANY = { error: 'too_many_requests', error_description: 'Too many requests; wait a moment and try again' };

/** `devicegate_approval=<value>` → `<value>`. */
const cookieValue = (cookie: string) => cookie.slice(cookie.indexOf('=') + 1);

function login(http: DeviceGateHttp, userCode: string, username: string, password: string) {
  return http.form('/oauth/device/sso/local/login', { user_code: userCode, username, password });
}

function lookup(http: DeviceGateHttp, userCode: string) {
  return http.request(`/oauth/device/lookup?user_code=${encodeURIComponent(userCode)}`);
}

/** The approval tail every connector ends in, driven through the local connector. */
describe('approval through the local connector', () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    testApp = await startTestApp();
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp.close());

  /** Nothing happened to the code: the page still offers it and the device still waits. */
  async function expectStillPending(started: { user_code: string; device_code: string }, clientId: string = CLIENTS.cli) {
    expect((await lookup(http, started.user_code)).body.valid).toBe(true);
    expectOAuthError(await http.poll(clientId, started.device_code), 400, PENDING);
  }

  describe('POST /oauth/device/sso/local/login', () => {
    it('redirects to the page with an HttpOnly, SameSite=Lax approval-grant cookie scoped to /oauth/device', async () => {
      const started = await startFlow(http);

      const reply = await login(http, started.user_code, USERS.alice.username, USERS.alice.password);

      expect(reply.status).toBe(303);
      expect(reply.headers.get('location')).toBe('/device?sso_verified=1');
      const cookies = reply.headers.getSetCookie();
      expect(cookies).toHaveLength(1);
      const cookie = parseSetCookie(cookies[0]);
      expect(cookie.name).toBe('devicegate_approval');
      expect(cookie.value).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(cookie.attributes).toEqual({ path: '/oauth/device', 'max-age': expect.any(String), httponly: true, samesite: 'Lax' });
      expect(Number(cookie.attributes['max-age'])).toBeLessThanOrEqual(300);
      expect(Number(cookie.attributes['max-age'])).toBeGreaterThan(290);
    });

    it('accepts the code the way people type it', async () => {
      const started = await startFlow(http);
      const typed = ` ${started.user_code.replace('-', '').toLowerCase()} `;
      const reply = await login(http, typed, USERS.alice.username, USERS.alice.password);
      expect(reply.status).toBe(303);
    });

    it('refuses a wrong password with 401 invalid_credentials and sets no cookie', async () => {
      const started = await startFlow(http);
      const reply = await login(http, started.user_code, USERS.alice.username, USERS.bob.password);
      expect({ status: reply.status, body: reply.body }).toEqual({ status: 401, body: INVALID_CREDENTIALS });
      expect(reply.headers.getSetCookie()).toEqual([]);
      await expectStillPending(started);
    });

    it('gives an unknown user the very same answer', async () => {
      const started = await startFlow(http);
      const wrongPassword = await login(http, started.user_code, USERS.alice.username, 'not-her-password');
      const unknownUser = await login(http, started.user_code, 'mallory', 'not-her-password');
      expect({ status: unknownUser.status, body: unknownUser.body }).toEqual({ status: 401, body: INVALID_CREDENTIALS });
      expect({ status: unknownUser.status, body: unknownUser.body }).toEqual({ status: wrongPassword.status, body: wrongPassword.body });
      expect(unknownUser.headers.getSetCookie()).toEqual([]);
    });

    it('refuses a code that does not exist or cannot be one with 400 invalid_user_code', async () => {
      for (const code of ['BCDF-GHJK', 'not a code', 'AAAA-AAAA', 'x'.repeat(80)]) {
        const reply = await login(http, code, USERS.alice.username, USERS.alice.password);
        expect({ code, status: reply.status, body: reply.body }).toEqual({ code, status: 400, body: INVALID_USER_CODE });
        expect(reply.headers.getSetCookie()).toEqual([]);
      }
    });

    it('refuses an expired code with 400 invalid_user_code', async () => {
      const started = await startFlow(http, CLIENTS.shortLived);
      testApp.clock.advance(started.expires_in * 1000);
      const reply = await login(http, started.user_code, USERS.alice.username, USERS.alice.password);
      expect({ status: reply.status, body: reply.body }).toEqual({ status: 400, body: INVALID_USER_CODE });
    });

    it('refuses an approved or denied code with 400 invalid_user_code', async () => {
      for (const decision of ['approve', 'deny'] as const) {
        const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel() });
        await http.approveAs(started.user_code, USERS.alice, decision);
        const reply = await login(http, started.user_code, USERS.alice.username, USERS.alice.password);
        expect({ decision, status: reply.status, body: reply.body }).toEqual({ decision, status: 400, body: INVALID_USER_CODE });
      }
    });

    it('checks the code before the password, so a wrong code never reveals whether a password was right', async () => {
      const reply = await login(http, 'BCDF-GHJK', USERS.alice.username, 'wrong');
      expect(reply.body).toEqual(INVALID_USER_CODE);
    });

    it('refuses a request without a username with invalid_request', async () => {
      const started = await startFlow(http);
      const reply = await http.form('/oauth/device/sso/local/login', { user_code: started.user_code, password: 'x' });
      expect({ status: reply.status, body: reply.body }).toEqual({
        status: 400,
        body: { error: 'invalid_request', error_description: 'username is required' },
      });
    });
  });

  describe('GET /oauth/device/approval-context', () => {
    it('shows who asks for what, from where, with the CSRF token', async () => {
      const label = uniqueLabel('build-agent');
      const started = await startFlow(
        http,
        CLIENTS.cli,
        { scope: 'profile read', device_label: label },
        { 'user-agent': 'mycli/1.2.3 (linux; x64)' },
      );
      const cookie = await http.signIn(started.user_code, USERS.alice);

      const reply = await http.approvalContext(cookie);

      expect(reply.status).toBe(200);
      expectNoStore(reply);
      expect(reply.body).toEqual({
        user_code: started.user_code,
        subject: { issuer: 'urn:devicegate:local', email: USERS.alice.email, name: USERS.alice.name, organization: null },
        client: { id: CLIENTS.cli, name: 'Test CLI', organization: null },
        device_label: label,
        scopes: [
          { name: 'profile', description: 'See your name and email address' },
          { name: 'read', description: 'Read your projects' },
        ],
        withheld_scopes: [],
        request: { ip: '127.0.0.1', user_agent: 'mycli/1.2.3 (linux; x64)', created_at: expect.any(String) },
        approving_ip: '127.0.0.1',
        same_ip: true,
        csrf_token: expect.stringMatching(/^[\w-]{32}$/),
        expires_at: expect.any(String),
        expires_in: expect.any(Number),
      });
      expect(reply.body.expires_in).toBeGreaterThan(290);
      expect(reply.body.expires_in).toBeLessThanOrEqual(300);
      const now = testApp.clock.now();
      expect(Math.abs(Date.parse(reply.body.request.created_at) - now)).toBeLessThan(5_000);
      expect(Date.parse(reply.body.expires_at)).toBeGreaterThan(now + 290_000);
      expect(Date.parse(reply.body.expires_at)).toBeLessThanOrEqual(now + 300_000);
    });

    it('says which requested scopes this person may not grant (a restricted scope), apart from what the token will hold', async () => {
      const started = await startFlow(http, CLIENTS.admin, { scope: 'admin profile' });
      const bob = await http.approvalContext(await http.signIn(started.user_code, USERS.bob));
      expect(bob.body.scopes).toEqual([{ name: 'profile', description: 'See your name and email address' }]);
      expect(bob.body.withheld_scopes).toEqual([{ name: 'admin', description: 'Administer devicegate' }]);
      const alice = await http.approvalContext(await http.signIn(started.user_code, USERS.alice));
      expect(alice.body.scopes.map((scope: { name: string }) => scope.name)).toEqual(['admin', 'profile']);
      expect(alice.body.withheld_scopes).toEqual([]);
    });

    it('gives a device without a label a null device_label', async () => {
      const started = await startFlow(http);
      const reply = await http.approvalContext(await http.signIn(started.user_code, USERS.bob));
      expect(reply.body.device_label).toBeNull();
      expect(reply.body.subject.email).toBe(USERS.bob.email);
      expect(reply.body.scopes).toEqual([{ name: 'profile', description: 'See your name and email address' }]);
    });

    it('answers 401 login_required without the cookie', async () => {
      expectOAuthError(await http.request('/oauth/device/approval-context'), 401, NO_SIGN_IN);
    });

    it('hands out a fresh CSRF token with every sign-in', async () => {
      const started = await startFlow(http);
      const first = await http.approvalContext(await http.signIn(started.user_code, USERS.alice));
      const second = await http.approvalContext(await http.signIn(started.user_code, USERS.alice));
      expect(first.body.csrf_token).not.toBe(second.body.csrf_token);
    });
  });

  describe('POST /oauth/device/approve and /deny', () => {
    async function signedIn(clientId: string = CLIENTS.cli) {
      const started = await startFlow(http, clientId, { device_label: uniqueLabel() });
      const cookie = await http.signIn(started.user_code, USERS.alice);
      const context = await http.approvalContext(cookie);
      return { started, cookie, csrf: context.body.csrf_token as string };
    }

    it('approves, clears the cookie, and the device gets its token on the next poll', async () => {
      const { started, cookie, csrf } = await signedIn();

      const reply = await http.decide('approve', cookie, csrf, started.user_code);

      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ status: 'approved' });
      expectNoStore(reply);
      expect(reply.headers.getSetCookie().map(parseSetCookie)).toEqual([
        { name: 'devicegate_approval', value: '', attributes: { path: '/oauth/device', 'max-age': '0', httponly: true, samesite: 'Lax' } },
      ]);
      const token = await http.poll(CLIENTS.cli, started.device_code);
      expect(token.status).toBe(200);
      expect(token.body.token_type).toBe('Bearer');
    });

    it('denies, and the device hears access_denied', async () => {
      const { started, cookie, csrf } = await signedIn();

      const reply = await http.decide('deny', cookie, csrf, started.user_code);

      expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: { status: 'denied' } });
      expectOAuthError(await http.poll(CLIENTS.cli, started.device_code), 400, {
        error: 'access_denied',
        error_description: 'The user denied this device',
      });
    });

    it('refuses a decision without the cookie with 401 login_required', async () => {
      const { started, csrf } = await signedIn();
      for (const decision of ['approve', 'deny'] as const) {
        const reply = await http.json(`/oauth/device/${decision}`, { user_code: started.user_code }, { 'x-csrf-token': csrf });
        expectOAuthError(reply, 401, NO_SIGN_IN);
      }
      await expectStillPending(started);
    });

    it('refuses a decision without X-CSRF-Token with 403 invalid_csrf_token, and the code stays pending', async () => {
      const { started, cookie } = await signedIn();
      for (const decision of ['approve', 'deny'] as const) {
        expectOAuthError(await http.decide(decision, cookie, undefined, started.user_code), 403, BAD_CSRF);
      }
      await expectStillPending(started);
    });

    it('refuses a wrong X-CSRF-Token with 403 invalid_csrf_token, and the code stays pending', async () => {
      const { started, cookie, csrf } = await signedIn();
      const other = await signedIn();
      for (const wrong of ['', 'x', `${csrf}x`, csrf.slice(1), other.csrf]) {
        const reply = await http.decide('approve', cookie, wrong, started.user_code);
        expectOAuthError(reply, 403, BAD_CSRF);
      }
      await expectStillPending(started);
    });

    it('refuses the cookie of another code with 400 invalid_request and changes nothing', async () => {
      const mine = await signedIn();
      const theirs = await signedIn();

      const reply = await http.decide('approve', mine.cookie, mine.csrf, theirs.started.user_code);

      expectOAuthError(reply, 400, OTHER_CODE);
      expect(reply.headers.getSetCookie()).toEqual([]);
      await expectStillPending(mine.started);
      await expectStillPending(theirs.started);
      expect((await http.decide('deny', mine.cookie, mine.csrf, theirs.started.user_code)).body).toEqual(OTHER_CODE);
    });

    it('refuses a replayed cookie after a successful approve with 401 login_required', async () => {
      const { started, cookie, csrf } = await signedIn();
      expect((await http.decide('approve', cookie, csrf, started.user_code)).status).toBe(200);

      expectOAuthError(await http.decide('approve', cookie, csrf, started.user_code), 401, USED_SIGN_IN);
      expectOAuthError(await http.decide('deny', cookie, csrf, started.user_code), 401, USED_SIGN_IN);
      expectOAuthError(await http.approvalContext(cookie), 401, USED_SIGN_IN);
      // The replay could not turn the approval into a denial.
      expect((await http.poll(CLIENTS.cli, started.device_code)).status).toBe(200);
    });

    it('lets one of two concurrent clicks through', async () => {
      const { started, cookie, csrf } = await signedIn();
      const replies = await Promise.all([
        http.decide('approve', cookie, csrf, started.user_code),
        http.decide('deny', cookie, csrf, started.user_code),
        http.decide('approve', cookie, csrf, started.user_code),
      ]);
      expect(replies.filter((reply) => reply.status === 200)).toHaveLength(1);
      for (const reply of replies.filter((candidate) => candidate.status !== 200)) {
        expect({ status: reply.status, error: reply.body.error }).toEqual({ status: 401, error: 'login_required' });
      }
    });

    describe('a cookie devicegate did not sign as it is', () => {
      /** An approval-grant cookie built like the service builds it, signed with `secret` under `kid`. */
      async function forge(userCode: string, secret: Buffer, kid: string, claims: Record<string, unknown> = {}) {
        const now = Math.floor(testApp.clock.now() / 1000);
        return new SignJWT({
          sub_iss: 'urn:devicegate:local',
          sub_ext: 'mallory',
          email: 'mallory@example.com',
          name: 'Mallory',
          user_code: userCode.replace('-', ''),
          csrf: 'forged-csrf-token',
          ...claims,
        })
          .setProtectedHeader({ alg: 'HS256', kid, typ: 'approval-grant+jwt' })
          .setIssuer(testApp.config.publicUrl)
          .setAudience('devicegate:approval-grant')
          .setSubject(randomUUID())
          .setJti(randomUUID())
          .setIssuedAt(now)
          .setExpirationTime(now + 120)
          .sign(deriveKey(secret, 'approval-grant'));
      }

      const asCookie = (value: string) => `devicegate_approval=${value}`;

      it('is accepted when built with the right key (so the refusals below are about the key)', async () => {
        const started = await startFlow(http);
        const [key] = testApp.config.secretKeys;
        const reply = await http.approvalContext(asCookie(await forge(started.user_code, key.secret, key.id)));
        expect(reply.status).toBe(200);
        expect(reply.body.csrf_token).toBe('forged-csrf-token');
      });

      it('refuses a cookie signed by another key with 401 login_required', async () => {
        const started = await startFlow(http);
        const [key] = testApp.config.secretKeys;
        const otherSecret = Buffer.from('another-deployment-signing-key-0123456789');
        for (const kid of [key.id, 'k2']) {
          const cookie = asCookie(await forge(started.user_code, otherSecret, kid));
          expectOAuthError(await http.approvalContext(cookie), 401, BAD_SIGN_IN);
          expectOAuthError(await http.decide('approve', cookie, 'forged-csrf-token', started.user_code), 401, BAD_SIGN_IN);
        }
        await expectStillPending(started);
      });

      it('refuses a tampered cookie with 401 login_required', async () => {
        const mine = await signedIn();
        const target = await startFlow(http);
        const [header, payload, signature] = cookieValue(mine.cookie).split('.');
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
        const retargeted = Buffer.from(JSON.stringify({ ...claims, user_code: target.user_code.replace('-', '') })).toString('base64url');
        const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
        const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'approval-grant+jwt', kid: 'k1' })).toString('base64url')}.${payload}.`;

        expectOAuthError(
          await http.decide('approve', asCookie(`${header}.${retargeted}.${signature}`), mine.csrf, target.user_code),
          401,
          BAD_SIGN_IN,
        );
        for (const value of [`${header}.${payload}.${flipped}`, unsigned, `${header}.${payload}`, 'garbage']) {
          expectOAuthError(await http.decide('approve', asCookie(value), mine.csrf, mine.started.user_code), 401, BAD_SIGN_IN);
        }
        await expectStillPending(target);
        await expectStillPending(mine.started);
        // The genuine cookie was not used up by the forgeries.
        expect((await http.decide('approve', mine.cookie, mine.csrf, mine.started.user_code)).status).toBe(200);
      });
    });

    describe('lifetime of the approval grant', () => {
      it('ends no later than the code: a 60 s code gets a cookie of at most 60 s', async () => {
        const started = await startFlow(http, CLIENTS.shortLived);
        expect(started.expires_in).toBe(60);

        const reply = await login(http, started.user_code, USERS.alice.username, USERS.alice.password);
        const cookie = parseSetCookie(reply.headers.getSetCookie()[0]);
        expect(Number(cookie.attributes['max-age'])).toBeLessThanOrEqual(60);
        expect(Number(cookie.attributes['max-age'])).toBeGreaterThan(50);
        const context = await http.approvalContext(`${cookie.name}=${cookie.value}`);
        expect(Date.parse(context.body.expires_at)).toBeLessThanOrEqual(testApp.clock.now() + 60_000);

        testApp.clock.advance(60_000);
        expectOAuthError(await http.approvalContext(`${cookie.name}=${cookie.value}`), 401, BAD_SIGN_IN);
        expectOAuthError(
          await http.decide('approve', `${cookie.name}=${cookie.value}`, context.body.csrf_token, started.user_code),
          401,
          BAD_SIGN_IN,
        );
      });

      it('ends after APPROVAL_GRANT_TTL even while the code lives on; a new sign-in still works', async () => {
        const { started, cookie, csrf } = await signedIn();

        testApp.clock.advance(300_000);
        expectOAuthError(await http.decide('approve', cookie, csrf, started.user_code), 401, BAD_SIGN_IN);
        await expectStillPending(started);

        await http.approveAs(started.user_code, USERS.alice);
        testApp.clock.advance(5_000);
        expect((await http.poll(CLIENTS.cli, started.device_code)).status).toBe(200);
      });
    });
  });

  describe('GET /oauth/device/lookup', () => {
    it('describes a live code', async () => {
      const label = uniqueLabel('laptop');
      const started = await startFlow(http, CLIENTS.cli, { device_label: label });

      const reply = await lookup(http, started.user_code);

      expect(reply.status).toBe(200);
      expect(reply.headers.get('cache-control')).toBe('no-store');
      expect(reply.body).toEqual({
        valid: true,
        client_id: CLIENTS.cli,
        client_name: 'Test CLI',
        device_label: label,
        expires_in: expect.any(Number),
      });
      expect(reply.body.expires_in).toBeLessThanOrEqual(600);
      expect(reply.body.expires_in).toBeGreaterThan(590);
    });

    it('counts expires_in down with the clock and accepts the code as typed', async () => {
      const started = await startFlow(http, CLIENTS.shortLived);
      testApp.clock.advance(30_000);
      const reply = await lookup(http, started.user_code.toLowerCase().replace('-', ' '));
      expect(reply.body).toEqual({ valid: true, client_id: CLIENTS.shortLived, client_name: 'Short Lived', device_label: null, expires_in: expect.any(Number) });
      expect(reply.body.expires_in).toBeLessThanOrEqual(30);
      expect(reply.body.expires_in).toBeGreaterThan(25);
    });

    it('answers the identical {"valid": false} for unknown, malformed, expired, approved and denied codes', async () => {
      const raw = async (userCode: string) => {
        const response = await fetch(`${testApp.baseUrl}/oauth/device/lookup?user_code=${encodeURIComponent(userCode)}`);
        return { status: response.status, text: await response.text() };
      };
      const expiring = await startFlow(http, CLIENTS.shortLived);
      const approved = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel() });
      await http.approveAs(approved.user_code, USERS.alice);
      const denied = await startFlow(http);
      await http.approveAs(denied.user_code, USERS.alice, 'deny');
      const live = await startFlow(http);
      testApp.clock.advance(expiring.expires_in * 1000);

      const answers = {
        unknown: await raw('BCDF-GHJK'),
        malformed: await raw('hello'),
        vowels: await raw('AEIO-UAEI'),
        tooLong: await raw('B'.repeat(100)),
        expired: await raw(expiring.user_code),
        approved: await raw(approved.user_code),
        denied: await raw(denied.user_code),
      };

      for (const answer of Object.values(answers)) expect(answer).toEqual({ status: 200, text: '{"valid":false}' });
      expect(JSON.parse((await raw(live.user_code)).text).valid).toBe(true);
    });

    it('refuses a lookup without user_code with invalid_request', async () => {
      const reply = await http.request('/oauth/device/lookup');
      expect({ status: reply.status, body: reply.body }).toEqual({
        status: 400,
        body: { error: 'invalid_request', error_description: 'user_code is required' },
      });
    });
  });
});

describe('the global budget of wrong user codes', () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    testApp = await startTestApp({ env: { RATE_LIMIT_FAILED_USER_CODES: '3/1m' } });
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp.close());

  it('refuses even a valid code with 429 too_many_requests and Retry-After once it is spent', async () => {
    const started = await startFlow(http);
    expect((await lookup(http, started.user_code)).body.valid).toBe(true);

    expect((await lookup(http, 'BCDF-GHJK')).body).toEqual({ valid: false });
    expect((await lookup(http, 'hello')).body).toEqual({ valid: false });
    expect((await login(http, 'ZZZZ-ZZZZ', USERS.alice.username, USERS.alice.password)).body).toEqual(INVALID_USER_CODE);

    const spent = {
      error: 'too_many_requests',
      error_description: 'Too many wrong codes were entered recently; try again in a few minutes',
    };
    const refusedLookup = await lookup(http, started.user_code);
    expect({ status: refusedLookup.status, body: refusedLookup.body }).toEqual({ status: 429, body: spent });
    expect(retryAfterSeconds(refusedLookup)).toBeGreaterThanOrEqual(1);
    expect(retryAfterSeconds(refusedLookup)).toBeLessThanOrEqual(60);

    const refusedLogin = await login(http, started.user_code, USERS.alice.username, USERS.alice.password);
    expect({ status: refusedLogin.status, body: refusedLogin.body }).toEqual({ status: 429, body: spent });
    expect(retryAfterSeconds(refusedLogin)).toBeLessThanOrEqual(60);
    expect(refusedLogin.headers.getSetCookie()).toEqual([]);
  });
});

describe('per-IP and per-client rate limits', () => {
  const apps: TestApp[] = [];

  async function appWith(env: Record<string, string>) {
    const testApp = await startTestApp({ env });
    apps.push(testApp);
    return new DeviceGateHttp(testApp.baseUrl);
  }

  afterAll(() => Promise.all(apps.map((testApp) => testApp.close())));

  function expectTooMany(reply: Reply) {
    expect({ status: reply.status, body: reply.body }).toEqual({ status: 429, body: TOO_MANY });
    const seconds = retryAfterSeconds(reply);
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(60);
  }

  it('RATE_LIMIT_DEVICE_CODE_PER_IP: the third device authorization in the window gets 429', async () => {
    const http = await appWith({ RATE_LIMIT_DEVICE_CODE_PER_IP: '2/1m' });
    expect((await http.deviceCode(CLIENTS.cli)).status).toBe(200);
    expect((await http.deviceCode(CLIENTS.shortLived)).status).toBe(200);

    const refused = await http.deviceCode(CLIENTS.cli);
    expectTooMany(refused);
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
    // Per address, whatever the client.
    expectTooMany(await http.deviceCode(CLIENTS.confidential));
  });

  it('RATE_LIMIT_DEVICE_CODE_PER_CLIENT: the third request of one client gets 429, other clients go on', async () => {
    const http = await appWith({ RATE_LIMIT_DEVICE_CODE_PER_CLIENT: '2/1m' });
    expect((await http.deviceCode(CLIENTS.cli)).status).toBe(200);
    expect((await http.json('/oauth/device/code', { client_id: CLIENTS.cli })).status).toBe(200);

    expectTooMany(await http.deviceCode(CLIENTS.cli));
    expect((await http.deviceCode(CLIENTS.shortLived)).status).toBe(200);
  });

  it('RATE_LIMIT_DEVICE_CODE_PER_IP: requests refused before a flow (a wrong secret, an unknown client) count as well', async () => {
    const http = await appWith({ RATE_LIMIT_DEVICE_CODE_PER_IP: '2/1m' });
    expect((await http.deviceCode(CLIENTS.confidential, { client_secret: 'not-the-secret' })).status).toBe(401);
    expect((await http.deviceCode('no-such-client')).status).toBe(401);

    expectTooMany(await http.deviceCode(CLIENTS.cli));
    // Blocked, an unknown client hears 429 as well, not 401.
    expectTooMany(await http.deviceCode('no-such-client'));
  });

  it('RATE_LIMIT_DEVICE_CODE_PER_CLIENT counts a Basic client by its id, and a refused request of that client too', async () => {
    const http = await appWith({ RATE_LIMIT_DEVICE_CODE_PER_CLIENT: '2/1m' });
    const basic = (secret: string) => ({ authorization: `Basic ${Buffer.from(`${CLIENTS.confidential}:${secret}`).toString('base64')}` });
    expect((await http.form('/oauth/device/code', {}, basic(CONFIDENTIAL_SECRET))).status).toBe(200);
    expect((await http.form('/oauth/device/code', {}, basic('wrong'))).status).toBe(401);

    expectTooMany(await http.form('/oauth/device/code', {}, basic(CONFIDENTIAL_SECRET)));
    expect((await http.deviceCode(CLIENTS.cli)).status).toBe(200);
  });

  it('RATE_LIMIT_LOOKUP_PER_IP: the third lookup in the window gets 429', async () => {
    const http = await appWith({ RATE_LIMIT_LOOKUP_PER_IP: '2/1m' });
    const started = await startFlow(http);
    expect((await lookup(http, started.user_code)).status).toBe(200);
    expect((await lookup(http, 'BCDF-GHJK')).status).toBe(200);

    expectTooMany(await lookup(http, started.user_code));
  });

  it('RATE_LIMIT_LOGIN_PER_IP: the third sign-in in the window gets 429, even with the right password', async () => {
    const http = await appWith({ RATE_LIMIT_LOGIN_PER_IP: '2/1m' });
    const started = await startFlow(http);
    expect((await login(http, started.user_code, USERS.alice.username, 'wrong')).status).toBe(401);
    expect((await login(http, started.user_code, USERS.alice.username, 'wrong-again')).status).toBe(401);

    const refused = await login(http, started.user_code, USERS.alice.username, USERS.alice.password);
    expectTooMany(refused);
    expect(refused.headers.getSetCookie()).toEqual([]);
  });
});
