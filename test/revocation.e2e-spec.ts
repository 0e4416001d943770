import { randomUUID } from 'node:crypto';
import { hashPasswordSync, sha256Hex } from '../src/common/crypto';
import { LastUsedService } from '../src/tokens/last-used.service';
import { generateToken } from '../src/tokens/token-format';
import { queryDatabase } from './support/database';
import {
  basicAuthorization,
  expectInvalidToken,
  expectNoStore,
  expectOAuthError,
  startFlow,
  uniqueLabel,
} from './support/flows';
import { type Credentials, DeviceGateHttp, type Reply } from './support/http';
import { CLIENTS, CONFIDENTIAL_SECRET, startAcmeApp, startTestApp, type TestApp, type TestConfigFile, USERS } from './support/test-app';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const NOT_FOUND = { error: 'not_found', error_description: 'No such authorization' };
const NEEDS_ADMIN = { error: 'insufficient_scope', error_description: 'This resource needs the scope admin' };
const NEEDS_ADMIN_CHALLENGE = 'Bearer realm="devicegate", error="insufficient_scope", scope="admin"';
const RESOURCE_SERVER = basicAuthorization(CLIENTS.resourceServer, CONFIDENTIAL_SECRET);
const LOCALHOST = '127.0.0.1';
const LOCAL_PASSWORD = 'revocation-spec-password-0123';

interface LocalUser extends Credentials {
  email: string;
  name: string;
}

/**
 * People of this spec alone: revoking everything of a subject, or listing all
 * of it, must not reach the tokens other specs hold for alice and bob.
 */
function localUser(role: string): LocalUser {
  const username = `${role}-${randomUUID().slice(0, 8)}`;
  return { username, password: LOCAL_PASSWORD, email: `${username}@example.com`, name: `${role} of revocation spec` };
}

const OWNER = localUser('owner');
const SELF = localUser('self');
const LEAVER = localUser('leaver');

function addUsers(...users: LocalUser[]) {
  return (file: TestConfigFile) => {
    const passwordHash = hashPasswordSync(LOCAL_PASSWORD);
    (file.users as Record<string, unknown>[]).push(
      ...users.map((user) => ({ username: user.username, email: user.email, name: user.name, password_hash: passwordHash })),
    );
  };
}

interface IssuedToken {
  access_token: string;
  refresh_token?: string;
  expires_in: number;
  scope: string;
}

