import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client, type DatabaseError } from 'pg';
import { GENESIS_DIGEST, eventDigest, sealDigest } from '../src/audit/audit-canonical';
import { AuditSealRepository } from '../src/audit/audit-seal.repository';
import { AuditSealerService, type SealResult } from '../src/audit/audit-sealer.service';
import { AuditVerifierService, type AuditVerifyReport } from '../src/audit/audit-verifier.service';
import { createMigratedDatabase, queryDatabase, type TestDatabase } from './support/database';
import { obtainToken, uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { CLIENTS, startTestApp, type TestApp } from './support/test-app';

/**
 * Tamper evidence of the audit trail (acceptance 2): the digest chain the
 * sealer extends, what verify reports, and the append-only guarantees of
 * the database. Tampering breaks a chain for good, so everything that
 * tampers runs in databases of this spec's own.
 */

const HEX64 = /^[0-9a-f]{64}$/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface SealRow {
  seq: string;
  first_event_id: string;
  last_event_id: string;
  event_ids: string[];
  event_digests: string[];
  previous_digest: string;
  digest: string;
}

const SEAL_SELECT = `SELECT seq::text AS seq, first_event_id::text AS first_event_id, last_event_id::text AS last_event_id,
  event_ids::text[] AS event_ids, event_digests, previous_digest, digest FROM audit_seals`;

/** Every column of audit_events but the identity: what a restore writes back. */
const EVENT_COLUMNS = `event_id, occurred_at, recorded_at, type, outcome, actor_type, actor_issuer, actor_email, actor_subject_id,
  actor_external_id, organization_id, client_id, device_label, token_id, ip, user_agent, request_id, details`;
const SEAL_COLUMNS = 'sealed_at, first_event_id, last_event_id, event_ids, event_digests, previous_digest, digest';

function verifierOf(testApp: TestApp): AuditVerifierService {
  return testApp.app.get(AuditVerifierService);
}

function sealerOf(testApp: TestApp): AuditSealerService {
  return testApp.app.get(AuditSealerService);
}

function get(http: DeviceGateHttp, path: string, accessToken?: string) {
  return http.request(path, { headers: accessToken === undefined ? {} : { authorization: `Bearer ${accessToken}` } });
}

/** `npm run audit:verify` against `databaseUrl`: its exit status and the report it printed. */
function runVerifyCli(databaseUrl: string): Promise<{ code: number; report: AuditVerifyReport }> {
  return new Promise((resolve, reject) => {
    execFile(
      'npm',
      ['run', '--silent', 'audit:verify'],
      { cwd: join(__dirname, '..'), env: { ...process.env, DATABASE_URL: databaseUrl }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        try {
          resolve({ code, report: JSON.parse(stdout) });
        } catch {
          reject(new Error(`audit:verify exited with ${code} and printed no report: ${stdout} ${stderr}`));
        }
      },
    );
  });
}

async function refusal(query: Promise<unknown>): Promise<{ code?: string; message: string }> {
  const error = (await query.then(
    () => undefined,
    (caught: DatabaseError) => caught,
  )) as DatabaseError | undefined;
  if (!error) throw new Error('the statement was not refused');
  return { code: error.code, message: error.message };
}

describe("the digest chain over the run's database", () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    // Other specs append events all the time; a lag keeps any of their transactions still in flight out of this seal.
    testApp = await startTestApp({ env: { AUDIT_SEAL_LAG: '2s' } });
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp.close());

  it('seals the events of full device flows, and verify finds the chain intact', async () => {
    const labels = [uniqueLabel('sealed'), uniqueLabel('sealed'), uniqueLabel('sealed')];
    for (const deviceLabel of labels) await obtainToken(http, { deviceLabel });
    const mine = (
      await queryDatabase<{ id: string }>('SELECT id::text AS id FROM audit_events WHERE device_label = ANY($1) ORDER BY id', [labels])
    ).map((row) => row.id);
    expect(mine.length).toBeGreaterThanOrEqual(labels.length * 3);

    await sleep(2_100);
    const sealed = await sealerOf(testApp).sealPending();

    const [{ count }] = await queryDatabase<{ count: string }>(
      'SELECT count(*)::text AS count FROM audit_seals, unnest(event_ids) AS sealed(id) WHERE sealed.id = ANY($1::bigint[])',
      [mine],
    );
    expect(Number(count)).toBe(mine.length);
    const report = await verifierOf(testApp).verify();
    expect(report).toEqual({
      ok: true,
      seals: expect.any(Number),
      events: expect.any(Number),
      last_event_id: expect.stringMatching(/^\d+$/),
      digest: expect.stringMatching(HEX64),
    });
    expect(report.ok && BigInt(report.last_event_id as string) >= BigInt(mine[mine.length - 1])).toBe(true);
    expect(await http.metric('devicegate_audit_events_sealed_total')).toBe(sealed.events);
    expect(await http.metric('devicegate_audit_seals_total')).toBe(sealed.seals);
    expect(await http.metric('devicegate_audit_last_seal_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
  });

  it('answers GET /v1/audit/verify to a token with audit:read, uncached', async () => {
    const { access_token: token } = await obtainToken(http, { clientId: CLIENTS.auditor, scope: 'audit:read' });
    const reply = await get(http, '/v1/audit/verify', token);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.body).toEqual({
      ok: true,
      seals: expect.any(Number),
      events: expect.any(Number),
      last_event_id: expect.stringMatching(/^\d+$/),
      digest: expect.stringMatching(HEX64),
    });
  });

  it('refuses a token without audit:read with 403 insufficient_scope, and a request without a token with 401', async () => {
    const { access_token: token } = await obtainToken(http, { clientId: CLIENTS.auditor, scope: 'profile' });
    const forbidden = await get(http, '/v1/audit/verify', token);
    expect({ status: forbidden.status, body: forbidden.body, challenge: forbidden.headers.get('www-authenticate') }).toEqual({
      status: 403,
      body: { error: 'insufficient_scope', error_description: 'This resource needs the scope audit:read' },
      challenge: 'Bearer realm="devicegate", error="insufficient_scope", scope="audit:read"',
    });

    const anonymous = await get(http, '/v1/audit/verify');
    expect({ status: anonymous.status, body: anonymous.body, challenge: anonymous.headers.get('www-authenticate') }).toEqual({
      status: 401,
      body: { error: 'invalid_token', error_description: 'A bearer token is required' },
      challenge: 'Bearer realm="devicegate"',
    });
  });
});

