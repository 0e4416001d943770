import { createMigratedDatabase, type TestDatabase } from './support/database';
import { expectOAuthError, startFlow, type StartedFlow, uniqueLabel } from './support/flows';
import { DeviceGateHttp, parseSetCookie, type Reply } from './support/http';
import {
  buildSamlResponse,
  createSamlTestKey,
  type ParsedAuthnRequest,
  parseAuthnRequest,
  type SamlResponseOptions,
  type SamlTestKey,
} from './support/saml-idp';
import { CLIENTS, startTestApp, type TestApp, USERS } from './support/test-app';

/**
 * Signing in at a company's SAML identity provider for a device code: the
 * trip out (initiate → AuthnRequest with the state envelope as RelayState),
 * the way back (the ACS verifies the IdP's signed response) and the approval
 * tail, plus every forged, replayed or misdirected response, each of which
 * must be refused, audited, and leave the device code pending.
 */

const STATUS = 'urn:oasis:names:tc:SAML:2.0:status:';
const ACME_CLI = 'acme-cli';

interface IdpConnector {
  id: string;
  organization: string;
  entryPoint: string;
  issuer: string;
  keyName: 'acme' | 'globex';
}

const ACME: IdpConnector = {
  id: 'acme-saml',
  organization: 'acme',
  entryPoint: 'https://idp.acme.test/sso',
  issuer: 'https://idp.acme.test/entity',
  keyName: 'acme',
};
/** The same IdP, configured to accept responses whose assertion alone is signed. */
const ACME_ASSERTION_ONLY: IdpConnector = { ...ACME, id: 'acme-saml-assertion-only', entryPoint: 'https://idp.acme.test/sso-2' };
const GLOBEX: IdpConnector = {
  id: 'globex-saml',
  organization: 'globex',
  entryPoint: 'https://idp.globex.test/sso',
  issuer: 'https://idp.globex.test/entity',
  keyName: 'globex',
};
/** An old ADFS of Acme's that still signs with SHA-1: its connector says allow_sha1. */
const ACME_ADFS: IdpConnector = { ...ACME, id: 'acme-adfs', entryPoint: 'https://adfs.acme.test/adfs/ls', issuer: 'https://adfs.acme.test/adfs' };
/** A Globex connector written with `email_domains: []`: its identities may carry any address. */
const GLOBEX_ANY: IdpConnector = { ...GLOBEX, id: 'globex-any', entryPoint: 'https://idp.globex.test/any', issuer: 'https://idp.globex.test/any' };
/** A client of no organization asking for scopes granted to Ada of Acme, and to an ada@acme.test of no organization. */
const SCOPED_CLI = 'scoped-cli';

interface Person {
  nameId: string;
  email: string;
  name: string;
}

const ADA: Person = { nameId: 'ada-0001', email: 'ada@acme.test', name: 'Ada Acme' };
const GRACE: Person = { nameId: 'grace-0002', email: 'grace@globex.test', name: 'Grace Globex' };
const MALLORY = 'mallory@evil.test';

const PENDING = { error: 'authorization_pending', error_description: 'The user has not yet approved or denied this device' };
const INVALID_USER_CODE = {
  error: 'invalid_user_code',
  error_description: 'The code is wrong, has expired or has already been used. Start again on your device to get a new one.',
};
const NOT_VERIFIED = 'The response of your identity provider could not be verified; sign in again';
/** What the person reads for each audited reason. */
const DESCRIPTIONS: Record<string, string> = {
  invalid_signature: NOT_VERIFIED,
  audience_mismatch: NOT_VERIFIED,
  expired: NOT_VERIFIED,
  in_response_to_invalid: NOT_VERIFIED,
  response_invalid: NOT_VERIFIED,
  issuer_mismatch: 'The SAML assertion comes from another identity provider',
  in_response_to_mismatch: 'The SAML response answers another sign-in than this one',
  recipient_mismatch: 'The SAML assertion was meant for another service',
  assertion_replay: 'This SAML assertion was already used; sign in again',
  idp_error: 'Your identity provider did not sign you in',
  email_missing: 'Your identity provider did not send an email address',
  response_missing: 'The identity provider sent no SAML response',
  state_missing: 'The sign-in came back without its state; start again from the device page',
  state_invalid: 'The sign-in came back with a state that is not valid; start again from the device page',
  state_expired: 'The sign-in took too long; start again from the device page',
  state_replay: 'This sign-in was already used; start again from the device page',
  state_connector_mismatch: 'The sign-in came back to another connector than it started at',
  recipient_missing: NOT_VERIFIED,
  destination_mismatch: 'The SAML response was meant for another service',
  destination_missing: NOT_VERIFIED,
  status_not_success: 'Your identity provider did not sign you in',
  sha1_refused: NOT_VERIFIED,
  response_signature_invalid: NOT_VERIFIED,
};
const ACME_ONLY = {
  error: 'access_denied',
  error_description: 'This application belongs to Acme Corp; only its members can approve it. Sign in with your Acme Corp account.',
};

interface AuditRow {
  id: string;
  type: string;
  outcome: string;
  organization_id: string | null;
  client_id: string | null;
  actor_email: string | null;
  actor_issuer: string | null;
  details: Record<string, unknown>;
}

