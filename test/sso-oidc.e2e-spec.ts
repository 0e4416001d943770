import Redis from 'ioredis';
import { PAGE_CATALOG, PAGE_STRINGS } from '../src/web/page-strings';
import { createMigratedDatabase, type TestDatabase } from './support/database';
import { expectOAuthError, type StartedFlow, startFlow } from './support/flows';
import { approvalGrantCookie, DeviceGateHttp, type Reply } from './support/http';
import { type OidcIdp, signInAtIdp, startOidcIdp } from './support/oidc-idp';
import { CLIENTS, freePort, REDIS_URL, startTestApp, type TestApp, type TestConfigFile, USERS } from './support/test-app';

const ACME_CLI = 'acme-cli';
const IDP_CLIENT = { id: 'devicegate-acme', secret: 'acme-idp-client-secret-0123456789abcdef' };
const GLOBEX_IDP_CLIENT = { id: 'devicegate-globex', secret: 'globex-idp-client-secret-0123456789abcdef' };
/** The client of a connector that says allow_hmac_id_tokens. */
const HMAC_IDP_CLIENT = { id: 'devicegate-acme-hmac', secret: 'acme-hmac-idp-client-secret-0123456789ab' };
const CAROL = { sub: 'idp-user-carol-0001', email: 'carol@acme.test', name: 'Carol Acme' };
const DAVE = { sub: 'idp-user-dave-0002', email: 'dave@globex.test', name: 'Dave Globex' };
/** Accounts whose IdP does not say, in a JSON boolean, that their address is verified. */
const UNVERIFIED = {
  erin: { sub: 'idp-user-erin-0003', email: 'erin@acme.test', name: 'Erin', email_verified: null },
  frank: { sub: 'idp-user-frank-0004', email: 'frank@acme.test', name: 'Frank', email_verified: 'false' },
  gina: { sub: 'idp-user-gina-0005', email: 'gina@acme.test', name: 'Gina', email_verified: 'true' },
  hank: { sub: 'idp-user-hank-0006', email: 'hank@acme.test', name: 'Hank', email_verified: false },
};
/** An account at Globex's IdP that claims an address of Acme's domain. */
const MALLORY = { sub: 'idp-user-mallory-0007', email: 'admin@acme.test', name: 'Mallory' };
const PENDING = { error: 'authorization_pending', error_description: expect.any(String) };