/** The device flow as `user`: code, sign-in, approval, one poll. */
async function tokenFor(
  http: DeviceGateHttp,
  user: Credentials,
  options: { clientId?: string; deviceLabel?: string; scope?: string } = {},
): Promise<IssuedToken> {
  const clientId = options.clientId ?? CLIENTS.cli;
  const started = await startFlow(http, clientId, { device_label: options.deviceLabel ?? uniqueLabel(), scope: options.scope });
  await http.approveAs(started.user_code, user);
  const reply = await http.poll(clientId, started.device_code);
  if (reply.status !== 200) throw new Error(`token request failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body as IssuedToken;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** 200 (RFC 7009 §2.2) or 204, with no body at all. */
function expectEmpty(reply: Reply, status: number) {
  expect({ status: reply.status, body: reply.body }).toEqual({ status, body: undefined });
}

/** The token.revoked event of someone revoking one of their own authorizations. */
function ownRevocation(event: { reason: 'self' | 'user'; sub: string; clientId: string; label: string }) {
  return {
    outcome: 'success',
    actor_type: 'user',
    actor_email: SELF.email,
    actor_subject_id: event.sub,
    organization_id: null,
    client_id: event.clientId,
    device_label: event.label,
    details: { reason: event.reason, subject_id: event.sub },
  };
}

/** The access_tokens row behind a token, read without using the token. */
async function rowOf(token: string, query = queryDatabase) {
  const [row] = await query<{ id: string; created_at: Date; expires_at: Date; last_used_at: Date | null; last_used_ip: string | null }>(
    'SELECT id, created_at, expires_at, last_used_at, last_used_ip FROM access_tokens WHERE token_hash = $1',
    [sha256Hex(token)],
  );
  if (!row) throw new Error('no such token row');
  return row;
}

async function revokedEvents(tokenId: string, query = queryDatabase) {
  return query(
    `SELECT outcome, actor_type, actor_email, actor_subject_id, organization_id, client_id, device_label, details
       FROM audit_events WHERE type = 'token.revoked' AND token_id = $1 ORDER BY id`,
    [tokenId],
  );
}

describe('token revocation and the device inventory', () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;

  const revoke = (params: Record<string, string | undefined>, headers: Record<string, string> = {}) =>
    http.form('/oauth/revoke', params, headers);
  const introspect = (token: string) => http.form('/oauth/introspect', { token }, { authorization: RESOURCE_SERVER });
  const inventory = (token: string) => http.request('/v1/oauth/authorizations', { headers: bearer(token) });
  const remove = (path: string, token: string) => http.request(path, { method: 'DELETE', headers: bearer(token) });

  beforeAll(async () => {
    // Uses are written when the spec flushes them, never by the timer in between.
    testApp = await startTestApp({ configure: addUsers(OWNER, SELF, LEAVER), env: { LAST_USED_FLUSH_INTERVAL: '1h' } });
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp.close());

  describe('POST /oauth/revoke (RFC 7009)', () => {
    it('revokes an access token for its public client: 200, then refused by bearer routes and introspection', async () => {
      const label = uniqueLabel();
      const token = await tokenFor(http, USERS.alice, { deviceLabel: label });
      const { id } = await rowOf(token.access_token);
      const sub = (await http.me(token.access_token)).body.sub;

      const reply = await revoke({ token: token.access_token, client_id: CLIENTS.cli });

      expectEmpty(reply, 200);
      expectNoStore(reply);
      expectInvalidToken(await http.me(token.access_token));
      expect((await introspect(token.access_token)).body).toStrictEqual({ active: false });
      expect(await revokedEvents(id)).toEqual([
        {
          outcome: 'success',
          actor_type: 'client',
          actor_email: null,
          actor_subject_id: null,
          organization_id: null,
          client_id: CLIENTS.cli,
          device_label: label,
          details: { reason: 'rfc7009', subject_id: sub },
        },
      ]);
    });

    it('is idempotent: revoking again answers 200 and records nothing more', async () => {
      const token = await tokenFor(http, USERS.alice);
      const { id } = await rowOf(token.access_token);

      expectEmpty(await revoke({ token: token.access_token, client_id: CLIENTS.cli }), 200);
      expectEmpty(await revoke({ token: token.access_token, client_id: CLIENTS.cli }), 200);
      expectEmpty(await http.json('/oauth/revoke', { token: token.access_token, client_id: CLIENTS.cli }), 200);

      expect(await revokedEvents(id)).toHaveLength(1);
    });

    it('answers 200 for an unknown, a malformed or a refresh-shaped token (§2.2)', async () => {
      for (const token of [generateToken('dgat'), generateToken('dgrt'), 'not-a-devicegate-token', 'dgat_short']) {
        const reply = await revoke({ token, client_id: CLIENTS.cli });
        expectEmpty(reply, 200);
        expectNoStore(reply);
      }
    });

    it('answers 200 for a token of another client, and leaves that token working', async () => {
      const token = await tokenFor(http, USERS.alice, { clientId: CLIENTS.fast });
      const { id } = await rowOf(token.access_token);

      expectEmpty(await revoke({ token: token.access_token, client_id: CLIENTS.cli }), 200);

      expect((await http.me(token.access_token)).status).toBe(200);
      expect((await introspect(token.access_token)).body.active).toBe(true);
      expect(await revokedEvents(id)).toEqual([]);
    });

    it('accepts any token_type_hint: the token says what it is (§2.1)', async () => {
      const hints = ['access_token', 'refresh_token', 'no_such_type'];
      const tokens = await Promise.all(hints.map(() => tokenFor(http, USERS.alice, { clientId: CLIENTS.fast })));
      for (const [index, hint] of hints.entries()) {
        const token = tokens[index];
        expectEmpty(await revoke({ token: token.access_token, token_type_hint: hint, client_id: CLIENTS.fast }), 200);
        expectInvalidToken(await http.me(token.access_token));
      }
    });

    it('revokes the whole authorization with its refresh token, for its client only', async () => {
      const token = await tokenFor(http, USERS.alice, { clientId: CLIENTS.refreshing });
      const { id } = await rowOf(token.access_token);
      const refresh = (refreshToken: string) =>
        http.form('/oauth/token', { grant_type: 'refresh_token', client_id: CLIENTS.refreshing, refresh_token: refreshToken });

      // Another client's revocation changes nothing.
      expectEmpty(await revoke({ token: token.refresh_token, client_id: CLIENTS.cli }), 200);
      expect((await http.me(token.access_token)).status).toBe(200);

      expectEmpty(await revoke({ token: token.refresh_token, token_type_hint: 'refresh_token', client_id: CLIENTS.refreshing }), 200);

      expectInvalidToken(await http.me(token.access_token));
      expectOAuthError(await refresh(token.refresh_token as string), 400, {
        error: 'invalid_grant',
        error_description: 'The refresh token is invalid, expired or revoked',
      });
      expect(await revokedEvents(id)).toEqual([expect.objectContaining({ details: expect.objectContaining({ reason: 'rfc7009' }) })]);
    });

    it('authenticates a confidential client: no or a wrong secret is 401 invalid_client, and the token survives', async () => {
      const started = await startFlow(http, CLIENTS.confidential, { client_secret: CONFIDENTIAL_SECRET, device_label: uniqueLabel() });
      await http.approveAs(started.user_code, USERS.alice);
      const delivered = await http.poll(CLIENTS.confidential, started.device_code, { client_secret: CONFIDENTIAL_SECRET });
      expect(delivered.status).toBe(200);
      const token: string = delivered.body.access_token;

      const bare = await revoke({ token, client_id: CLIENTS.confidential });
      expectOAuthError(bare, 401, { error: 'invalid_client', error_description: 'This client must authenticate with its secret' });
      expect(bare.headers.get('www-authenticate')).toBe('Basic realm="devicegate"');

      const post = await revoke({ token, client_id: CLIENTS.confidential, client_secret: 'wrong-secret' });
      expectOAuthError(post, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
      expect(post.headers.get('www-authenticate')).toBeNull();

      const basic = await revoke({ token }, { authorization: basicAuthorization(CLIENTS.confidential, 'wrong-secret') });
      expectOAuthError(basic, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
      expect(basic.headers.get('www-authenticate')).toBe('Basic realm="devicegate"');

      const nobody = await revoke({ token });
      expectOAuthError(nobody, 401, { error: 'invalid_client', error_description: 'client_id is missing' });

      expect((await http.me(token)).status).toBe(200);

      expectEmpty(await revoke({ token }, { authorization: basicAuthorization(CLIENTS.confidential, CONFIDENTIAL_SECRET) }), 200);
      expectInvalidToken(await http.me(token));
    });

    it('answers 400 invalid_request without a token, once the client is authenticated', async () => {
      const missing = { error: 'invalid_request', error_description: 'token is required' };
      expectOAuthError(await revoke({ client_id: CLIENTS.cli }), 400, missing);
      expectOAuthError(await revoke({ client_id: CLIENTS.cli, token: '' }), 400, missing);
      expectOAuthError(await revoke({}), 401, { error: 'invalid_client', error_description: 'client_id is missing' });
    });
  });

  describe('GET /v1/oauth/authorizations (device inventory)', () => {
    it("lists exactly the caller's live authorizations across clients and devices, newest first", async () => {
      const laptop = uniqueLabel('laptop');
      const desktop = uniqueLabel('desktop');
      const build = uniqueLabel('build');
      // One after the other, so that newest first is c, b, a.
      const a = await tokenFor(http, OWNER, { clientId: CLIENTS.cli, deviceLabel: laptop, scope: 'profile read' });
      const [b, bob] = await Promise.all([
        tokenFor(http, OWNER, { clientId: CLIENTS.fast, deviceLabel: desktop, scope: 'profile' }),
        tokenFor(http, USERS.bob, { clientId: CLIENTS.cli, deviceLabel: laptop }),
      ]);
      const c = await tokenFor(http, OWNER, { clientId: CLIENTS.refreshing, deviceLabel: build });
      const [rowA, rowB, rowC] = await Promise.all([a, b, c].map((token) => rowOf(token.access_token)));
      const item = (row: typeof rowA) => ({ id: row.id, created_at: row.created_at.toISOString(), expires_at: row.expires_at.toISOString() });

      const reply = await inventory(a.access_token);

      expect(reply.status).toBe(200);
      expectNoStore(reply);
      expect(reply.body).toStrictEqual({
        authorizations: [
          {
            ...item(rowC),
            client: { id: CLIENTS.refreshing, name: 'Refreshing CLI' },
            device_label: build,
            scopes: ['profile', 'read'],
            organization: null,
            last_used: null,
            refreshable: true,
            current: false,
            approved_from: { ip: '127.0.0.1', user_agent: 'node' },
          },
          {
            ...item(rowB),
            client: { id: CLIENTS.fast, name: 'Fast CLI' },
            device_label: desktop,
            scopes: ['profile'],
            organization: null,
            last_used: null,
            refreshable: false,
            current: false,
            approved_from: { ip: '127.0.0.1', user_agent: 'node' },
          },
          {
            ...item(rowA),
            client: { id: CLIENTS.cli, name: 'Test CLI' },
            device_label: laptop,
            scopes: ['profile', 'read'],
            organization: null,
            last_used: { at: expect.stringMatching(ISO), ip: LOCALHOST },
            refreshable: false,
            current: true,
            approved_from: { ip: '127.0.0.1', user_agent: 'node' },
          },
        ],
      });
      expect(reply.body.authorizations.map((entry: { id: string }) => entry.id)).not.toContain((await rowOf(bob.access_token)).id);
      expect(Math.abs(Date.parse(reply.body.authorizations[2].last_used.at) - testApp.clock.now())).toBeLessThan(5_000);

      // The presenting token is the current one.
      const fromB = await inventory(b.access_token);
      expect(fromB.body.authorizations.map((entry: { id: string; current: boolean }) => [entry.id, entry.current])).toEqual([
        [rowC.id, false],
        [rowB.id, true],
        [rowA.id, false],
      ]);

      // A revoked authorization is no longer listed; bob's list is bob's.
      expectEmpty(await revoke({ token: c.refresh_token, client_id: CLIENTS.refreshing }), 200);
      expect((await inventory(a.access_token)).body.authorizations.map((entry: { id: string }) => entry.id)).toEqual([rowB.id, rowA.id]);
      const bobs = (await inventory(bob.access_token)).body.authorizations.map((entry: { id: string }) => entry.id);
      expect(bobs).not.toContain(rowA.id);
      expect(bobs).not.toContain(rowB.id);
    });

    it('shows the last use at once, before it is written; an introspection is a use without a device IP', async () => {
      const [viewer, used, inspected] = await Promise.all(
        [CLIENTS.cli, CLIENTS.fast, CLIENTS.fast].map((clientId) => tokenFor(http, OWNER, { clientId })),
      );
      const [usedRow, inspectedRow] = await Promise.all([rowOf(used.access_token), rowOf(inspected.access_token)]);
      const lastUse = async (id: string) =>
        (await inventory(viewer.access_token)).body.authorizations.find((entry: { id: string }) => entry.id === id).last_used;

      expect(await lastUse(usedRow.id)).toBeNull();
      expect((await http.me(used.access_token)).status).toBe(200);
      // A resource server introspecting it next does not erase the device's address.
      expect((await introspect(used.access_token)).body.active).toBe(true);
      expect((await introspect(inspected.access_token)).body.active).toBe(true);

      const usedNow = await lastUse(usedRow.id);
      expect(usedNow).toEqual({ at: expect.stringMatching(ISO), ip: LOCALHOST });
      expect(Math.abs(Date.parse(usedNow.at) - testApp.clock.now())).toBeLessThan(5_000);
      expect(await lastUse(inspectedRow.id)).toEqual({ at: expect.stringMatching(ISO), ip: null });
      // Nothing was written per request.
      expect(await rowOf(used.access_token)).toMatchObject({ last_used_at: null, last_used_ip: null });

      await testApp.app.get(LastUsedService).flush();

      expect(await rowOf(used.access_token)).toMatchObject({ last_used_at: new Date(usedNow.at), last_used_ip: LOCALHOST });
      expect(await rowOf(inspected.access_token)).toMatchObject({ last_used_at: expect.any(Date), last_used_ip: null });
      expect(await lastUse(usedRow.id)).toEqual(usedNow);

      // Nor after the use was written.
      expect((await introspect(used.access_token)).body.active).toBe(true);
      const afterIntrospection = await lastUse(usedRow.id);
      expect(afterIntrospection.ip).toBe(LOCALHOST);
      expect(Date.parse(afterIntrospection.at)).toBeGreaterThanOrEqual(Date.parse(usedNow.at));
      await testApp.app.get(LastUsedService).flush();
      expect(await rowOf(used.access_token)).toMatchObject({ last_used_ip: LOCALHOST });
    });

    it('refuses a request without a bearer token with the bare challenge (RFC 6750 §3.1)', async () => {
      const reply = await http.request('/v1/oauth/authorizations');
      expect({ status: reply.status, body: reply.body }).toEqual({
        status: 401,
        body: { error: 'invalid_token', error_description: 'A bearer token is required' },
      });
      expect(reply.headers.get('www-authenticate')).toBe('Bearer realm="devicegate"');
    });
  });

  describe('DELETE /v1/oauth/authorizations/self and /:id', () => {
    it('self: 204 and no body; that token stops working, the owner\'s other tokens do not', async () => {
      const label = uniqueLabel();
      const [leaving, staying] = await Promise.all([tokenFor(http, SELF, { deviceLabel: label }), tokenFor(http, SELF)]);
      const { id } = await rowOf(leaving.access_token);
      const sub = (await http.me(staying.access_token)).body.sub;

      const reply = await remove('/v1/oauth/authorizations/self', leaving.access_token);

      expectEmpty(reply, 204);
      expectInvalidToken(await http.me(leaving.access_token));
      expectInvalidToken(await remove('/v1/oauth/authorizations/self', leaving.access_token));
      expect((await http.me(staying.access_token)).status).toBe(200);
      expect((await inventory(staying.access_token)).body.authorizations.map((entry: { id: string }) => entry.id)).not.toContain(id);
      expect(await revokedEvents(id)).toEqual([ownRevocation({ reason: 'self', sub, clientId: CLIENTS.cli, label })]);
    });

    it(":id revokes one of the caller's own authorizations with 204; a second time it is 404", async () => {
      const label = uniqueLabel();
      const [manager, lost] = await Promise.all([tokenFor(http, SELF), tokenFor(http, SELF, { clientId: CLIENTS.fast, deviceLabel: label })]);
      const { id } = await rowOf(lost.access_token);
      const sub = (await http.me(manager.access_token)).body.sub;

      expectEmpty(await remove(`/v1/oauth/authorizations/${id}`, manager.access_token), 204);

      expectInvalidToken(await http.me(lost.access_token));
      expect((await http.me(manager.access_token)).status).toBe(200);
      expectOAuthError(await remove(`/v1/oauth/authorizations/${id}`, manager.access_token), 404, NOT_FOUND);
      expect(await revokedEvents(id)).toEqual([ownRevocation({ reason: 'user', sub, clientId: CLIENTS.fast, label })]);
    });

    it("answers 404 not_found for someone else's authorization, an unknown id and a non-uuid, and revokes nothing", async () => {
      const [caller, bob] = await Promise.all([tokenFor(http, SELF), tokenFor(http, USERS.bob)]);
      const bobsId = (await rowOf(bob.access_token)).id;

      for (const id of [bobsId, randomUUID(), 'not-a-uuid', '12345']) {
        expectOAuthError(await remove(`/v1/oauth/authorizations/${id}`, caller.access_token), 404, NOT_FOUND);
      }

      expect((await http.me(bob.access_token)).status).toBe(200);
      expect((await http.me(caller.access_token)).status).toBe(200);
      expect(await revokedEvents(bobsId)).toEqual([]);
    });
  });

  describe('DELETE /v1/admin/subjects/:subject/authorizations (off-boarding)', () => {
    let admin: string;
    let adminSub: string;

    beforeAll(async () => {
      admin = (await tokenFor(http, USERS.alice, { clientId: CLIENTS.admin, scope: 'admin' })).access_token;
      adminSub = (await http.me(admin)).body.sub;
    });

    const offboard = (subject: string, token = admin) =>
      remove(`/v1/admin/subjects/${encodeURIComponent(subject)}/authorizations`, token);

    it("revokes every live authorization of the subject, named by id, and records the admin as actor", async () => {
      const [first, second] = await Promise.all([
        tokenFor(http, LEAVER, { clientId: CLIENTS.cli }),
        tokenFor(http, LEAVER, { clientId: CLIENTS.fast }),
      ]);
      const leaverSub = (await http.me(first.access_token)).body.sub;
      const ids = await Promise.all([first, second].map(async (token) => (await rowOf(token.access_token)).id));

      const reply = await offboard(leaverSub);

      expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: { revoked: 2 } });
      expectInvalidToken(await http.me(first.access_token));
      expectInvalidToken(await http.me(second.access_token));
      expect((await http.me(admin)).status).toBe(200);
      for (const id of ids) {
        expect(await revokedEvents(id)).toEqual([
          expect.objectContaining({
            actor_type: 'user',
            actor_email: USERS.alice.email,
            actor_subject_id: adminSub,
            details: { reason: 'admin', subject_id: leaverSub },
          }),
        ]);
      }
      expect(await offboard(leaverSub)).toMatchObject({ status: 200, body: { revoked: 0 } });
    });

    it('finds the subject by email in any case; an unknown subject revokes nothing', async () => {
      const token = await tokenFor(http, LEAVER);

      expect(await offboard(LEAVER.email.toUpperCase())).toMatchObject({ status: 200, body: { revoked: 1 } });
      expectInvalidToken(await http.me(token.access_token));

      expect(await offboard(`nobody-${randomUUID()}@example.com`)).toMatchObject({ status: 200, body: { revoked: 0 } });
      expect(await offboard(randomUUID())).toMatchObject({ status: 200, body: { revoked: 0 } });
    });

    it('refuses a token without the admin scope with 403 insufficient_scope and its challenge (RFC 6750 §3.1)', async () => {
      const [victim, notAdmin, cli] = await Promise.all([
        tokenFor(http, LEAVER),
        tokenFor(http, USERS.alice, { clientId: CLIENTS.admin, scope: 'profile' }),
        tokenFor(http, USERS.alice),
      ]);
      const leaverSub = (await http.me(victim.access_token)).body.sub;

      for (const token of [notAdmin.access_token, cli.access_token]) {
        const reply = await offboard(leaverSub, token);
        expectOAuthError(reply, 403, NEEDS_ADMIN);
        expect(reply.headers.get('www-authenticate')).toBe(NEEDS_ADMIN_CHALLENGE);
      }
      expect((await http.me(victim.access_token)).status).toBe(200);
    });

    it('never gives the admin scope to someone the scope catalog does not grant it to', async () => {
      const asked = await tokenFor(http, USERS.bob, { clientId: CLIENTS.admin, scope: 'admin profile' });
      expect(asked.scope).toBe('profile');
      expect((await http.me(asked.access_token)).body.scopes).toEqual(['profile']);
      const reply = await offboard(adminSub, asked.access_token);
      expectOAuthError(reply, 403, NEEDS_ADMIN);
      const [minted] = await queryDatabase(
        `SELECT details FROM audit_events WHERE type = 'token.minted' AND token_id = $1 ORDER BY id DESC LIMIT 1`,
        [(await http.me(asked.access_token)).body.authorization_id],
      );
      expect(minted.details).toMatchObject({ scopes: ['profile'], withheld_scopes: ['admin'] });
    });

    it('refuses a token of no organization on an organization\'s off-boarding route with 403 insufficient_scope', async () => {
      const victim = await tokenFor(http, LEAVER);
      const leaverSub = (await http.me(victim.access_token)).body.sub;
      const description = 'This resource belongs to organization acme; the token is not of that organization';

      const reply = await remove(`/v1/organizations/acme/subjects/${leaverSub}/authorizations`, admin);

      expectOAuthError(reply, 403, { error: 'insufficient_scope', error_description: description });
      expect(reply.headers.get('www-authenticate')).toBe(
        `Bearer realm="devicegate", error="insufficient_scope", error_description="${description}"`,
      );
      expect((await http.me(victim.access_token)).status).toBe(200);
    });
  });
});

describe('DELETE /v1/organizations/:org/subjects/:subject/authorizations (off-boarding within an organization)', () => {
  let testApp: Awaited<ReturnType<typeof startAcmeApp>>;
  let http: DeviceGateHttp;
  let admin: string;
  const database = { query: <T = Record<string, any>>(sql: string, parameters?: unknown[]) => testApp.database.query<T>(sql, parameters) };

  const remove = (path: string, token: string) => http.request(path, { method: 'DELETE', headers: bearer(token) });

  beforeAll(async () => {
    // Its own database: signing in as an organization's member changes alice's and bob's subjects.
    testApp = await startAcmeApp();
    http = new DeviceGateHttp(testApp.baseUrl);
    admin = (await tokenFor(http, USERS.alice, { clientId: CLIENTS.admin, scope: 'admin' })).access_token;
  });

  afterAll(() => testApp?.close());

  it("lets the organization's admin revoke a member's authorizations of that organization", async () => {
    const adminMe = await http.me(admin);
    expect(adminMe.body).toMatchObject({ organization: 'acme', scopes: ['admin'] });
    const [first, second] = await Promise.all([
      tokenFor(http, USERS.bob, { clientId: CLIENTS.cli }),
      tokenFor(http, USERS.bob, { clientId: CLIENTS.fast }),
    ]);
    const bobMe = await http.me(first.access_token);
    expect(bobMe.body.organization).toBe('acme');
    const { id } = await rowOf(first.access_token, database.query);

    const reply = await remove(`/v1/organizations/acme/subjects/${bobMe.body.sub}/authorizations`, admin);

    expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: { revoked: 2 } });
    expectInvalidToken(await http.me(first.access_token));
    expectInvalidToken(await http.me(second.access_token));
    expect((await http.me(admin)).status).toBe(200);
    expect(await revokedEvents(id, database.query)).toEqual([
      {
        outcome: 'success',
        actor_type: 'user',
        actor_email: USERS.alice.email,
        actor_subject_id: adminMe.body.sub,
        organization_id: 'acme',
        client_id: CLIENTS.cli,
        device_label: expect.any(String),
        details: { reason: 'admin', subject_id: bobMe.body.sub },
      },
    ]);
  });

  it("refuses another organization's route with 403 insufficient_scope", async () => {
    const member = await tokenFor(http, USERS.bob);
    const sub = (await http.me(member.access_token)).body.sub;
    const description = 'This resource belongs to organization globex; the token is not of that organization';

    const reply = await remove(`/v1/organizations/globex/subjects/${sub}/authorizations`, admin);

    expectOAuthError(reply, 403, { error: 'insufficient_scope', error_description: description });
    expect(reply.headers.get('www-authenticate')).toBe(
      `Bearer realm="devicegate", error="insufficient_scope", error_description="${description}"`,
    );
    expect((await http.me(member.access_token)).status).toBe(200);
  });

  it("refuses a member without the admin scope, and sends an organization's admin to the organization route", async () => {
    const member = await tokenFor(http, USERS.bob);
    const sub = (await http.me(member.access_token)).body.sub;

    const notAdmin = await remove(`/v1/organizations/acme/subjects/${sub}/authorizations`, member.access_token);
    expectOAuthError(notAdmin, 403, NEEDS_ADMIN);
    expect(notAdmin.headers.get('www-authenticate')).toBe(NEEDS_ADMIN_CHALLENGE);

    expectOAuthError(await remove(`/v1/admin/subjects/${sub}/authorizations`, admin), 403, {
      error: 'insufficient_scope',
      error_description: 'This resource spans every organization; an admin of acme uses /v1/organizations/acme/subjects/:subject/authorizations',
    });
    expect((await http.me(member.access_token)).status).toBe(200);
  });
});
