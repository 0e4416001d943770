import { createMigratedDatabase, type TestDatabase } from './support/database';
import { expectOAuthError, type StartedFlow, startFlow } from './support/flows';
import { approvalGrantCookie, DeviceGateHttp, type Reply } from './support/http';
import { type LdapServer, startLdapServer } from './support/ldap-server';
import { CLIENTS, startTestApp, type TestApp, type TestConfigFile } from './support/test-app';

const ACME_CLI = 'acme-cli';
const CAROL = { uid: 'carol', password: 'carol-directory-password', mail: 'carol@acme.test', cn: 'Carol Acme' };
/** In Acme's directory, but with an address outside Acme's email domains. */
const MALLORY = { uid: 'mallory', password: 'mallory-directory-password', mail: 'admin@globex.test', cn: 'Mallory' };
const SERVICE = { name: 'devicegate', password: 'service-account-password-0123456789' };
const PENDING = { error: 'authorization_pending', error_description: expect.any(String) };

describe('sign-in through an LDAP directory (a real OpenLDAP on loopback, passport-ldapauth)', () => {
  let database: TestDatabase;
  let ldap: LdapServer;
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    database = await createMigratedDatabase();
    ldap = await startLdapServer({ people: [CAROL, MALLORY], service: SERVICE });
    const settings = (url: string, extra: Record<string, unknown> = {}) => ({
      url,
      bind_dn: ldap.serviceDn,
      bind_password: SERVICE.password,
      search_base: `ou=people,${ldap.suffix}`,
      timeout: '2s',
      ...extra,
    });
    const configure = (file: TestConfigFile) => {
      file.organizations = [
        { id: 'acme', name: 'Acme Corp', email_domains: ['acme.test'] },
        { id: 'globex', name: 'Globex', email_domains: ['globex.test'] },
      ];
      file.connectors = [
        { id: 'acme-ad', type: 'ldap', organization: 'acme', display_name: 'Acme directory', ldap: settings(ldap.ldapsUrl, { ca_certs: [ldap.caCertificate] }) },
        { id: 'acme-plain', type: 'ldap', organization: 'acme', display_name: 'Acme (plain LDAP)', ldap: settings(ldap.url) },
        { id: 'acme-untrusted', type: 'ldap', organization: 'acme', display_name: 'Acme (no CA)', ldap: settings(ldap.ldapsUrl) },
      ];
      file.clients.push({ client_id: ACME_CLI, name: 'Acme CLI', type: 'public', scopes: ['profile', 'read'], organization: 'acme', poll_interval: 1 });
    };
    testApp = await startTestApp({ env: { DATABASE_URL: database.url }, configure });
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(async () => {
    await testApp?.close();
    await ldap?.stop();
    await database?.drop();
  });

  function login(flow: StartedFlow, person: { uid: string; password: string }, connector = 'acme-ad'): Promise<Reply> {
    return http.form(`/oauth/device/sso/ldap/${connector}/login`, { user_code: flow.user_code, username: person.uid, password: person.password });
  }

  async function rejections(reason: string) {
    return database.query(`SELECT details FROM audit_events WHERE type = 'sso.assertion_rejected' AND details->>'reason' = $1`, [reason]);
  }

  it('signs a person in with the directory password; the approved token carries the organization and the directory identity', async () => {
    const flow = await startFlow(http, ACME_CLI, { scope: 'profile read' });
    const signedIn = await login(flow, CAROL);
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/device?sso_verified=1');
    const cookie = approvalGrantCookie(signedIn);
    const context = await http.approvalContext(cookie);
    expect(context.body.subject).toMatchObject({ email: CAROL.mail, name: CAROL.cn, issuer: 'urn:devicegate:ldap:acme-ad', organization: { id: 'acme' } });
    expect((await http.decide('approve', cookie, context.body.csrf_token, flow.user_code)).status).toBe(200);
    const token = await http.poll(ACME_CLI, flow.device_code);
    expect(token.status).toBe(200);
    const me = await http.request('/v1/me', { headers: { authorization: `Bearer ${token.body.access_token}` } });
    expect(me.body).toMatchObject({ email: CAROL.mail, organization: 'acme' });
    const [accepted] = await database.query(`SELECT details FROM audit_events WHERE type = 'sso.assertion_accepted' ORDER BY id DESC LIMIT 1`);
    expect(accepted.details).toEqual({ connector: 'acme-ad' });
  });

  it('works over plain ldap:// outside production, and refuses an ldaps:// directory whose certificate no configured CA signed', async () => {
    expect((await login(await startFlow(http, ACME_CLI), CAROL, 'acme-plain')).status).toBe(303);
    const flow = await startFlow(http, ACME_CLI);
    const untrusted = await login(flow, CAROL, 'acme-untrusted');
    expectOAuthError(untrusted, 503, { error: 'temporarily_unavailable', error_description: expect.stringContaining('directory') });
    expectOAuthError(await http.poll(ACME_CLI, flow.device_code), 400, PENDING);
  });

  it('refuses a wrong password and an unknown user alike, audited, and leaves the code pending', async () => {
    const flow = await startFlow(http, ACME_CLI);
    const before = (await rejections('invalid_credentials')).length;
    for (const person of [{ ...CAROL, password: 'not-her-password' }, { uid: 'nobody', password: 'whatever-password' }]) {
      const refused = await login(flow, person);
      expectOAuthError(refused, 401, { error: 'invalid_credentials', error_description: 'Unknown user or wrong password' });
      expect(refused.headers.get('set-cookie')).toBeNull();
    }
    expect((await rejections('invalid_credentials')).length).toBe(before + 2);
    expectOAuthError(await http.poll(ACME_CLI, flow.device_code), 400, PENDING);
    expect((await login(flow, CAROL)).status).toBe(303);
  });

  it('treats the typed name as a value, never as filter syntax', async () => {
    const flow = await startFlow(http, ACME_CLI);
    const refused = await login(flow, { uid: '*)(uid=*', password: CAROL.password });
    expectOAuthError(refused, 401, { error: 'invalid_credentials', error_description: 'Unknown user or wrong password' });
  });

  it("refuses a directory entry whose email is outside the organization's domains", async () => {
    const flow = await startFlow(http, CLIENTS.fast);
    const refused = await login(flow, MALLORY);
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    expect(refused.headers.get('set-cookie')).toBeNull();
    const [rejection] = await database.query(
      `SELECT details FROM audit_events WHERE type = 'sso.assertion_rejected' AND details->>'connector' = 'acme-ad' ORDER BY id DESC LIMIT 1`,
    );
    expect(rejection.details.reason).toMatch(/domain/);
    expectOAuthError(await http.poll(CLIENTS.fast, flow.device_code), 400, PENDING);
  });

  it('answers 503 with Retry-After while the directory is down, and signs in again once it is back', async () => {
    const flow = await startFlow(http, ACME_CLI);
    await ldap.pause();
    try {
      const down = await login(flow, CAROL);
      expectOAuthError(down, 503, { error: 'temporarily_unavailable', error_description: expect.stringContaining('directory') });
      expect(down.headers.get('retry-after')).toBe('5');
      expect(await rejections('directory_unavailable')).not.toHaveLength(0);
    } finally {
      await ldap.resume();
    }
    expect((await login(flow, CAROL)).status).toBe(303);
  });

  it('is 404 for an unknown LDAP connector and for a connector of another type', async () => {
    const flow = await startFlow(http, ACME_CLI);
    expectOAuthError(await login(flow, CAROL, 'no-such'), 404, { error: 'not_found', error_description: 'There is no LDAP connector "no-such"' });
    expect((await http.form('/oauth/device/sso/ldap/local/login', { user_code: flow.user_code, username: 'alice', password: 'x' })).status).toBe(404);
  });
});
