import { queryDatabase } from './support/database';
import { expectNoStore, expectOAuthError, obtainToken, uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { CLIENTS, startAcmeApp, startTestApp, type TestApp, USERS } from './support/test-app';

const NEEDS_ADMIN = { error: 'insufficient_scope', error_description: 'This resource needs the scope admin' };

/** The admin API over OAuth clients: list, register database clients, enable and disable them. */
describe('/v1/admin/clients', () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;
  let admin: string;

  beforeAll(async () => {
    testApp = await startTestApp();
    http = new DeviceGateHttp(testApp.baseUrl);
    admin = (await obtainToken(http, { clientId: CLIENTS.admin, scope: 'admin', deviceLabel: uniqueLabel('console') })).access_token;
  });

  afterAll(() => testApp?.close());

  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const create = (body: unknown, token = admin) => http.json('/v1/admin/clients', body, as(token));
  const setEnabled = (clientId: string, enabled: unknown) => http.json(`/v1/admin/clients/${clientId}`, { enabled }, as(admin), 'PATCH');
  const uniqueId = () => uniqueLabel('api-client');

  it('lists the clients of the config file and of the database, never a secret', async () => {
    const reply = await http.request('/v1/admin/clients', { headers: as(admin) });
    expect(reply.status).toBe(200);
    const confidential = reply.body.clients.find((client: { client_id: string }) => client.client_id === CLIENTS.confidential);
    expect(confidential).toEqual({
      client_id: CLIENTS.confidential,
      name: 'Test Confidential',
      type: 'confidential',
      source: 'config',
      enabled: true,
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code'],
      scopes: ['profile', 'read'],
      default_scopes: ['profile', 'read'],
      organization: null,
      resource_server: false,
    });
    expect(JSON.stringify(reply.body)).not.toMatch(/secret_hash|secretHash|client_secret/);
  });

  it('registers a public client that works at once, audited', async () => {
    const clientId = uniqueId();
    const reply = await create({ client_id: clientId, name: 'Deploy Tool', type: 'public', scopes: ['profile', 'read'], default_scopes: ['profile'] });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ client_id: clientId, source: 'database', enabled: true, scopes: ['profile', 'read'] });
    expect(reply.body.client_secret).toBeUndefined();
    const token = await obtainToken(http, { clientId });
    expect(token.scope).toBe('profile');
    const [event] = await queryDatabase(`SELECT actor_email, details FROM audit_events WHERE type = 'client.created' AND client_id = $1`, [clientId]);
    expect(event).toMatchObject({ actor_email: USERS.alice.email, details: { name: 'Deploy Tool', type: 'public', has_secret: false } });
  });

  it('gives a confidential client a generated secret, shown once, that authenticates it', async () => {
    const reply = await create({ name: 'Build Agent', type: 'confidential', scopes: ['read'] });
    expect(reply.status).toBe(201);
    expectNoStore(reply);
    expect(reply.body.client_id).toMatch(/^dgc_[\w-]{16}$/);
    expect(reply.body.client_secret).toMatch(/^[\w-]{43}$/);
    const code = await http.deviceCode(reply.body.client_id, { client_secret: reply.body.client_secret });
    expect(code.status).toBe(200);
    const listed = (await http.request('/v1/admin/clients', { headers: as(admin) })).body.clients;
    expect(JSON.stringify(listed)).not.toContain(reply.body.client_secret);
  });

  it('refuses what the config file would refuse, listing every problem', async () => {
    const reply = await create({ client_id: uniqueId(), name: 'Bad', type: 'public', scopes: ['profile', 'nope'], default_scopes: ['write'] });
    expectOAuthError(reply, 400, {
      error: 'invalid_request',
      error_description: 'The client is not valid: scope nope is not in the scope catalog; default scope write is not among the client\'s scopes',
    });
    expectOAuthError(await create({ name: 'Chosen secret', type: 'confidential', scopes: [], client_secret: 'x'.repeat(40) }), 400, {
      error: 'invalid_request',
      error_description: 'devicegate generates the secret of a confidential client; do not send one',
    });
    expectOAuthError(await create({ name: 'Unknown field', type: 'public', scopes: [], redirect_uris: ['https://evil.example'] }), 400, {
      error: 'invalid_request',
      error_description: 'The client is not valid: redirect_uris: property redirect_uris should not exist',
    });
    expectOAuthError(await create({ client_id: CLIENTS.cli, name: 'Again', type: 'public', scopes: [] }), 400, {
      error: 'invalid_request',
      error_description: `A client ${CLIENTS.cli} exists already`,
    });
  });

  it('disables and enables a database client; a config client is changed in the file', async () => {
    const clientId = uniqueId();
    await create({ client_id: clientId, name: 'Soon Off', type: 'public', scopes: ['profile'] });
    const disabled = await setEnabled(clientId, false);
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ client_id: clientId, enabled: false });
    expectOAuthError(await http.deviceCode(clientId), 401, { error: 'invalid_client', error_description: 'Unknown or disabled client' });
    expect((await setEnabled(clientId, true)).body.enabled).toBe(true);
    expect((await http.deviceCode(clientId)).status).toBe(200);

    expectOAuthError(await setEnabled(CLIENTS.cli, false), 400, {
      error: 'invalid_request',
      error_description: `Client ${CLIENTS.cli} comes from the config file; change it there`,
    });
    expectOAuthError(await setEnabled('no-such-client', false), 404, { error: 'not_found', error_description: 'No client no-such-client' });
    expectOAuthError(await setEnabled(clientId, 'no'), 400, {
      error: 'invalid_request',
      error_description: 'Send {"enabled": true} or {"enabled": false}',
    });
  });

  it('is for admins only: no admin scope, or someone the catalog does not grant it to, gets 403', async () => {
    const plain = await obtainToken(http, { clientId: CLIENTS.admin, scope: 'profile' });
    expectOAuthError(await http.request('/v1/admin/clients', { headers: as(plain.access_token) }), 403, NEEDS_ADMIN);
    const bob = await obtainToken(http, { clientId: CLIENTS.admin, scope: 'admin profile', user: USERS.bob });
    expectOAuthError(await create({ name: 'Sneaky', type: 'public', scopes: [] }, bob.access_token), 403, NEEDS_ADMIN);
  });

  it("is not for an organization's admin", async () => {
    const acme = await startAcmeApp();
    try {
      const acmeHttp = new DeviceGateHttp(acme.baseUrl);
      const acmeAdmin = await obtainToken(acmeHttp, { clientId: CLIENTS.admin, scope: 'admin' });
      expectOAuthError(await acmeHttp.request('/v1/admin/clients', { headers: as(acmeAdmin.access_token) }), 403, {
        error: 'insufficient_scope',
        error_description: 'Clients span every organization; an admin of acme cannot manage them',
      });
    } finally {
      await acme.close();
    }
  });
});
