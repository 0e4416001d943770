import { Client } from 'pg';
import { AuditSealerService } from '../src/audit/audit-sealer.service';
import { expectOAuthError, obtainToken, uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { CLIENTS, startAcmeApp, startTestApp, type TestApp, USERS } from './support/test-app';
import type { TestDatabase } from './support/database';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whose audit trail a token reads: a token of an organization (here: acme,
 * from the acme local connector) sees that organization's events only, and
 * its filter cannot widen that; a token of no organization (an instance
 * whose local connector has none, on the same database) sees them all.
 */
describe('the audit trail as a token of one organization reads it', () => {
  let acmeApp: TestApp & { database: TestDatabase };
  let globalApp: TestApp;
  let acme: DeviceGateHttp;
  let global: DeviceGateHttp;
  let acmeToken: string;
  let globalToken: string;
  let superuser: Client;
  const ids: Record<'acme' | 'globex' | 'none', string[]> = { acme: [], globex: [], none: [] };

  beforeAll(async () => {
    acmeApp = await startAcmeApp({ env: { AUDIT_SEAL_LAG: '1s' } });
    globalApp = await startTestApp({ env: { DATABASE_URL: acmeApp.database.url, AUDIT_SEAL_LAG: '1s' } });
    acme = new DeviceGateHttp(acmeApp.baseUrl);
    global = new DeviceGateHttp(globalApp.baseUrl);
    acmeToken = (await obtainToken(acme, { clientId: CLIENTS.auditor, scope: 'audit:read', deviceLabel: uniqueLabel('auditor') })).access_token;
    globalToken = (await obtainToken(global, { clientId: CLIENTS.auditor, scope: 'audit:read', user: USERS.bob })).access_token;
    expect((await acme.me(acmeToken)).body.organization).toBe('acme');
    expect((await global.me(globalToken)).body.organization).toBeNull();

    // Events of both organizations and of none, interleaved; a globex event is the newest.
    for (const organization of ['acme', 'globex', 'none', 'acme', 'none', 'globex'] as const) {
      const [row] = await acmeApp.database.query<{ id: string }>(
        `INSERT INTO audit_events (occurred_at, type, outcome, actor_type, organization_id, client_id, details)
         VALUES (now(), 'token.revoked', 'success', 'system', $1, 'scope-seed', '{"reason": "admin"}') RETURNING id::text AS id`,
        [organization === 'none' ? null : organization],
      );
      ids[organization].push(row.id);
    }
    superuser = new Client({ connectionString: acmeApp.database.url });
    await superuser.connect();
  });

  afterAll(async () => {
    await superuser?.end();
    await globalApp?.close();
    await acmeApp?.close();
  });

  const get = (http: DeviceGateHttp, path: string, token: string) =>
    http.request(path, { headers: { authorization: `Bearer ${token}` } });

  async function seededIds(http: DeviceGateHttp, token: string, query = ''): Promise<string[]> {
    const reply = await get(http, `/v1/audit/events?client=scope-seed&limit=1000${query}`, token);
    expect(reply.status).toBe(200);
    return reply.body.events.map((event: { sequence: string }) => event.sequence);
  }

  it("shows a token of an organization that organization's events only, whatever it filters on", async () => {
    expect(await seededIds(acme, acmeToken)).toEqual(ids.acme);
    expect(await seededIds(acme, acmeToken, '&organization=acme')).toEqual(ids.acme);
    const all = await get(acme, '/v1/audit/events?limit=1000', acmeToken);
    expect(new Set(all.body.events.map((event: { organization: string | null }) => event.organization))).toEqual(new Set(['acme']));
  });

  it('refuses a filter that names another organization with 403 insufficient_scope', async () => {
    for (const path of ['/v1/audit/events?organization=globex', '/v1/audit/events/export?organization=globex']) {
      expectOAuthError(await get(acme, path, acmeToken), 403, {
        error: 'insufficient_scope',
        error_description: 'You may read the audit trail of organization acme only',
      });
    }
  });

  it("exports an organization's events only", async () => {
    const reply = await acme.request('/v1/audit/events/export?client=scope-seed', { headers: { authorization: `Bearer ${acmeToken}` } });
    expect(reply.status).toBe(200);
    const lines = String(reply.body).trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((event) => event.sequence)).toEqual(ids.acme);
  });

  it('shows a token of no organization every organization, and lets it filter on any', async () => {
    const every = [...ids.acme, ...ids.globex, ...ids.none].sort((a, b) => Number(a) - Number(b));
    expect(await seededIds(global, globalToken)).toEqual(every);
    expect(await seededIds(global, globalToken, '&organization=globex')).toEqual(ids.globex);
  });

  describe('GET /v1/audit/verify', () => {
    beforeAll(async () => {
      await sleep(1_100);
      await acmeApp.app.get(AuditSealerService).sealPending();
    });

    it("answers for the whole chain, and names as the newest sealed event the organization's own", async () => {
      const whole = await get(global, '/v1/audit/verify', globalToken);
      const scoped = await get(acme, '/v1/audit/verify', acmeToken);
      expect(whole.body).toMatchObject({ ok: true });
      expect(BigInt(whole.body.last_event_id)).toBeGreaterThanOrEqual(BigInt(ids.globex[1]));
      const [{ id: newestAcme }] = await acmeApp.database.query<{ id: string }>(
        "SELECT max(id)::text AS id FROM audit_events WHERE organization_id = 'acme' AND id <= $1::bigint",
        [whole.body.last_event_id],
      );
      expect(scoped.body).toEqual({ ...whole.body, last_event_id: newestAcme });
    });

    it("names a broken event only to its own organization (and to a token of none)", async () => {
      const original = await tamper('DELETE FROM audit_events WHERE id = $1::bigint RETURNING to_jsonb(audit_events.*) AS row', [ids.globex[0]]);
      try {
        const whole = await get(global, '/v1/audit/verify', globalToken);
        const scoped = await get(acme, '/v1/audit/verify', acmeToken);
        expect(whole.body).toEqual({ ok: false, break: { seal_seq: expect.any(Number), event_id: ids.globex[0], reason: 'event_missing' } });
        const { event_id: _named, ...where } = whole.body.break;
        expect(scoped.body).toEqual({ ok: false, break: where });
      } finally {
        await tamper('INSERT INTO audit_events OVERRIDING SYSTEM VALUE SELECT * FROM jsonb_populate_record(NULL::audit_events, $1)', [
          original[0].row,
        ]);
      }

      // An altered event still exists: its own organization is told which one it is, another is not.
      for (const [organization, id] of [
        ['globex', ids.globex[0]],
        ['acme', ids.acme[0]],
      ] as const) {
        await tamper(`UPDATE audit_events SET details = '{"reason": "self"}' WHERE id = $1::bigint`, [id]);
        try {
          const scoped = await get(acme, '/v1/audit/verify', acmeToken);
          expect(scoped.body).toEqual({
            ok: false,
            break: { seal_seq: expect.any(Number), reason: 'event_altered', ...(organization === 'acme' ? { event_id: id } : {}) },
          });
        } finally {
          await tamper(`UPDATE audit_events SET details = '{"reason": "admin"}' WHERE id = $1::bigint`, [id]);
        }
      }
      expect((await get(acme, '/v1/audit/verify', acmeToken)).body).toMatchObject({ ok: true });
    });
  });

  async function tamper(sql: string, params: unknown[]): Promise<{ row: unknown }[]> {
    await superuser.query('BEGIN');
    try {
      await superuser.query('SET LOCAL session_replication_role = replica');
      const result = await superuser.query(sql, params);
      await superuser.query('COMMIT');
      return result.rows;
    } catch (error) {
      await superuser.query('ROLLBACK');
      throw error;
    }
  }
});