describe('tamper evidence, in a database of its own', () => {
  let database: TestDatabase;
  let testApp: TestApp;
  let http: DeviceGateHttp;
  let verifier: AuditVerifierService;
  /** The database owner, a superuser. */
  let superuser: Client;
  /** A role with only what the application needs on the audit tables. */
  const appRole = `devicegate_app_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  let appRoleClient: Client;
  /** An unused id inside seal 1's range, and one between seal 2 and seal 3. */
  let gapInside: string;
  let gapBetween: string;
  let intact: AuditVerifyReport;

  async function seal(seq: number): Promise<SealRow> {
    const [row] = (await superuser.query(`${SEAL_SELECT} WHERE seq = $1`, [seq])).rows as SealRow[];
    return row;
  }

  /** An id that the identity will never hand out: a gap, as a rolled-back insert leaves one. */
  async function burnId(): Promise<string> {
    const { rows } = await superuser.query("SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))::text AS id");
    return rows[0].id;
  }

  /** As the superuser, with triggers off for this one transaction: what someone who bypasses the trigger can do. */
  async function tamper(sql: string, params: unknown[] = []): Promise<void> {
    await superuser.query('BEGIN');
    try {
      await superuser.query('SET LOCAL session_replication_role = replica');
      await superuser.query(sql, params);
      await superuser.query('COMMIT');
    } catch (error) {
      await superuser.query('ROLLBACK');
      throw error;
    }
  }

  async function snapshot(table: 'audit_events' | 'audit_seals', key: string): Promise<unknown> {
    const column = table === 'audit_events' ? 'id' : 'seq';
    const { rows } = await superuser.query(`SELECT to_jsonb(t) AS row FROM ${table} t WHERE ${column} = $1`, [key]);
    return rows[0].row;
  }

  async function restoreEvent(id: string, row: unknown): Promise<void> {
    await tamper(
      `UPDATE audit_events SET (${EVENT_COLUMNS}) = (SELECT ${EVENT_COLUMNS} FROM jsonb_populate_record(NULL::audit_events, $2)) WHERE id = $1`,
      [id, row],
    );
  }

  async function restoreSeal(seq: number, row: unknown): Promise<void> {
    await tamper(
      `UPDATE audit_seals SET (${SEAL_COLUMNS}) = (SELECT ${SEAL_COLUMNS} FROM jsonb_populate_record(NULL::audit_seals, $2)) WHERE seq = $1`,
      [seq, row],
    );
  }

  async function expectIntact(): Promise<void> {
    expect(await verifier.verify()).toEqual(intact);
  }

  beforeAll(async () => {
    database = await createMigratedDatabase();
    testApp = await startTestApp({ env: { DATABASE_URL: database.url, AUDIT_SEAL_LAG: '0' } });
    http = new DeviceGateHttp(testApp.baseUrl);
    verifier = verifierOf(testApp);
    superuser = new Client({ connectionString: database.url });
    await superuser.connect();

    await superuser.query(`CREATE ROLE ${appRole} LOGIN PASSWORD 'app-role-password'`);
    await superuser.query(`GRANT CONNECT ON DATABASE ${database.name} TO ${appRole}`);
    await superuser.query(`GRANT USAGE ON SCHEMA public TO ${appRole}`);
    await superuser.query(`GRANT SELECT, INSERT ON audit_events, audit_seals TO ${appRole}`);
    await superuser.query(`GRANT EXECUTE ON FUNCTION audit_prune(timestamptz, integer) TO ${appRole}`);
    const url = new URL(database.url);
    url.username = appRole;
    url.password = 'app-role-password';
    appRoleClient = new Client({ connectionString: url.toString() });
    await appRoleClient.connect();

    // Seal 1: two flows with an unused id between them; seal 2: one flow; seal 3: an unused id, then one flow.
    const sealer = sealerOf(testApp);
    await obtainToken(http);
    gapInside = await burnId();
    await obtainToken(http);
    await sealer.sealPending();
    await obtainToken(http);
    await sealer.sealPending();
    gapBetween = await burnId();
    await obtainToken(http);
    await sealer.sealPending();

    intact = await verifier.verify();
  });

  afterAll(async () => {
    await appRoleClient?.end();
    await superuser?.query(`DROP OWNED BY ${appRole}`).catch(() => undefined);
    await superuser?.query(`DROP ROLE IF EXISTS ${appRole}`);
    await superuser?.end();
    await testApp?.close();
    await database?.drop();
  });

  it('starts from three seals, the first anchored at 64 zeros, each naming the one before', async () => {
    const seals = [await seal(1), await seal(2), await seal(3)];
    expect(seals.map((row) => [row.seq, row.previous_digest])).toEqual([
      ['1', GENESIS_DIGEST],
      ['2', seals[0].digest],
      ['3', seals[1].digest],
    ]);
    expect(BigInt(seals[0].first_event_id) < BigInt(gapInside) && BigInt(gapInside) < BigInt(seals[0].last_event_id)).toBe(true);
    expect(BigInt(seals[1].last_event_id) < BigInt(gapBetween) && BigInt(gapBetween) < BigInt(seals[2].first_event_id)).toBe(true);
    expect(intact).toEqual({
      ok: true,
      seals: 3,
      events: seals.reduce((sum, row) => sum + row.event_ids.length, 0),
      last_event_id: seals[2].last_event_id,
      digest: seals[2].digest,
    });
  });

  describe('the append-only trail', () => {
    const ON_BOTH = ['audit_events', 'audit_seals'] as const;

    it.each(ON_BOTH)("refuses UPDATE, DELETE and TRUNCATE on %s to the application's role", async (table) => {
      const [column, changed] = table === 'audit_events' ? ['id', 'ip'] : ['seq', 'digest'];
      const key = table === 'audit_events' ? intact.ok && intact.last_event_id : '1';
      const permissionDenied = { code: '42501', message: `permission denied for table ${table}` };
      expect(await refusal(appRoleClient.query(`UPDATE ${table} SET ${changed} = ${changed} WHERE ${column} = $1`, [key]))).toEqual(
        permissionDenied,
      );
      expect(await refusal(appRoleClient.query(`DELETE FROM ${table} WHERE ${column} = $1`, [key]))).toEqual(permissionDenied);
      expect(await refusal(appRoleClient.query(`TRUNCATE ${table}`))).toEqual(permissionDenied);
      const { rows } = await appRoleClient.query(`SELECT count(*)::int AS count FROM ${table} WHERE ${column} = $1`, [key]);
      expect(rows).toEqual([{ count: 1 }]);
    });

    it("lets the application's role append events, which the next seal takes", async () => {
      await appRoleClient.query(`INSERT INTO audit_events (occurred_at, type, outcome) VALUES (now(), 'client.changed', 'success')`);
      expect(await verifier.verify()).toEqual(intact);
    });

    it.each(ON_BOTH)('refuses UPDATE, DELETE and TRUNCATE on %s even to the owner, a superuser, while the trigger is on', async (table) => {
      const column = table === 'audit_events' ? 'ip' : 'digest';
      const key = table === 'audit_events' ? 'id' : 'seq';
      const refused = (operation: string) => ({
        code: '42501',
        message: `the audit trail is append-only: ${operation} on ${table} is refused`,
      });
      expect(await refusal(superuser.query(`UPDATE ${table} SET ${column} = $1 WHERE ${key} = 1`, ['0'.repeat(64)]))).toEqual(
        refused('UPDATE'),
      );
      expect(await refusal(superuser.query(`DELETE FROM ${table} WHERE ${key} = 1`))).toEqual(refused('DELETE'));
      expect(await refusal(superuser.query(`TRUNCATE ${table}`))).toEqual(refused('TRUNCATE'));
      await expectIntact();
    });
  });

  describe('verify names the first break', () => {
    /** An event in the middle of seal 2. */
    async function sealedEvent(seq = 2): Promise<string> {
      const { event_ids: ids } = await seal(seq);
      return ids[Math.floor(ids.length / 2)];
    }

    const ALTERATIONS: [string, string][] = [
      ['event_id', 'gen_random_uuid()'],
      ['occurred_at', "occurred_at + interval '1 microsecond'"],
      ['type', "CASE WHEN type = 'token.revoked' THEN 'token.minted' ELSE 'token.revoked' END"],
      ['outcome', "CASE WHEN outcome = 'success' THEN 'failure' ELSE 'success' END"],
      ['actor_type', "coalesce(actor_type, '') || 'x'"],
      ['actor_issuer', "coalesce(actor_issuer, '') || 'x'"],
      ['actor_email', "'mallory@example.com'"],
      ['actor_subject_id', 'gen_random_uuid()'],
      ['actor_external_id', "coalesce(actor_external_id, '') || 'x'"],
      ['organization_id', "coalesce(organization_id, '') || 'x'"],
      ['client_id', "coalesce(client_id, '') || 'x'"],
      ['device_label', "coalesce(device_label, '') || 'x'"],
      ['token_id', 'gen_random_uuid()'],
      ['ip', "'203.0.113.7'"],
      ['user_agent', "coalesce(user_agent, '') || 'x'"],
      ['request_id', "coalesce(request_id, '') || 'x'"],
      ['details', `details || '{"tampered": true}'`],
    ];

    it.each(ALTERATIONS)('an event whose %s was altered directly: event_altered at that event', async (column, value) => {
      const id = await sealedEvent();
      const original = await snapshot('audit_events', id);
      await tamper(`UPDATE audit_events SET ${column} = ${value} WHERE id = $1`, [id]);
      try {
        expect(await verifier.verify()).toEqual({ ok: false, break: { seal_seq: 2, event_id: id, reason: 'event_altered' } });
      } finally {
        await restoreEvent(id, original);
      }
      await expectIntact();
    });

    it('reports the same through GET /v1/audit/verify and npm run audit:verify (exit status 1, then 0)', async () => {
      const { access_token: token } = await obtainToken(http, { clientId: CLIENTS.auditor, scope: 'audit:read' });
      const id = await sealedEvent(1);
      const original = await snapshot('audit_events', id);
      const broken = { ok: false, break: { seal_seq: 1, event_id: id, reason: 'event_altered' } };
      await tamper(`UPDATE audit_events SET details = details || '{"note": "edited"}' WHERE id = $1`, [id]);
      try {
        expect((await get(http, '/v1/audit/verify', token)).body).toEqual(broken);
        expect(await runVerifyCli(database.url)).toEqual({ code: 1, report: broken });
      } finally {
        await restoreEvent(id, original);
      }
      expect((await get(http, '/v1/audit/verify', token)).body).toEqual(intact);
      expect(await runVerifyCli(database.url)).toEqual({ code: 0, report: intact });
    }, 90_000);

    it('a sealed event deleted directly: event_missing at that event', async () => {
      const id = await sealedEvent();
      const original = await snapshot('audit_events', id);
      await tamper('DELETE FROM audit_events WHERE id = $1', [id]);
      try {
        expect(await verifier.verify()).toEqual({ ok: false, break: { seal_seq: 2, event_id: id, reason: 'event_missing' } });
      } finally {
        await tamper('INSERT INTO audit_events OVERRIDING SYSTEM VALUE SELECT * FROM jsonb_populate_record(NULL::audit_events, $1)', [
          original,
        ]);
      }
      await expectIntact();
    });

    it.each([
      ['inside the range of a seal', () => gapInside, 1],
      ['between two seals', () => gapBetween, 3],
    ])('an event inserted behind the chain, %s: event_unsealed at that event', async (_where, gap, seq) => {
      const id = gap();
      await superuser.query(
        `INSERT INTO audit_events (id, occurred_at, type, outcome, details)
         OVERRIDING SYSTEM VALUE VALUES ($1, now(), 'token.revoked', 'success', '{"reason": "admin"}')`,
        [id],
      );
      try {
        expect(await verifier.verify()).toEqual({ ok: false, break: { seal_seq: seq, event_id: id, reason: 'event_unsealed' } });
      } finally {
        await tamper('DELETE FROM audit_events WHERE id = $1', [id]);
      }
      await expectIntact();
    });

    it("a seal whose digest was changed: chain_broken at that seal", async () => {
      const original = await snapshot('audit_seals', '2');
      await tamper(`UPDATE audit_seals SET digest = $1 WHERE seq = 2`, ['f'.repeat(64)]);
      try {
        expect(await verifier.verify()).toEqual({ ok: false, break: { seal_seq: 2, reason: 'chain_broken' } });
      } finally {
        await restoreSeal(2, original);
      }
      await expectIntact();
    });

    it('a seal removed from the middle: chain_broken at the seal after it', async () => {
      const original = await snapshot('audit_seals', '2');
      await tamper('DELETE FROM audit_seals WHERE seq = 2');
      try {
        expect(await verifier.verify()).toEqual({ ok: false, break: { seal_seq: 3, reason: 'chain_broken' } });
      } finally {
        await tamper('INSERT INTO audit_seals SELECT * FROM jsonb_populate_record(NULL::audit_seals, $1)', [original]);
      }
      await expectIntact();
    });

    it('an event altered with its seal recomputed to match: chain_broken at the next seal; rewritten to the end, only the kept head digest tells', async () => {
      const id = await sealedEvent();
      const originals = {
        event: await snapshot('audit_events', id),
        seal2: await snapshot('audit_seals', '2'),
        seal3: await snapshot('audit_seals', '3'),
      };
      const [seal2, seal3] = [await seal(2), await seal(3)];
      await tamper(`UPDATE audit_events SET actor_email = 'mallory@example.com' WHERE id = $1`, [id]);
      try {
        const repository = testApp.app.get(AuditSealRepository);
        const [altered] = await repository.readSnapshot((manager) =>
          repository.eventsBetween(manager, String(BigInt(id) - 1n), id, 1),
        );
        const digests = seal2.event_digests.map((digest, index) => (seal2.event_ids[index] === id ? eventDigest(altered) : digest));
        const forged2 = sealDigest(seal2.previous_digest, digests);
        await tamper('UPDATE audit_seals SET event_digests = $1, digest = $2 WHERE seq = 2', [digests, forged2]);
        expect(await verifier.verify()).toEqual({ ok: false, break: { seal_seq: 3, reason: 'chain_broken' } });

        const forged3 = sealDigest(forged2, seal3.event_digests);
        await tamper('UPDATE audit_seals SET previous_digest = $1, digest = $2 WHERE seq = 3', [forged2, forged3]);
        const rewritten = await verifier.verify();
        expect(rewritten).toEqual({ ...intact, digest: forged3 });
        expect(rewritten.ok && rewritten.digest).not.toBe(intact.ok && intact.digest);
      } finally {
        await restoreEvent(id, originals.event);
        await restoreSeal(2, originals.seal2);
        await restoreSeal(3, originals.seal3);
      }
      await expectIntact();
    });
  });

  it("prunes whole seals only through audit_prune(), which the application's role may call, and verify then starts from the oldest kept seal", async () => {
    const first = await seal(1);
    const { rows } = await appRoleClient.query("SELECT seals::int, events::int FROM audit_prune(now() + interval '1 day', 1)");
    expect(rows).toEqual([{ seals: 1, events: first.event_ids.length }]);
    const report = await verifier.verify();
    expect(report).toEqual({
      ...intact,
      seals: 2,
      events: (intact.ok ? intact.events : 0) - first.event_ids.length,
    });
  });
});

describe('sealers at once, in a database of their own', () => {
  let database: TestDatabase;
  let apps: TestApp[];

  beforeAll(async () => {
    database = await createMigratedDatabase();
    apps = await Promise.all([0, 1].map(() => startTestApp({ env: { DATABASE_URL: database.url, AUDIT_SEAL_LAG: '0' } })));
  });

  afterAll(async () => {
    await Promise.all((apps ?? []).map((testApp) => testApp.close()));
    await database?.drop();
  });

  async function appendEvents(count: number, recordedAt = 'now()'): Promise<void> {
    await database.query(
      `INSERT INTO audit_events (occurred_at, recorded_at, type, outcome, details)
       SELECT now(), ${recordedAt}, 'rate_limit.tripped', 'failure', jsonb_build_object('n', n) FROM generate_series(1, $1::int) n`,
      [count],
    );
  }

  async function sealedIds(): Promise<string[]> {
    const rows = await database.query<{ id: string }>('SELECT unnest(event_ids)::text AS id FROM audit_seals ORDER BY seq');
    return rows.map((row) => row.id);
  }

  it('extend one linear chain: no fork, no event sealed twice, none left out', async () => {
    const results: SealResult[] = [];
    for (let round = 0; round < 3; round++) {
      await appendEvents(2_500);
      await Promise.all(apps.map((testApp) => obtainToken(new DeviceGateHttp(testApp.baseUrl))));
      const [a, b] = apps.map(sealerOf);
      results.push(...(await Promise.all([a.sealPending(), b.sealPending(), a.sealPending(), b.sealPending()])));
    }

    const seals = await database.query<SealRow>(`${SEAL_SELECT} ORDER BY seq`);
    expect(seals.map((row) => Number(row.seq))).toEqual(seals.map((_row, index) => index + 1));
    expect(seals.map((row) => row.previous_digest)).toEqual([GENESIS_DIGEST, ...seals.slice(0, -1).map((row) => row.digest)]);
    expect(seals.every((row) => row.event_ids.length <= 1000)).toBe(true);
    const ids = await sealedIds();
    const all = (await database.query<{ id: string }>('SELECT e.id::text AS id FROM audit_events e ORDER BY e.id')).map((row) => row.id);
    expect(ids).toEqual(all);
    expect(results.reduce((sum, result) => sum + result.events, 0)).toBe(all.length);
    expect(results.reduce((sum, result) => sum + result.seals, 0)).toBe(seals.length);
    expect(await verifierOf(apps[1]).verify()).toEqual({
      ok: true,
      seals: seals.length,
      events: all.length,
      last_event_id: all[all.length - 1],
      digest: seals[seals.length - 1].digest,
    });
  }, 60_000);

  it('leaves events younger than AUDIT_SEAL_LAG, and every older event after the first young one, for a later seal', async () => {
    const lagging = await startTestApp({ env: { DATABASE_URL: database.url, AUDIT_SEAL_LAG: '1h' } });
    try {
      const before = await sealedIds();
      await appendEvents(3);
      // Recorded two hours ago but numbered after the young ones: sealing it now would leave them behind the chain.
      await appendEvents(2, "now() - interval '2 hours'");
      expect(await sealerOf(lagging).sealPending()).toEqual({ seals: 0, events: 0 });
      expect(await sealedIds()).toEqual(before);
    } finally {
      await lagging.close();
    }
    expect(await sealerOf(apps[0]).sealPending()).toEqual({ seals: 1, events: 5 });
  });

  it('seals on its own every AUDIT_SEAL_INTERVAL', async () => {
    const scheduled = await startTestApp({ env: { DATABASE_URL: database.url, AUDIT_SEAL_LAG: '0', AUDIT_SEAL_INTERVAL: '1s' } });
    try {
      await appendEvents(10);
      const [{ id: newest }] = await database.query<{ id: string }>('SELECT max(id)::text AS id FROM audit_events');
      const deadline = Date.now() + 10_000;
      while (!(await sealedIds()).includes(newest) && Date.now() < deadline) await sleep(100);
      expect(await sealedIds()).toContain(newest);
      const http = new DeviceGateHttp(scheduled.baseUrl);
      expect(await http.metric('devicegate_audit_events_sealed_total')).toBe(10);
      expect(await verifierOf(scheduled).verify()).toMatchObject({ ok: true, last_event_id: newest });
    } finally {
      await scheduled.close();
    }
  });
});
