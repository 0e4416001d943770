import { deriveKey, hmacSha256 } from '../src/common/crypto';
import { createMigratedDatabase, type TestDatabase } from './support/database';
import { expectOAuthError, startFlow } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { CLIENTS, startTestApp, type TestApp, USERS } from './support/test-app';

const SECRET = 'test-signing-key-0123456789-abcdefghijklmnop';
const INVALID_CREDENTIALS = { error: 'invalid_credentials', error_description: 'Unknown user or wrong password' };

/** The local connector's failed sign-ins, as the audit trail keeps them: never what was typed, unless it names a user. */
describe('local sign-in failures in the audit trail', () => {
  let database: TestDatabase;
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    database = await createMigratedDatabase();
    testApp = await startTestApp({ env: { DATABASE_URL: database.url, SECRET_KEYS: `k1:${SECRET}` } });
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(async () => {
    await testApp?.close();
    await database?.drop();
  });

  async function failSignIn(username: string): Promise<Record<string, unknown>> {
    const started = await startFlow(http, CLIENTS.cli);
    const [{ id: mark }] = await database.query(`SELECT coalesce(max(id), 0)::text AS id FROM audit_events`);
    const reply = await http.form('/oauth/device/sso/local/login', { user_code: started.user_code, username, password: 'wrong-password-0' });
    expectOAuthError(reply, 401, INVALID_CREDENTIALS);
    const rows = await database.query(`SELECT details FROM audit_events WHERE id > $1 AND type = 'sso.assertion_rejected'`, [mark]);
    expect(rows).toHaveLength(1);
    return rows[0].details;
  }

  it('names a known user (as configured, whatever the case typed)', async () => {
    expect(await failSignIn('ALICE')).toEqual({ connector: 'local', reason: 'invalid_credentials', username: USERS.alice.username });
  });

  it('keeps only a keyed hash of a name no user has: a password typed into the username field never reaches the trail', async () => {
    const typed = 'Tr0ub4dor&3-my-actual-password';
    const first = await failSignIn(typed);
    const expected = `k1:${hmacSha256(deriveKey(Buffer.from(SECRET), 'audit-username'), typed)}`;
    expect(first).toEqual({ connector: 'local', reason: 'invalid_credentials', username_hmac: expected });
    // The same text hashes the same, so repeated attempts can be correlated.
    expect(await failSignIn(typed)).toEqual(first);
    expect((await failSignIn(`${typed}x`)).username_hmac).not.toBe(expected);

    const everything = JSON.stringify(await database.query('SELECT * FROM audit_events'));
    expect(everything).not.toContain(typed);
    expect(testApp.logs.join('\n')).not.toContain(typed);
  });
});