describe('SSO through an OpenID Connect IdP (a real oidc-provider on loopback)', () => {
  let database: TestDatabase;
  let idp: OidcIdp;
  let testApp: TestApp;
  let http: DeviceGateHttp;
  let redis: Redis;
  let configure: (file: TestConfigFile) => void;

  beforeAll(async () => {
    database = await createMigratedDatabase();
    const port = await freePort();
    const callback = (connector: string) => `http://127.0.0.1:${port}/oauth/device/sso/oidc/${connector}/callback`;
    idp = await startOidcIdp({
      clients: [
        { client_id: IDP_CLIENT.id, client_secret: IDP_CLIENT.secret, redirect_uris: [callback('acme-oidc')] },
        { client_id: GLOBEX_IDP_CLIENT.id, client_secret: GLOBEX_IDP_CLIENT.secret, redirect_uris: [callback('globex-oidc')] },
        { client_id: HMAC_IDP_CLIENT.id, client_secret: HMAC_IDP_CLIENT.secret, redirect_uris: [callback('acme-hmac')] },
      ],
      // Announced, so openid-client lets an HS256 id_token through and devicegate's own check must refuse it.
      idTokenSigningAlgValues: ['RS256', 'HS256'],
      accounts: { carol: CAROL, dave: DAVE, mallory: MALLORY, ...UNVERIFIED },
    });
    const oidc = (client: { id: string; secret: string }, issuer = idp.issuer) => ({
      issuer,
      client_id: client.id,
      client_secret: client.secret,
      allow_insecure_http: true,
    });
    configure = (file) => {
      file.organizations = [
        { id: 'acme', name: 'Acme Corp', email_domains: ['acme.test'] },
        { id: 'globex', name: 'Globex', email_domains: ['globex.test'] },
      ];
      file.connectors = [
        { id: 'acme-oidc', type: 'oidc', organization: 'acme', display_name: 'Acme SSO', oidc: oidc(IDP_CLIENT) },
        { id: 'globex-oidc', type: 'oidc', organization: 'globex', display_name: 'Globex SSO', oidc: oidc(GLOBEX_IDP_CLIENT) },
        {
          id: 'acme-hmac',
          type: 'oidc',
          organization: 'acme',
          display_name: 'Acme SSO (HS256)',
          oidc: { ...oidc(HMAC_IDP_CLIENT), allow_hmac_id_tokens: true },
        },
        // Nothing listens on port 9: an IdP that is down.
        { id: 'down-oidc', type: 'oidc', organization: 'globex', display_name: 'Down', oidc: oidc(IDP_CLIENT, 'http://127.0.0.1:9') },
      ];
      file.clients.push({ client_id: ACME_CLI, name: 'Acme CLI', type: 'public', scopes: ['profile', 'read'], organization: 'acme' });
    };
    testApp = await startTestApp({ port, env: { DATABASE_URL: database.url, SSO_STATE_TTL: '1m' }, configure });
    http = new DeviceGateHttp(testApp.baseUrl);
    redis = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    redis?.disconnect();
    await testApp?.close();
    await idp?.stop();
    await database?.drop();
  });

  async function initiate(userCode: string, params: Record<string, string> = { connector: 'acme-oidc' }): Promise<Reply> {
    return http.request(`/oauth/device/sso/initiate?${new URLSearchParams({ user_code: userCode, ...params })}`);
  }

  /** Initiate and sign in at the IdP; the URL the IdP sends the browser back to. */
  async function throughIdp(flow: StartedFlow, login = 'carol', connector = 'acme-oidc'): Promise<URL> {
    const started = await initiate(flow.user_code, { connector });
    expect(started.status).toBe(303);
    return new URL(await signInAtIdp(started.headers.get('location') as string, login));
  }

  function callback(url: URL, headers: Record<string, string> = {}): Promise<Reply> {
    return http.request(`${url.pathname}${url.search}`, { headers });
  }

  async function approveWith(reply: Reply, userCode: string) {
    const cookie = approvalGrantCookie(reply);
    const context = await http.approvalContext(cookie);
    expect(context.status).toBe(200);
    const decided = await http.decide('approve', cookie, context.body.csrf_token, userCode);
    expect(decided.status).toBe(200);
    return context.body;
  }

  async function rejections(reason: string) {
    return database.query(
      `SELECT details FROM audit_events WHERE type = 'sso.assertion_rejected' AND details->>'reason' = $1`,
      [reason],
    );
  }

  /** A rejected sign-in leaves the code pending: the device keeps polling, and a good sign-in still works. */
  async function expectStillPending(flow: StartedFlow, clientId: string = CLIENTS.fast) {
    expectOAuthError(await http.poll(clientId, flow.device_code), 400, PENDING);
  }

  function expectRejected(reply: Reply, description = expect.any(String)) {
    expectOAuthError(reply, 400, { error: 'access_denied', error_description: description });
    expect(reply.headers.get('set-cookie')).toBeNull();
  }

  it('completes device code → initiate → IdP login → callback → approval → token, with the IdP subject and the organization', async () => {
    const flow = await startFlow(http, ACME_CLI);
    const started = await initiate(flow.user_code);
    expect(started.status).toBe(303);
    const authorization = new URL(started.headers.get('location') as string);
    expect(authorization.origin).toBe(idp.issuer);
    expect(Object.fromEntries(authorization.searchParams)).toMatchObject({
      client_id: IDP_CLIENT.id,
      response_type: 'code',
      redirect_uri: `${testApp.baseUrl}/oauth/device/sso/oidc/acme-oidc/callback`,
      scope: 'openid email profile',
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
      nonce: expect.stringMatching(/^[\w-]{20,}$/),
      state: expect.stringMatching(/^[\w-]{32}\.[\w-]{43}$/),
    });
    // Opaque to the IdP: a nonce and its MAC, nothing of the code, the connector or the PKCE verifier.
    const state = authorization.searchParams.get('state') as string;
    expect(Buffer.from(state.split('.')[0], 'base64url')).toHaveLength(24);
    expect(state).not.toContain(flow.user_code.replace('-', ''));

    const returned = await callback(new URL(await signInAtIdp(authorization.toString(), 'carol')));
    expect(returned.status).toBe(303);
    expect(returned.headers.get('location')).toBe('/device?sso_verified=1');
    const context = await approveWith(returned, flow.user_code);
    expect(context.subject).toEqual({
      issuer: idp.issuer,
      email: CAROL.email,
      name: CAROL.name,
      organization: { id: 'acme', name: 'Acme Corp' },
    });
    expect(context.client).toEqual({ id: ACME_CLI, name: 'Acme CLI', organization: { id: 'acme', name: 'Acme Corp' } });

    const token = await http.poll(ACME_CLI, flow.device_code);
    expect(token.status).toBe(200);
    const me = await http.me(token.body.access_token);
    expect(me.body).toMatchObject({ issuer: idp.issuer, external_id: CAROL.sub, email: CAROL.email, name: CAROL.name, organization: 'acme' });
    const [subject] = await database.query('SELECT issuer, external_id, email, organization_id FROM subjects WHERE external_id = $1', [CAROL.sub]);
    expect(subject).toEqual({ issuer: idp.issuer, external_id: CAROL.sub, email: CAROL.email, organization_id: 'acme' });
    const events = await database.query(
      `SELECT type, organization_id, details->>'connector' AS connector FROM audit_events
        WHERE type IN ('sso.initiated', 'sso.assertion_accepted', 'device.approved', 'token.minted') AND client_id = $1 ORDER BY id`,
      [ACME_CLI],
    );
    expect(events).toEqual([
      { type: 'sso.initiated', organization_id: 'acme', connector: 'acme-oidc' },
      { type: 'sso.assertion_accepted', organization_id: 'acme', connector: 'acme-oidc' },
      { type: 'device.approved', organization_id: 'acme', connector: null },
      { type: 'token.minted', organization_id: 'acme', connector: null },
    ]);
  });

  it('keeps the organizations and connectors of the config file in Postgres, without secrets, each change audited', async () => {
    expect(await database.query('SELECT id, slug, name, email_domains FROM organizations ORDER BY id')).toEqual([
      { id: 'acme', slug: 'acme', name: 'Acme Corp', email_domains: ['acme.test'] },
      { id: 'globex', slug: 'globex', name: 'Globex', email_domains: ['globex.test'] },
    ]);
    const connectors = await database.query('SELECT id, organization_id, type, enabled, settings FROM sso_connectors ORDER BY id');
    expect(connectors.map(({ settings, ...row }) => row)).toEqual([
      { id: 'acme-hmac', organization_id: 'acme', type: 'oidc', enabled: true },
      { id: 'acme-oidc', organization_id: 'acme', type: 'oidc', enabled: true },
      { id: 'down-oidc', organization_id: 'globex', type: 'oidc', enabled: true },
      { id: 'globex-oidc', organization_id: 'globex', type: 'oidc', enabled: true },
      { id: 'local', organization_id: null, type: 'local', enabled: true },
    ]);
    expect(connectors[1].settings).toMatchObject({ issuer: idp.issuer, clientId: IDP_CLIENT.id, clientAuthentication: 'client_secret_basic' });
    expect(JSON.stringify(connectors)).not.toContain(IDP_CLIENT.secret);
    expect(JSON.stringify(connectors)).not.toContain(HMAC_IDP_CLIENT.secret);
    const changes = await database.query(
      `SELECT type, details->>'id' AS id, details->>'change' AS change FROM audit_events
        WHERE type IN ('organization.changed', 'connector.changed') ORDER BY id`,
    );
    expect(changes).toHaveLength(7);
    expect(changes).toContainEqual({ type: 'organization.changed', id: 'acme', change: 'created' });
    expect(changes).toContainEqual({ type: 'connector.changed', id: 'acme-oidc', change: 'created' });

    // Another instance with the same file changes nothing.
    await (await startTestApp({ env: { DATABASE_URL: database.url }, configure })).close();
    expect(await database.query(`SELECT count(*)::int AS n FROM audit_events WHERE type LIKE '%.changed'`)).toEqual([{ n: 7 }]);
    // One whose file no longer declares a connector disables it; declaring it again enables it.
    const without = (file: TestConfigFile) => {
      configure(file);
      file.connectors = (file.connectors as { id: string }[]).filter((connector) => connector.id !== 'down-oidc');
    };
    await (await startTestApp({ env: { DATABASE_URL: database.url }, configure: without })).close();
    expect(await database.query(`SELECT enabled FROM sso_connectors WHERE id = 'down-oidc'`)).toEqual([{ enabled: false }]);
    await (await startTestApp({ env: { DATABASE_URL: database.url }, configure })).close();
    expect(await database.query(`SELECT enabled FROM sso_connectors WHERE id = 'down-oidc'`)).toEqual([{ enabled: true }]);
    const downChanges = await database.query(
      `SELECT details->>'change' AS change FROM audit_events WHERE type = 'connector.changed' AND details->>'id' = 'down-oidc' ORDER BY id`,
    );
    expect(downChanges.map((row) => row.change)).toEqual(['created', 'disabled', 'changed']);
  });

  it('offers each connector on the device page, in a form that works without script', async () => {
    const page = String((await http.request('/device?user_code=BCDF-GHJK')).body);
    expect(page).toContain('<form id="sso-form" method="get" action="/oauth/device/sso/initiate">');
    expect(page).toContain('<input id="user_code" name="user_code" value="BCDF-GHJK"');
    expect(page).toContain('<button class="primary" type="submit" name="connector" value="acme-oidc">Sign in with Acme SSO</button>');
    expect(page).toContain('<button class="primary" type="submit" name="connector" value="globex-oidc">Sign in with Globex SSO</button>');
    expect(page).toContain('<input id="email" name="email" type="email"');
    expect(page).toContain('<input id="local_user_code" name="user_code"');
  });

  it('routes an email to the connector of its domain', async () => {
    const flow = await startFlow(http, CLIENTS.fast);
    const started = await initiate(flow.user_code, { email: 'Carol@ACME.test' });
    expect(started.status).toBe(303);
    expect(new URL(started.headers.get('location') as string).searchParams.get('client_id')).toBe(IDP_CLIENT.id);
    expectOAuthError(await initiate(flow.user_code, { email: 'someone@unknown.test' }), 404, {
      error: 'not_found',
      error_description: expect.stringMatching(/no single sign-on/i),
    });
  });

  it('gives a client of no organization a token of the signing-in person’s organization', async () => {
    const flow = await startFlow(http, CLIENTS.fast);
    await approveWith(await callback(await throughIdp(flow, 'dave', 'globex-oidc')), flow.user_code);
    const token = await http.poll(CLIENTS.fast, flow.device_code);
    expect((await http.me(token.body.access_token)).body).toMatchObject({ email: DAVE.email, organization: 'globex' });
  });

  describe('refuses, leaving the code pending', () => {
    it('an id_token whose nonce is not the one sent (a tampered authorization request)', async () => {
      const flow = await startFlow(http, CLIENTS.fast);
      const started = await initiate(flow.user_code);
      const authorization = new URL(started.headers.get('location') as string);
      authorization.searchParams.set('nonce', 'attacker-chosen-nonce-0123456789');
      expectRejected(await callback(new URL(await signInAtIdp(authorization.toString(), 'carol'))));
      expect(await rejections('nonce_mismatch')).toHaveLength(1);
      await expectStillPending(flow);
      await approveWith(await callback(await throughIdp(flow)), flow.user_code);
      testApp.clock.advance(2_000);
      expect((await http.poll(CLIENTS.fast, flow.device_code)).status).toBe(200);
    });

    it('a callback whose iss is not the IdP’s (RFC 9207)', async () => {
      const flow = await startFlow(http, CLIENTS.fast);
      const returned = await throughIdp(flow);
      expect(returned.searchParams.get('iss')).toBe(idp.issuer);
      returned.searchParams.set('iss', 'https://evil.example');
      expectRejected(await callback(returned));
      expect(await rejections('iss_mismatch')).toHaveLength(1);
      await expectStillPending(flow);
    });

    it('a sign-in whose PKCE verifier is missing, and a code that cannot be redeemed without it', async () => {
      const flow = await startFlow(http, CLIENTS.fast);
      const returned = await throughIdp(flow);
      const code = returned.searchParams.get('code') as string;
      const idpToken = await fetch(`${idp.issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${IDP_CLIENT.id}:${IDP_CLIENT.secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${testApp.baseUrl}/oauth/device/sso/oidc/acme-oidc/callback` }),
      });
      expect(idpToken.status).toBe(400);
      expect(await idpToken.json()).toMatchObject({ error: 'invalid_grant' });

      const second = await throughIdp(flow);
      const nonce = second.searchParams.get('state')!.split('.')[0];
      const key = `${testApp.redisKeyPrefix}value:sso-transaction:${nonce}`;
      const transaction = JSON.parse((await redis.get(key)) as string);
      delete transaction.codeVerifier;
      await redis.set(key, JSON.stringify(transaction), 'KEEPTTL');
      expectRejected(await callback(second));
      expect(await rejections('pkce_verifier_missing')).toHaveLength(1);
      await expectStillPending(flow);
    });

    it('an IdP error response', async () => {
      const flow = await startFlow(http, CLIENTS.fast);
      const started = await initiate(flow.user_code);
      const returned = new URL(await signInAtIdp(started.headers.get('location') as string, 'carol', { abort: true }));
      expect(returned.searchParams.get('error')).toBe('access_denied');
      expectRejected(await callback(returned), 'Your identity provider did not sign you in');
      expect(await rejections('idp_error:access_denied')).toHaveLength(1);
      await expectStillPending(flow);
    });

    it('a tampered state envelope, a reused one, and an expired one', async () => {
      const flow = await startFlow(http, CLIENTS.fast);
      const returned = await throughIdp(flow);
      const tampered = new URL(returned);
      const state = tampered.searchParams.get('state') as string;
      tampered.searchParams.set('state', `${state.slice(0, -2)}${state.endsWith('AA') ? 'BB' : 'AA'}`);
      expectRejected(await callback(tampered));
      expect(await rejections('state_invalid')).toHaveLength(1);

      expect((await callback(returned)).status).toBe(303);
      expectRejected(await callback(returned));
      expect(await rejections('state_replay')).toHaveLength(1);

      const late = await throughIdp(flow);
      testApp.clock.advance(61_000);
      expectRejected(await callback(late));
      expect(await rejections('state_expired')).toHaveLength(1);
      await expectStillPending(flow);
    });

    it('an envelope sent to another connector than the one it was signed for', async () => {
      const flow = await startFlow(http, CLIENTS.fast);
      const returned = await throughIdp(flow);
      const elsewhere = new URL(returned.pathname.replace('acme-oidc', 'globex-oidc') + returned.search, returned);
      expectRejected(await callback(elsewhere));
      expect(await rejections('state_connector_mismatch')).toHaveLength(1);
    });

    it('an unknown connector, a callback without state, and a code that is no longer pending', async () => {
      const flow = await startFlow(http, CLIENTS.fast);
      expectOAuthError(await initiate(flow.user_code, { connector: 'nope' }), 404, {
        error: 'not_found',
        error_description: 'There is no single sign-on connector "nope"',
      });
      for (const probe of ['nope', 'nope-2', 'acme-oidc-x']) {
        expectOAuthError(await http.request(`/oauth/device/sso/oidc/${probe}/callback?code=x&state=y`), 404, {
          error: 'not_found',
          error_description: `There is no OIDC connector "${probe}"`,
        });
      }
      // Audited, sampled like rate-limit trips: the first probe of a client in a minute.
      expect(await rejections('unknown_connector')).toEqual([
        { details: { connector: 'nope', reason: 'unknown_connector', endpoint: 'oidc_callback', sampled_window_seconds: 60 } },
      ]);
      expectRejected(await http.request('/oauth/device/sso/oidc/acme-oidc/callback?code=x'));
      await http.approveAs(flow.user_code, USERS.alice, 'deny');
      expectOAuthError(await initiate(flow.user_code), 400, { error: 'invalid_user_code', error_description: expect.any(String) });
    });

    it('an IdP that cannot be reached, with a 502 and no 500', async () => {
      const flow = await startFlow(http, CLIENTS.fast);
      expectOAuthError(await initiate(flow.user_code, { connector: 'down-oidc' }), 502, {
        error: 'temporarily_unavailable',
        error_description: 'Your identity provider cannot be reached right now. Try again shortly.',
      });
      await expectStillPending(flow);
    });

    it('shows a browser an error page it can act on', async () => {
      const reply = await http.request('/oauth/device/sso/oidc/acme-oidc/callback?code=x&state=forged', {
        headers: { accept: 'text/html,application/xhtml+xml' },
      });
      expect(reply.status).toBe(400);
      expect(reply.headers.get('content-type')).toMatch(/^text\/html/);
      expect(reply.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(String(reply.body)).toContain('Sign-in failed');
      expect(String(reply.body)).toContain('href="/device"');
      expect(String(reply.body)).not.toMatch(/at \S+ \(|Error:/);
      expect(reply.headers.get('content-language')).toBe('en');
    });

    it('shows that page in German to a browser that prefers German, as /device does', async () => {
      const reply = await http.request('/oauth/device/sso/oidc/acme-oidc/callback?code=x&state=forged', {
        headers: { accept: 'text/html', 'accept-language': 'de-DE,de;q=0.9,en;q=0.8' },
      });
      expect(reply.status).toBe(400);
      expect(reply.headers.get('content-language')).toBe('de');
      const page = String(reply.body);
      expect(page).toContain('<html lang="de">');
      expect(page).toContain(`<h1>${PAGE_CATALOG.de.signInFailedTitle}</h1>`);
      expect(page).toContain(`<a href="/device">${PAGE_CATALOG.de.signInFailedDeviceLink}</a>`);
      expect(page).not.toContain(PAGE_STRINGS.signInFailedTitle);
    });
  });

  describe('refuses a forged id_token from the token endpoint, leaving the code pending', () => {
    it.each([
      ['signed with another key under the IdP’s kid', 'other-key', 'id_token_signature_invalid'],
      ['signed with a key the IdP’s JWKS does not hold', 'unknown-kid', 'id_token_key_unknown'],
      ['whose payload was edited after signing', 'edited', 'id_token_signature_invalid'],
      ['that is unsecured (alg none)', 'alg-none', 'id_token_alg_refused'],
      ['signed HS256 with the client secret', 'hs256', 'id_token_alg_refused'],
    ] as const)('an id_token %s', async (_name, mode, reason) => {
      const flow = await startFlow(http, ACME_CLI);
      const returned = await throughIdp(flow);
      const before = (await rejections(reason)).length;
      await idp.forgeNextIdToken(mode, { email: 'ceo@acme.test', name: 'The CEO' });
      expectRejected(await callback(returned));
      expect((await rejections(reason)).length).toBe(before + 1);
      await expectStillPending(flow, ACME_CLI);
      expect(await database.query(`SELECT 1 FROM subjects WHERE email = 'ceo@acme.test'`)).toEqual([]);

      await approveWith(await callback(await throughIdp(flow)), flow.user_code);
      testApp.clock.advance(6_000);
      const token = await http.poll(ACME_CLI, flow.device_code);
      expect(token.status).toBe(200);
      expect((await http.me(token.body.access_token)).body).toMatchObject({ email: CAROL.email, external_id: CAROL.sub });
    });
  });

  it('takes an HS256 id_token keyed with the client secret only on a connector that says allow_hmac_id_tokens', async () => {
    const flow = await startFlow(http, ACME_CLI);
    const returned = await throughIdp(flow, 'carol', 'acme-hmac');
    await idp.forgeNextIdToken('hs256');
    const context = await approveWith(await callback(returned), flow.user_code);
    expect(context.subject).toMatchObject({ email: CAROL.email, organization: { id: 'acme', name: 'Acme Corp' } });
  });

  describe('email_verified (require_verified_email, the default)', () => {
    it.each([
      ['missing', 'erin'],
      ['the string "false"', 'frank'],
      ['the string "true"', 'gina'],
      ['false', 'hank'],
    ] as const)('refuses an id_token whose email_verified is %s as email_unverified', async (_name, login) => {
      const flow = await startFlow(http, CLIENTS.fast);
      const before = (await rejections('email_unverified')).length;
      expectRejected(await callback(await throughIdp(flow, login)));
      expect((await rejections('email_unverified')).length).toBe(before + 1);
      await expectStillPending(flow);
    });
  });

  describe('tenant binding', () => {
    it('refuses an identity of Globex’s IdP that claims an Acme address, and gives it nothing of Acme', async () => {
      const flow = await startFlow(http, CLIENTS.fast);
      expectRejected(await callback(await throughIdp(flow, 'mallory', 'globex-oidc')));
      const [rejected] = await rejections('email_domain_mismatch');
      expect(rejected.details).toEqual({ connector: 'globex-oidc', reason: 'email_domain_mismatch', email_domain: 'acme.test' });
      expect(await database.query(`SELECT 1 FROM subjects WHERE email = $1`, [MALLORY.email])).toEqual([]);
      await expectStillPending(flow);
    });
  });

  describe('organization-scoped clients', () => {
    it('cannot be approved by a member of another organization, nor by a local user of none', async () => {
      const flow = await startFlow(http, ACME_CLI);
      const refused = { error: 'access_denied', error_description: expect.stringContaining('belongs to Acme Corp') };
      expectOAuthError(await initiate(flow.user_code, { connector: 'globex-oidc' }), 403, refused);
      const local = await http.form('/oauth/device/sso/local/login', {
        user_code: flow.user_code,
        username: USERS.alice.username,
        password: USERS.alice.password,
      });
      expectOAuthError(local, 403, refused);
      expect(local.headers.get('set-cookie')).toBeNull();
      expect(await rejections('organization_mismatch')).toHaveLength(2);
      await expectStillPending(flow, ACME_CLI);
    });
  });
});
