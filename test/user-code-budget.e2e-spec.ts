import { createMigratedDatabase, type TestDatabase } from './support/database';
import { startFlow } from './support/flows';
import { approvalGrantCookie, DeviceGateHttp, type Reply } from './support/http';
import { acmeOidcConnector, type OidcIdp, signInAtIdp, startOidcIdp } from './support/oidc-idp';
import { CLIENTS, freePort, startTestApp, type TestApp, USERS } from './support/test-app';

const IDP_CLIENT = { id: 'devicegate-acme', secret: 'acme-idp-client-secret-0123456789abcdef' };
const CAROL = { sub: 'idp-user-carol-0001', email: 'carol@acme.test', name: 'Carol Acme' };
const SPENT = { error: 'too_many_requests', error_description: 'Too many wrong codes were entered recently; try again in a few minutes' };

/**
 * The global budget of wrong user codes is spent only by codes people type
 * (the lookup, the start of a sign-in). A code named by a verified state
 * envelope or approval grant was checked when it was typed: someone draining
 * the budget must not make people fail halfway through a sign-in whose
 * one-shot state is already used.
 */
describe('the wrong-code budget and codes that were already verified', () => {
  let database: TestDatabase;
  let idp: OidcIdp;
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    database = await createMigratedDatabase();
    const port = await freePort();
    idp = await startOidcIdp({
      clients: [
        {
          client_id: IDP_CLIENT.id,
          client_secret: IDP_CLIENT.secret,
          redirect_uris: [`http://127.0.0.1:${port}/oauth/device/sso/oidc/acme-oidc/callback`],
        },
      ],
      accounts: { carol: CAROL },
    });
    testApp = await startTestApp({
      port,
      env: { DATABASE_URL: database.url, RATE_LIMIT_FAILED_USER_CODES: '3/1m' },
      configure: (file) => {
        file.organizations = [{ id: 'acme', name: 'Acme Corp', email_domains: ['acme.test'] }];
        file.connectors = [
          { id: 'local', type: 'local', display_name: 'Local accounts' },
          acmeOidcConnector('acme-oidc', idp, IDP_CLIENT),
        ];
      },
    });
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(async () => {
    await testApp?.close();
    await idp?.stop();
    await database?.drop();
  });

  const lookup = (userCode: string) => http.request(`/oauth/device/lookup?user_code=${encodeURIComponent(userCode)}`);

  async function approveWithCookie(cookie: string, userCode: string): Promise<void> {
    const context = await http.approvalContext(cookie);
    expect({ status: context.status, user_code: context.body.user_code }).toEqual({ status: 200, user_code: userCode });
    const decided = await http.decide('approve', cookie, context.body.csrf_token, userCode);
    expect({ status: decided.status, body: decided.body }).toEqual({ status: 200, body: { status: 'approved' } });
  }

  function cookieOf(reply: Reply): string {
    return approvalGrantCookie(reply);
  }

  it('a person holding a verified envelope or approval grant completes after someone drained the budget', async () => {
    // Both people typed a good code before the budget ran out: one signed in locally (an approval grant),
    // one is at the IdP (a state envelope).
    const local = await startFlow(http, CLIENTS.fast);
    const localCookie = await http.signIn(local.user_code, USERS.alice);
    const sso = await startFlow(http, CLIENTS.fast);
    const initiated = await http.request(`/oauth/device/sso/initiate?${new URLSearchParams({ user_code: sso.user_code, connector: 'acme-oidc' })}`);
    expect(initiated.status).toBe(303);
    const back = new URL(await signInAtIdp(initiated.headers.get('location') as string, 'carol'));

    // Someone drains the budget: now even a good typed code is refused.
    for (const wrong of ['BCDF-GHJK', 'CDFG-HJKL', 'DFGH-JKLM']) expect((await lookup(wrong)).body).toEqual({ valid: false });
    const refused = await lookup(local.user_code);
    expect({ status: refused.status, body: refused.body }).toEqual({ status: 429, body: SPENT });

    // The codes the envelope and the grant name are not typed: they neither check nor spend the budget.
    const returned = await http.request(`${back.pathname}${back.search}`);
    expect(returned.status).toBe(303);
    await approveWithCookie(cookieOf(returned), sso.user_code);
    await approveWithCookie(localCookie, local.user_code);

    for (const flow of [local, sso]) expect((await http.poll(CLIENTS.fast, flow.device_code)).status).toBe(200);
    expect((await lookup(local.user_code)).status).toBe(429);
  });
});