describe('SAML single sign-on', () => {
  let database: TestDatabase;
  let testApp: TestApp;
  let http: DeviceGateHttp;
  let keys: Record<'acme' | 'globex' | 'attacker', SamlTestKey>;

  beforeAll(async () => {
    const [acme, globex, attacker] = await Promise.all([
      createSamlTestKey('idp.acme.test'),
      createSamlTestKey('idp.globex.test'),
      createSamlTestKey('attacker.test'),
    ]);
    keys = { acme, globex, attacker };
    database = await createMigratedDatabase();
    const samlConnector = (connector: IdpConnector, displayName: string, wantResponseSigned: boolean, more: Record<string, unknown> = {}) => ({
      id: connector.id,
      type: 'saml',
      organization: connector.organization,
      display_name: displayName,
      ...('email_domains' in more ? { email_domains: more.email_domains } : {}),
      saml: {
        entry_point: connector.entryPoint,
        idp_issuer: connector.issuer,
        idp_certs: [keys[connector.keyName].certificate],
        want_response_signed: wantResponseSigned,
        ...('allow_sha1' in more ? { allow_sha1: more.allow_sha1 } : {}),
      },
    });
    testApp = await startTestApp({
      // A state envelope lives one minute, so a spec can let one expire.
      env: { DATABASE_URL: database.url, SSO_STATE_TTL: '1m' },
      configure: (file) => {
        file.organizations = [
          { id: 'acme', name: 'Acme Corp', email_domains: ['acme.test'] },
          { id: 'globex', name: 'Globex', email_domains: ['globex.test'] },
        ];
        file.connectors = [
          samlConnector(ACME, 'Acme SSO', true),
          samlConnector(ACME_ASSERTION_ONLY, 'Acme SSO (assertion signed)', false),
          samlConnector(GLOBEX, 'Globex SSO', true),
          samlConnector(ACME_ADFS, 'Acme ADFS', true, { allow_sha1: true }),
          samlConnector(GLOBEX_ANY, 'Globex (any address)', true, { email_domains: [] }),
        ];
        (file.scopes as unknown[]).push(
          { name: 'deploy', description: 'Deploy', granted_to: [`acme:${ADA.email}`] },
          { name: 'ops', description: 'Operate', granted_to: [ADA.email] },
        );
        file.clients.push({ client_id: SCOPED_CLI, name: 'Scoped CLI', type: 'public', scopes: ['profile', 'deploy', 'ops'], poll_interval: 1 });
        file.clients.push({
          client_id: ACME_CLI,
          name: 'Acme CLI',
          type: 'public',
          scopes: ['profile', 'read'],
          organization: 'acme',
          device_code_ttl: 600,
          poll_interval: 1,
        });
      },
    });
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(async () => {
    await testApp?.close();
    await database?.drop();
  });

  const spEntityId = (connectorId: string) => `${testApp.baseUrl}/oauth/device/sso/saml/${connectorId}/metadata`;
  const acsPath = (connectorId: string) => `/oauth/device/sso/saml/${connectorId}/acs`;

  function initiate(userCode: string, params: { connector?: string; email?: string }, headers: Record<string, string> = {}) {
    const query = new URLSearchParams({ user_code: userCode });
    for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, value);
    return http.request(`/oauth/device/sso/initiate?${query}`, { headers });
  }

  /** Initiate that must redirect to the connector's IdP; returns the AuthnRequest as the IdP reads it. */
  async function beginSignIn(userCode: string, connector: IdpConnector = ACME): Promise<ParsedAuthnRequest> {
    const reply = await initiate(userCode, { connector: connector.id });
    if (reply.status !== 303) throw new Error(`initiate failed: ${reply.status} ${JSON.stringify(reply.body)}`);
    const request = parseAuthnRequest(reply.headers.get('location') ?? '');
    expect(request.entryPoint).toBe(connector.entryPoint);
    return request;
  }

  /** What the connector's IdP answers to `request` for `person`; `overrides` turn it into the case under test. */
  function idpResponse(
    request: ParsedAuthnRequest,
    overrides: Partial<SamlResponseOptions> = {},
    connector: IdpConnector = ACME,
    person: Person = ADA,
  ): string {
    return buildSamlResponse({
      key: keys[connector.keyName],
      issuer: connector.issuer,
      audience: spEntityId(connector.id),
      acsUrl: request.acsUrl ?? `${testApp.baseUrl}${acsPath(connector.id)}`,
      inResponseTo: request.id,
      nameId: person.nameId,
      attributes: { email: person.email, name: person.name },
      ...overrides,
    });
  }

  function postAcs(connectorId: string, samlResponse: string | undefined, relayState: string | null | undefined, headers: Record<string, string> = {}) {
    return http.form(acsPath(connectorId), { SAMLResponse: samlResponse, RelayState: relayState ?? undefined }, headers);
  }

  /** The ACS answer of a good sign-in: back to the page with the approval-grant cookie; returns name=value. */
  function expectSignedIn(reply: Reply): string {
    expect({ status: reply.status, location: reply.headers.get('location') }).toEqual({ status: 303, location: '/device?sso_verified=1' });
    const cookies = reply.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    const cookie = parseSetCookie(cookies[0]);
    expect(cookie.name).toBe('devicegate_approval');
    expect(cookie.attributes).toMatchObject({ path: '/oauth/device', httponly: true, samesite: 'Lax' });
    return `${cookie.name}=${cookie.value}`;
  }

  /** Initiate, the IdP's good answer, the ACS: the approval-grant cookie. */
  async function signIn(userCode: string, connector: IdpConnector = ACME, person: Person = ADA): Promise<string> {
    const request = await beginSignIn(userCode, connector);
    return expectSignedIn(await postAcs(connector.id, idpResponse(request, {}, connector, person), request.relayState));
  }

  /** Approves with the cookie and collects the token the way the device does; returns the access token. */
  async function approveAndCollect(started: StartedFlow, clientId: string, cookie: string): Promise<string> {
    const context = await http.approvalContext(cookie);
    expect(context.status).toBe(200);
    const decided = await http.decide('approve', cookie, context.body.csrf_token, started.user_code);
    expect({ status: decided.status, body: decided.body }).toEqual({ status: 200, body: { status: 'approved' } });
    testApp.clock.advance(started.interval * 1000);
    const token = await http.poll(clientId, started.device_code);
    expect(token.status).toBe(200);
    return token.body.access_token;
  }

  /** The refusal changed nothing: the device still waits, and a good sign-in with a fresh initiate still approves it. */
  async function expectStillPending(started: StartedFlow, clientId = ACME_CLI, connector = ACME, person = ADA): Promise<void> {
    testApp.clock.advance(started.interval * 1000);
    expectOAuthError(await http.poll(clientId, started.device_code), 400, PENDING);
    const accessToken = await approveAndCollect(started, clientId, await signIn(started.user_code, connector, person));
    const me = await http.me(accessToken);
    expect(me.body).toMatchObject({ email: person.email, issuer: connector.issuer, organization: connector.organization });
  }

  async function auditMark(): Promise<string> {
    const [row] = await database.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM audit_events');
    return row.id;
  }

  function auditSince(mark: string, type: string): Promise<AuditRow[]> {
    return database.query<AuditRow>(
      `SELECT id::text, type, outcome, organization_id, client_id, actor_email, actor_issuer, details
         FROM audit_events WHERE id > $1 AND type = $2 ORDER BY id`,
      [mark, type],
    );
  }

  /** 400 access_denied with the reason's sentence, no cookie, and one sso.assertion_rejected event naming the reason. */
  async function expectRejected(reply: Reply, reason: string, mark: string, connectorId = ACME.id): Promise<void> {
    expectOAuthError(reply, 400, { error: 'access_denied', error_description: DESCRIPTIONS[reason] });
    expect(reply.headers.getSetCookie()).toEqual([]);
    expect(await auditSince(mark, 'sso.assertion_rejected')).toEqual([
      expect.objectContaining({ outcome: 'failure', details: { connector: connectorId, reason } }),
    ]);
    expect(await auditSince(mark, 'sso.assertion_accepted')).toEqual([]);
  }

  const acmeFlow = () => startFlow(http, ACME_CLI, { device_label: uniqueLabel('saml') });

  describe('a good sign-in', () => {
    it('goes initiate → IdP → ACS → approval → token, with the IdP person in the organization of the connector', async () => {
      const label = uniqueLabel('saml-ok');
      const started = await startFlow(http, ACME_CLI, { device_label: label, scope: 'profile read' });
      const mark = await auditMark();

      const initiated = await initiate(started.user_code, { connector: ACME.id });
      expect(initiated.status).toBe(303);
      const location = initiated.headers.get('location') ?? '';
      expect(location.startsWith(`${ACME.entryPoint}?`)).toBe(true);
      const request = parseAuthnRequest(location);
      expect(request).toEqual({
        id: expect.stringMatching(/^_[\w-]{20,}$/),
        issuer: spEntityId(ACME.id),
        acsUrl: `${testApp.baseUrl}${acsPath(ACME.id)}`,
        destination: ACME.entryPoint,
        relayState: expect.stringMatching(/^[\w-]{32}\.[\w-]{43}$/),
        entryPoint: ACME.entryPoint,
      });

      const acs = await postAcs(ACME.id, idpResponse(request), request.relayState);
      const cookie = expectSignedIn(acs);

      const context = await http.approvalContext(cookie);
      expect(context.status).toBe(200);
      expect(context.body).toMatchObject({
        user_code: started.user_code,
        subject: { issuer: ACME.issuer, email: ADA.email, name: ADA.name, organization: { id: 'acme', name: 'Acme Corp' } },
        client: { id: ACME_CLI, name: 'Acme CLI', organization: { id: 'acme', name: 'Acme Corp' } },
        device_label: label,
        csrf_token: expect.any(String),
      });
      const accessToken = await approveAndCollect(started, ACME_CLI, cookie);

      const me = await http.me(accessToken);
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({
        issuer: ACME.issuer,
        external_id: ADA.nameId,
        email: ADA.email,
        name: ADA.name,
        organization: 'acme',
        client_id: ACME_CLI,
        device_label: label,
      });
      expect(await database.query('SELECT email, name, organization_id FROM subjects WHERE issuer = $1 AND external_id = $2', [ACME.issuer, ADA.nameId])).toEqual([
        { email: ADA.email, name: ADA.name, organization_id: 'acme' },
      ]);

      expect(await auditSince(mark, 'sso.initiated')).toEqual([
        expect.objectContaining({
          outcome: 'success',
          organization_id: 'acme',
          client_id: ACME_CLI,
          details: { connector: ACME.id, connector_type: 'saml', routed_by: 'connector' },
        }),
      ]);
      expect(await auditSince(mark, 'sso.assertion_accepted')).toEqual([
        expect.objectContaining({
          outcome: 'success',
          organization_id: 'acme',
          client_id: ACME_CLI,
          actor_email: ADA.email,
          actor_issuer: ACME.issuer,
          details: { connector: ACME.id },
        }),
      ]);
      expect(await auditSince(mark, 'sso.assertion_rejected')).toEqual([]);
    });

    it('routes by the email domain to the organization connector', async () => {
      const started = await acmeFlow();
      const mark = await auditMark();
      const reply = await initiate(started.user_code, { email: 'Someone@ACME.test' });
      expect(reply.status).toBe(303);
      const request = parseAuthnRequest(reply.headers.get('location') ?? '');
      expect(request.entryPoint).toBe(ACME.entryPoint);
      expect(request.acsUrl).toBe(`${testApp.baseUrl}${acsPath(ACME.id)}`);
      expect(await auditSince(mark, 'sso.initiated')).toEqual([
        expect.objectContaining({ organization_id: 'acme', details: expect.objectContaining({ connector: ACME.id, routed_by: 'email' }) }),
      ]);
      const cookie = expectSignedIn(await postAcs(ACME.id, idpResponse(request), request.relayState));
      await approveAndCollect(started, ACME_CLI, cookie);
    });

    it('accepts a KeyInfo of the configured key, and an assertion-only signature where the connector allows it', async () => {
      const first = await acmeFlow();
      const request = await beginSignIn(first.user_code);
      expectSignedIn(await postAcs(ACME.id, idpResponse(request, { keyInfo: true }), request.relayState));

      const second = await acmeFlow();
      const lax = await beginSignIn(second.user_code, ACME_ASSERTION_ONLY);
      const cookie = expectSignedIn(
        await postAcs(ACME_ASSERTION_ONLY.id, idpResponse(lax, { signResponse: false }, ACME_ASSERTION_ONLY), lax.relayState),
      );
      await approveAndCollect(second, ACME_CLI, cookie);
    });
  });

  describe('GET /oauth/device/sso/saml/:connector/metadata', () => {
    it('serves the SP metadata with the entity id and the ACS URL', async () => {
      const reply = await http.request<string>(`/oauth/device/sso/saml/${ACME.id}/metadata`);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^application\/samlmetadata\+xml/);
      expect(reply.body).toMatch(/<(\w+:)?EntityDescriptor\b/);
      expect(reply.body).toContain(`entityID="${spEntityId(ACME.id)}"`);
      expect(reply.body).toMatch(/<(\w+:)?AssertionConsumerService\b[^>]*Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"/);
      expect(reply.body).toContain(`Location="${testApp.baseUrl}${acsPath(ACME.id)}"`);
      expect(reply.body).not.toContain('PRIVATE KEY');
    });

    it('serves no metadata for a connector that does not exist or is not SAML', async () => {
      for (const id of ['nope', 'local']) {
        const reply = await http.request(`/oauth/device/sso/saml/${id}/metadata`);
        expect({ id, failed: reply.status >= 400, json: reply.headers.get('content-type')?.startsWith('application/json') }).toEqual({
          id,
          failed: true,
          json: true,
        });
        expect(JSON.stringify(reply.body)).not.toContain('EntityDescriptor');
      }
    });

    // Known bug (outside this spec): @Header('Content-Type', 'application/samlmetadata+xml') is set before the
    // handler runs, so the filter's JSON error body cannot be serialized and the 404 becomes a 500 server_error.
    it('answers 404 not_found for a connector that does not exist', async () => {
      const reply = await http.request('/oauth/device/sso/saml/nope/metadata');
      expect({ status: reply.status, body: reply.body }).toEqual({
        status: 404,
        body: { error: 'not_found', error_description: 'There is no SAML connector "nope"' },
      });
    });
  });

  describe('initiate', () => {
    it('answers 404 for an unknown connector, in JSON or as a page', async () => {
      const started = await acmeFlow();
      expectOAuthError(await initiate(started.user_code, { connector: 'nope' }), 404, {
        error: 'not_found',
        error_description: 'There is no single sign-on connector "nope"',
      });
      expectOAuthError(await initiate(started.user_code, { connector: 'local' }), 404, {
        error: 'not_found',
        error_description: 'There is no single sign-on connector "local"',
      });
      const page = await initiate(started.user_code, { connector: 'nope' }, { accept: 'text/html,application/xhtml+xml' });
      expect(page.status).toBe(404);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.body).toContain('There is no single sign-on connector &#34;nope&#34;');
      testApp.clock.advance(started.interval * 1000);
      expectOAuthError(await http.poll(ACME_CLI, started.device_code), 400, PENDING);
    });

    it('answers 404 for an email domain without single sign-on and 400 without connector or email', async () => {
      const started = await acmeFlow();
      const unknownDomain = await initiate(started.user_code, { email: 'someone@unknown.test' });
      expect({ status: unknownDomain.status, error: unknownDomain.body.error }).toEqual({ status: 404, error: 'not_found' });
      const neither = await initiate(started.user_code, {});
      expectOAuthError(neither, 400, { error: 'invalid_request', error_description: 'Name a connector or give your email address' });
    });

    it('refuses a code that is unknown or no longer pending with 400 invalid_user_code', async () => {
      expectOAuthError(await initiate('BCDF-GHJK', { connector: ACME.id }), 400, INVALID_USER_CODE);
      const started = await acmeFlow();
      await approveAndCollect(started, ACME_CLI, await signIn(started.user_code));
      expectOAuthError(await initiate(started.user_code, { connector: ACME.id }), 400, INVALID_USER_CODE);
    });

    it('sends no one to an IdP without a user code', async () => {
      const reply = await http.request(`/oauth/device/sso/initiate?connector=${ACME.id}`);
      expect({ status: reply.status, error: reply.body.error }).toEqual({ status: 400, error: 'invalid_request' });
    });
  });

  describe('the ACS refuses what it cannot trust, and the code stays pending', () => {
    type Case = [name: string, overrides: () => Partial<SamlResponseOptions>, reason: string];
    const forged: Case[] = [
      ['an unsigned response', () => ({ signResponse: false }), 'invalid_signature'],
      ['an unsigned assertion', () => ({ signAssertion: false }), 'invalid_signature'],
      ['a response signed by another key', () => ({ key: keys.attacker }), 'invalid_signature'],
      ['another key with its certificate in KeyInfo', () => ({ key: keys.attacker, keyInfo: true }), 'invalid_signature'],
      ['a second, unsigned assertion (signature wrapping)', () => ({ wrap: 'second-unsigned-assertion', attackerNameId: MALLORY }), 'invalid_signature'],
      ['a signed assertion moved into ds:Object (signature wrapping)', () => ({ wrap: 'moved-signed-assertion', attackerNameId: MALLORY }), 'invalid_signature'],
      ['the wrong audience', () => ({ audience: 'https://other-sp.test/metadata' }), 'audience_mismatch'],
      ['the audience of another connector', () => ({ audience: spEntityId(GLOBEX.id) }), 'audience_mismatch'],
      ['another issuer (signed with the right key)', () => ({ issuer: 'https://evil-idp.test/entity' }), 'issuer_mismatch'],
      ['an expired assertion', () => ({ notOnOrAfter: new Date(Date.now() - 1000) }), 'expired'],
      ['an assertion not valid yet', () => ({ notBefore: new Date(Date.now() + 120_000) }), 'expired'],
      ['an unknown InResponseTo', () => ({ inResponseTo: '_unknown-request-id' }), 'in_response_to_invalid'],
      ['no InResponseTo', () => ({ inResponseTo: undefined }), 'in_response_to_invalid'],
      ['a Recipient other than our ACS', () => ({ acsUrl: 'https://elsewhere.test/acs' }), 'recipient_mismatch'],
      ['an IdP error (Responder/AuthnFailed)', () => ({ status: `${STATUS}AuthnFailed` }), 'idp_error'],
      ['an IdP NoPassive answer', () => ({ status: `${STATUS}NoPassive` }), 'idp_error'],
      ['no email address', () => ({ nameId: 'ada-no-email', attributes: { name: ADA.name } }), 'email_missing'],
      ['a Destination other than our ACS (Recipient right)', () => ({ destination: 'https://elsewhere.test/acs' }), 'destination_mismatch'],
      ['a signed Response without Destination', () => ({ destination: null }), 'destination_missing'],
      ['a Responder status that still carries an assertion', () => ({ status: `${STATUS}Responder`, assertionDespiteStatus: true }), 'status_not_success'],
      ['a SubjectConfirmationData without Recipient', () => ({ recipient: null }), 'recipient_missing'],
      // node-saml finds no subject confirmation valid without an expiry; devicegate's own check stands behind it.
      ['a SubjectConfirmationData without NotOnOrAfter', () => ({ confirmationNotOnOrAfter: null }), 'expired'],
      ['RSA-SHA1 signatures and SHA-1 digests', () => ({ sha1: true }), 'sha1_refused'],
    ];

    it.each(forged)('%s', async (_name, overrides, reason) => {
      const started = await acmeFlow();
      const request = await beginSignIn(started.user_code);
      const mark = await auditMark();
      await expectRejected(await postAcs(ACME.id, idpResponse(request, overrides()), request.relayState), reason, mark);
      await expectStillPending(started);
    });

    const assertionOnly: Case[] = [
      ['an unsigned assertion', () => ({ signResponse: false, signAssertion: false }), 'invalid_signature'],
      ['a second, unsigned assertion', () => ({ signResponse: false, wrap: 'second-unsigned-assertion', attackerNameId: MALLORY }), 'invalid_signature'],
      ['a moved signed assertion', () => ({ signResponse: false, wrap: 'moved-signed-assertion', attackerNameId: MALLORY }), 'invalid_signature'],
      ['a Response signature that is there but does not verify', () => ({ breakResponseSignature: true }), 'response_signature_invalid'],
    ];

    it('with only the assertion signed: an unsigned Response may leave Destination out', async () => {
      const started = await acmeFlow();
      const request = await beginSignIn(started.user_code, ACME_ASSERTION_ONLY);
      const response = idpResponse(request, { signResponse: false, destination: null }, ACME_ASSERTION_ONLY);
      expectSignedIn(await postAcs(ACME_ASSERTION_ONLY.id, response, request.relayState));
    });

    it('takes SHA-1 only from a connector that says allow_sha1', async () => {
      const started = await acmeFlow();
      const request = await beginSignIn(started.user_code, ACME_ADFS);
      const cookie = expectSignedIn(await postAcs(ACME_ADFS.id, idpResponse(request, { sha1: true }, ACME_ADFS), request.relayState));
      const me = await http.me(await approveAndCollect(started, ACME_CLI, cookie));
      expect(me.body).toMatchObject({ email: ADA.email, issuer: ACME_ADFS.issuer, organization: 'acme' });
    });

    it.each(assertionOnly)('with only the assertion signed: %s', async (_name, overrides, reason) => {
      const started = await acmeFlow();
      const request = await beginSignIn(started.user_code, ACME_ASSERTION_ONLY);
      const mark = await auditMark();
      const reply = await postAcs(ACME_ASSERTION_ONLY.id, idpResponse(request, overrides(), ACME_ASSERTION_ONLY), request.relayState);
      await expectRejected(reply, reason, mark, ACME_ASSERTION_ONLY.id);
      await expectStillPending(started, ACME_CLI, ACME_ASSERTION_ONLY);
    });

    it('provisions nobody from a wrapping attack', async () => {
      expect(await database.query('SELECT id FROM subjects WHERE email = $1 OR external_id = $1', [MALLORY])).toEqual([]);
    });

    it('a SAMLResponse that is not a SAML document', async () => {
      const started = await acmeFlow();
      const cases: [garbage: string, reason: string][] = [
        ['not base64 at all!', 'response_invalid'],
        [Buffer.from('<samlp:Response').toString('base64'), 'response_invalid'],
        // Well-formed XML but no Response: node-saml first misses its InResponseTo.
        [Buffer.from('<html>hello</html>').toString('base64'), 'in_response_to_invalid'],
      ];
      for (const [garbage, reason] of cases) {
        const request = await beginSignIn(started.user_code);
        const mark = await auditMark();
        await expectRejected(await postAcs(ACME.id, garbage, request.relayState), reason, mark);
      }
      await expectStillPending(started);
    });

    it('a response without SAMLResponse', async () => {
      const started = await acmeFlow();
      const request = await beginSignIn(started.user_code);
      const mark = await auditMark();
      await expectRejected(await postAcs(ACME.id, undefined, request.relayState), 'response_missing', mark);
      await expectStillPending(started);
    });

    it('answers a browser with an HTML page: 400, CSP, no stack trace', async () => {
      const started = await acmeFlow();
      const request = await beginSignIn(started.user_code);
      const mark = await auditMark();
      const reply = await postAcs(ACME.id, idpResponse(request, { key: keys.attacker }), request.relayState, {
        accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      });
      expect(reply.status).toBe(400);
      expect(reply.headers.get('content-type')).toMatch(/^text\/html/);
      expect(reply.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(reply.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(reply.headers.get('cache-control')).toBe('no-store');
      expect(reply.headers.getSetCookie()).toEqual([]);
      const page = String(reply.body);
      expect(page).toContain('<h1>Sign-in failed</h1>');
      expect(page).toContain(NOT_VERIFIED);
      expect(page).not.toMatch(/\bat \S+ \(|node_modules|\.ts:\d+|Invalid document signature|Error:/);
      expect(await auditSince(mark, 'sso.assertion_rejected')).toEqual([
        expect.objectContaining({ details: { connector: ACME.id, reason: 'invalid_signature' } }),
      ]);
      await expectStillPending(started);
    });

    it('answers 404 for an ACS of a connector that does not exist or is not SAML', async () => {
      const started = await acmeFlow();
      const request = await beginSignIn(started.user_code);
      const samlResponse = idpResponse(request);
      const mark = await auditMark();
      expectOAuthError(await postAcs('nope', samlResponse, request.relayState), 404, {
        error: 'not_found',
        error_description: 'There is no SAML connector "nope"',
      });
      expectOAuthError(await postAcs('local', samlResponse, request.relayState), 404, {
        error: 'not_found',
        error_description: 'There is no SAML connector "local"',
      });
      // Probing is audited, sampled: the first probe of a client in a minute, not every one.
      expect(await auditSince(mark, 'sso.assertion_rejected')).toEqual([
        expect.objectContaining({
          outcome: 'failure',
          details: { connector: 'nope', reason: 'unknown_connector', endpoint: 'saml_acs', sampled_window_seconds: 60 },
        }),
      ]);
      // Neither used anything up: the very same response still signs in at the right ACS.
      const cookie = expectSignedIn(await postAcs(ACME.id, samlResponse, request.relayState));
      await approveAndCollect(started, ACME_CLI, cookie);
    });
  });

  describe('replays', () => {
    it('the same response posted twice: the envelope is used up; with a fresh envelope the request id and assertion are', async () => {
      const started = await acmeFlow();
      const request = await beginSignIn(started.user_code);
      const assertionId = `_assertion-${uniqueLabel('replay')}`;
      const samlResponse = idpResponse(request, { assertionId });
      const cookie = expectSignedIn(await postAcs(ACME.id, samlResponse, request.relayState));

      let mark = await auditMark();
      await expectRejected(await postAcs(ACME.id, samlResponse, request.relayState), 'state_replay', mark);

      // A fresh envelope: node-saml no longer knows the request id the response answers.
      const fresh = await beginSignIn(started.user_code);
      mark = await auditMark();
      await expectRejected(await postAcs(ACME.id, samlResponse, fresh.relayState), 'in_response_to_invalid', mark);

      // The IdP re-signing the same assertion ID for a new request: the assertion ID is remembered.
      const again = await beginSignIn(started.user_code);
      mark = await auditMark();
      await expectRejected(await postAcs(ACME.id, idpResponse(again, { assertionId }), again.relayState), 'assertion_replay', mark);

      // The first sign-in's cookie is still good for its one approval.
      await approveAndCollect(started, ACME_CLI, cookie);
    });

    it('a response to an earlier AuthnRequest of the same code, with a later envelope', async () => {
      const started = await acmeFlow();
      const first = await beginSignIn(started.user_code);
      const second = await beginSignIn(started.user_code);
      const mark = await auditMark();
      await expectRejected(await postAcs(ACME.id, idpResponse(first), second.relayState), 'in_response_to_mismatch', mark);
      await expectStillPending(started);
    });

    it("a response to another device's AuthnRequest, with this device's envelope", async () => {
      const victim = await acmeFlow();
      const attacker = await acmeFlow();
      const victimRequest = await beginSignIn(victim.user_code);
      const attackerRequest = await beginSignIn(attacker.user_code);
      const mark = await auditMark();
      await expectRejected(await postAcs(ACME.id, idpResponse(attackerRequest), victimRequest.relayState), 'in_response_to_mismatch', mark);
      await expectStillPending(victim);
      await expectStillPending(attacker);
    });
  });

  describe('the state envelope (RelayState)', () => {
    it('tampered', async () => {
      const started = await acmeFlow();
      const request = await beginSignIn(started.user_code);
      const envelope = request.relayState ?? '';
      const [nonce, mac] = envelope.split('.');
      const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
      const mark = await auditMark();
      for (const tampered of [`${flip(nonce, 10)}.${mac}`, `${nonce}.${flip(mac, 5)}`]) {
        expect(tampered).not.toBe(envelope);
        const reply = await postAcs(ACME.id, idpResponse(request), tampered);
        expectOAuthError(reply, 400, { error: 'access_denied', error_description: DESCRIPTIONS.state_invalid });
      }
      expect((await auditSince(mark, 'sso.assertion_rejected')).map((row) => row.details)).toEqual([
        { connector: ACME.id, reason: 'state_invalid' },
        { connector: ACME.id, reason: 'state_invalid' },
      ]);
      await expectStillPending(started);
    });

    it('missing', async () => {
      const started = await acmeFlow();
      const request = await beginSignIn(started.user_code);
      const mark = await auditMark();
      await expectRejected(await postAcs(ACME.id, idpResponse(request), undefined), 'state_missing', mark);
      await expectStillPending(started);
    });

    it('expired (SSO_STATE_TTL 1m)', async () => {
      const started = await acmeFlow();
      const request = await beginSignIn(started.user_code);
      testApp.clock.advance(61_000);
      const mark = await auditMark();
      await expectRejected(await postAcs(ACME.id, idpResponse(request), request.relayState), 'state_expired', mark);
      await expectStillPending(started);
    });

    it('reused after a failed sign-in', async () => {
      const started = await acmeFlow();
      const request = await beginSignIn(started.user_code);
      let mark = await auditMark();
      await expectRejected(await postAcs(ACME.id, idpResponse(request, { key: keys.attacker }), request.relayState), 'invalid_signature', mark);
      mark = await auditMark();
      await expectRejected(await postAcs(ACME.id, idpResponse(request), request.relayState), 'state_replay', mark);
      await expectStillPending(started);
    });

    it('brought to the ACS of another connector', async () => {
      const started = await acmeFlow();
      const request = await beginSignIn(started.user_code);
      const mark = await auditMark();
      const reply = await postAcs(ACME_ASSERTION_ONLY.id, idpResponse(request, {}, ACME_ASSERTION_ONLY), request.relayState);
      await expectRejected(reply, 'state_connector_mismatch', mark, ACME_ASSERTION_ONLY.id);
      await expectStillPending(started);
    });
  });

  describe('organizations', () => {
    it("refuses to send an organization's client to another organization's IdP (403) and leaves the code pending", async () => {
      const started = await acmeFlow();
      const mark = await auditMark();
      const byConnector = await initiate(started.user_code, { connector: GLOBEX.id });
      expectOAuthError(byConnector, 403, ACME_ONLY);
      expect(byConnector.headers.get('location')).toBeNull();
      const byEmail = await initiate(started.user_code, { email: GRACE.email });
      expectOAuthError(byEmail, 403, ACME_ONLY);
      const rejected = await auditSince(mark, 'sso.assertion_rejected');
      expect(rejected).toEqual([
        expect.objectContaining({
          organization_id: 'acme',
          client_id: ACME_CLI,
          details: { connector: GLOBEX.id, reason: 'organization_mismatch', organization: 'globex', required: 'acme' },
        }),
        expect.objectContaining({ details: expect.objectContaining({ connector: GLOBEX.id, reason: 'organization_mismatch' }) }),
      ]);
      expect(await auditSince(mark, 'sso.initiated')).toEqual([]);
      await expectStillPending(started);
    });

    it("refuses the local connector (no organization) for an organization's client (403)", async () => {
      const started = await acmeFlow();
      const mark = await auditMark();
      const reply = await http.form('/oauth/device/sso/local/login', {
        user_code: started.user_code,
        username: USERS.alice.username,
        password: USERS.alice.password,
      });
      expectOAuthError(reply, 403, ACME_ONLY);
      expect(reply.headers.getSetCookie()).toEqual([]);
      expect(await auditSince(mark, 'sso.assertion_rejected')).toEqual([
        expect.objectContaining({
          organization_id: 'acme',
          client_id: ACME_CLI,
          details: { connector: 'local', reason: 'organization_mismatch', organization: null, required: 'acme' },
        }),
      ]);
      expect(await auditSince(mark, 'sso.assertion_accepted')).toEqual([]);
      await expectStillPending(started);
    });

    it('lets a member of any organization approve a client of none; the token carries their organization', async () => {
      const started = await startFlow(http, CLIENTS.fast, { device_label: uniqueLabel('globex') });
      const mark = await auditMark();
      const cookie = await signIn(started.user_code, GLOBEX, GRACE);
      const context = await http.approvalContext(cookie);
      expect(context.body).toMatchObject({
        subject: { issuer: GLOBEX.issuer, email: GRACE.email, organization: { id: 'globex', name: 'Globex' } },
        client: { id: CLIENTS.fast, organization: null },
      });
      const me = await http.me(await approveAndCollect(started, CLIENTS.fast, cookie));
      expect(me.body).toMatchObject({ email: GRACE.email, issuer: GLOBEX.issuer, organization: 'globex', client_id: CLIENTS.fast });
      expect(await auditSince(mark, 'sso.assertion_accepted')).toEqual([
        expect.objectContaining({ organization_id: 'globex', client_id: CLIENTS.fast, details: { connector: GLOBEX.id } }),
      ]);
      expect(await database.query('SELECT organization_id FROM subjects WHERE issuer = $1 AND external_id = $2', [GLOBEX.issuer, GRACE.nameId])).toEqual([
        { organization_id: 'globex' },
      ]);
    });

    it.each([
      ['an email attribute', { attributes: { email: 'ceo@acme.test', name: 'Not the CEO' } }],
      ['a NameID', { nameId: 'ceo@acme.test', attributes: { name: 'Not the CEO' } }],
    ])("refuses an identity of Globex's IdP that claims an Acme address in %s", async (_name, overrides) => {
      const started = await startFlow(http, CLIENTS.fast, { device_label: uniqueLabel('tenant') });
      const request = await beginSignIn(started.user_code, GLOBEX);
      const mark = await auditMark();
      const reply = await postAcs(GLOBEX.id, idpResponse(request, overrides, GLOBEX, GRACE), request.relayState);
      expectOAuthError(reply, 400, { error: 'access_denied', error_description: 'Your identity provider may not sign in addresses of that domain here' });
      expect(reply.headers.getSetCookie()).toEqual([]);
      expect(await auditSince(mark, 'sso.assertion_rejected')).toEqual([
        expect.objectContaining({ client_id: CLIENTS.fast, details: { connector: GLOBEX.id, reason: 'email_domain_mismatch', email_domain: 'acme.test' } }),
      ]);
      expect(await auditSince(mark, 'sso.assertion_accepted')).toEqual([]);
      expect(await database.query(`SELECT id FROM subjects WHERE email = 'ceo@acme.test'`)).toEqual([]);
      await expectStillPending(started, CLIENTS.fast, GLOBEX, GRACE);
    });

    it('grants restricted scopes by organization and email, never by an email another organization asserts', async () => {
      const scopesFor = async (connector: IdpConnector) => {
        const started = await startFlow(http, SCOPED_CLI, { scope: 'profile deploy ops', device_label: uniqueLabel('scoped') });
        const request = await beginSignIn(started.user_code, connector);
        const cookie = expectSignedIn(await postAcs(connector.id, idpResponse(request, {}, connector, ADA), request.relayState));
        const context = await http.approvalContext(cookie);
        const offered = {
          scopes: context.body.scopes.map((scope: { name: string }) => scope.name),
          withheld: context.body.withheld_scopes.map((scope: { name: string }) => scope.name),
        };
        const me = await http.me(await approveAndCollect(started, SCOPED_CLI, cookie));
        return { ...offered, token: me.body.scopes, organization: me.body.organization };
      };
      // acme:ada@acme.test is Ada of Acme; the bare ada@acme.test names a person of no organization, not her.
      expect(await scopesFor(ACME)).toEqual({ scopes: ['profile', 'deploy'], withheld: ['ops'], token: ['profile', 'deploy'], organization: 'acme' });
      // Globex's IdP may assert any address on this connector, and still gets nothing granted to Acme's Ada.
      expect(await scopesFor(GLOBEX_ANY)).toEqual({ scopes: ['profile'], withheld: ['deploy', 'ops'], token: ['profile'], organization: 'globex' });
    });

    it("does not take one IdP's assertion at another organization's ACS", async () => {
      // Grace starts at Globex for a client of no organization; Acme's IdP answers at Globex's ACS.
      const started = await startFlow(http, CLIENTS.fast, { device_label: uniqueLabel('cross') });
      const request = await beginSignIn(started.user_code, GLOBEX);
      const mark = await auditMark();
      await expectRejected(await postAcs(GLOBEX.id, idpResponse(request, { audience: spEntityId(GLOBEX.id) }, ACME), request.relayState), 'invalid_signature', mark, GLOBEX.id);
      await expectStillPending(started, CLIENTS.fast, GLOBEX, GRACE);
    });
  });
});
