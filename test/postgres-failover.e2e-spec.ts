import { Client } from 'pg';
import { AuditOutboxDrainer } from '../src/audit/audit-outbox-drainer.service';
import { AuditSealerService } from '../src/audit/audit-sealer.service';
import { AuditVerifierService } from '../src/audit/audit-verifier.service';
import { sha256 } from '../src/common/crypto';
import { APPLICATION_NAME } from '../src/database/data-source-options';
import { ADMIN_DATABASE_URL, createMigratedDatabase, type TestDatabase } from './support/database';
import { obtainToken, startFlow, uniqueLabel, type StartedFlow } from './support/flows';
import { DeviceGateHttp, type Reply } from './support/http';
import { CLIENTS, startTestApp, type TestApp, USERS } from './support/test-app';

/**
 * Issue 16, Postgres failover: the app's backends are terminated
 * (pg_terminate_backend, as a failover or a restart does) while devices
 * receive tokens, refresh and revoke them. Every answer is a success, an
 * RFC 4xx or a 503 with Retry-After; nothing half-written remains; the pool
 * reconnects and the audit chain verifies.
 */
const FLOWS = 12;
const CHAOS_ROUNDS = 16;
const RECOVERY_ROUNDS = 8;
const REFRESHES = 3;
/** The poll interval of CLIENTS.refreshing, plus a second: a round never polls too fast. */
const ROUND_MS = 2000;
const ALLOWED = new Set([200, 204, 400, 401, 503]);

type Role = 'refresh' | 'revoke' | 'keep';

interface Device {
  label: string;
  flow: StartedFlow;
  role: Role;
  state: 'polling' | 'refreshing' | 'revoking' | 'done';
  deliveries: number;
  accessToken?: string;
  refreshToken?: string;
  refreshes: number;
  /** A 503 on the current refresh token or revocation: the change may have committed with its answer lost. */
  unsure: boolean;
  /** The authorization ended by reuse detection, or was already revoked, after an answer was lost. */
  endedAfterLostAnswer: boolean;
}

interface Answer {
  path: string;
  status: number;
  retryAfter: string | null;
  error?: string;
}

describe('Postgres backends terminated under load', () => {
  let database: TestDatabase;
  let testApp: TestApp;
  let http: DeviceGateHttp;
  let admin: Client;
  const answers: Answer[] = [];
  const issuedLabels: string[] = [];
  let devices: Device[];
  let terminated = 0;

  beforeAll(async () => {
    database = await createMigratedDatabase();
    testApp = await startTestApp({ env: { DATABASE_URL: database.url, AUDIT_SEAL_LAG: '1s' } });
    http = new DeviceGateHttp(testApp.baseUrl);
    admin = new Client({ connectionString: ADMIN_DATABASE_URL });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await testApp?.close();
    await database?.drop();
  });

  function note<T extends Record<string, any>>(path: string, reply: Reply<T>): Reply<T> {
    answers.push({ path, status: reply.status, retryAfter: reply.headers.get('retry-after'), error: reply.body?.error });
    return reply;
  }

  /**
   * The app's connections to its database, terminated from outside; how many
   * there were. `busyOnly`: only those in the middle of a statement or a
   * transaction, so requests in flight meet the failure.
   */
  async function terminateAppBackends(busyOnly = false): Promise<number> {
    // Two statements: in one, Postgres may call pg_terminate_backend before it filters the rows.
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2${busyOnly ? " AND state <> 'idle'" : ''}`,
      [database.name, APPLICATION_NAME],
    );
    if (rows.length === 0) return 0;
    const { rows: ended } = await admin.query('SELECT pid FROM unnest($1::int[]) AS app(pid) WHERE pg_terminate_backend(pid)', [
      rows.map((row) => row.pid),
    ]);
    return ended.length;
  }

  async function step(device: Device): Promise<void> {
    const bearer = { authorization: `Bearer ${device.accessToken}` };
    switch (device.state) {
      case 'polling': {
        const reply = note('/oauth/token (device_code)', await http.poll(CLIENTS.refreshing, device.flow.device_code));
        if (reply.status !== 200) return;
        device.deliveries += 1;
        device.accessToken = reply.body.access_token;
        device.refreshToken = reply.body.refresh_token;
        device.state = device.role === 'refresh' ? 'refreshing' : device.role === 'revoke' ? 'revoking' : 'done';
        return;
      }
      case 'refreshing': {
        const params = { grant_type: 'refresh_token', client_id: CLIENTS.refreshing, refresh_token: device.refreshToken };
        const reply = note('/oauth/token (refresh_token)', await http.form('/oauth/token', params));
        if (reply.status === 503) device.unsure = true;
        if (reply.status === 400) {
          // Only a refresh that committed behind a lost answer makes a retry a reuse (RFC 9700 §4.14.2).
          expect({ unsure: device.unsure, error: reply.body.error }).toEqual({ unsure: true, error: 'invalid_grant' });
          device.endedAfterLostAnswer = true;
          device.state = 'done';
        }
        if (reply.status !== 200) return;
        device.unsure = false;
        device.accessToken = reply.body.access_token;
        device.refreshToken = reply.body.refresh_token;
        device.refreshes += 1;
        if (device.refreshes === REFRESHES) device.state = 'done';
        return;
      }
      case 'revoking': {
        const path = '/v1/oauth/authorizations/self';
        const reply = note(path, await http.request(path, { method: 'DELETE', headers: bearer }));
        if (reply.status === 503) device.unsure = true;
        if (reply.status === 401) {
          expect(device.unsure).toBe(true);
          device.endedAfterLostAnswer = true;
        }
        if (reply.status === 204 || reply.status === 401) device.state = 'done';
        return;
      }
      case 'done':
        if (device.role === 'keep') note('/v1/me', await http.me(device.accessToken as string));
    }
  }

  async function round(): Promise<void> {
    const labels = [uniqueLabel('failover-issued'), uniqueLabel('failover-issued')];
    await Promise.all([
      ...devices.map(step),
      ...labels.map(async (label) => {
        const reply = note('/oauth/device/code', await http.deviceCode(CLIENTS.refreshing, { device_label: label }));
        if (reply.status === 200) issuedLabels.push(label);
      }),
      testApp.app.get(AuditSealerService).sealPending().catch(() => undefined),
    ]);
    testApp.clock.advance(ROUND_MS);
  }

  it('answers 200/204/400/401 or 503 with Retry-After, delivers each approval once, and loses or half-writes nothing', async () => {
    devices = [];
    for (let index = 0; index < FLOWS; index++) {
      const label = uniqueLabel('failover');
      const flow = await startFlow(http, CLIENTS.refreshing, { device_label: label });
      await http.approveAs(flow.user_code, USERS.alice);
      const role = (['refresh', 'revoke', 'keep'] as const)[index % 3];
      devices.push({ label, flow, role, state: 'polling', deliveries: 0, refreshes: 0, unsure: false, endedAfterLostAnswer: false });
    }
    testApp.clock.advance(ROUND_MS);

    let chaos = true;
    const killer = (async () => {
      // Mostly the busy backends, every few milliseconds (idle ones alone would only be reconnected, unnoticed); every tenth sweep all of them.
      for (let sweep = 0; chaos; sweep++) {
        terminated += await terminateAppBackends(sweep % 10 !== 0);
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10));
      }
    })();
    try {
      for (let index = 0; index < CHAOS_ROUNDS && devices.some((device) => device.state !== 'done'); index++) await round();
    } finally {
      chaos = false;
      await killer;
    }
    expect(terminated).toBeGreaterThan(0);
    const duringChaos = answers.length;
    expect(answers.some((answer) => answer.status === 503)).toBe(true);

    // At least one round after the terminations, then until every device is done.
    for (let index = 0; index === 0 || (index < RECOVERY_ROUNDS && devices.some((device) => device.state !== 'done')); index++) {
      await round();
    }

    // Every answer: a success, an RFC error, or a 503 that says when to come back.
    const others = answers.filter((answer) => !ALLOWED.has(answer.status));
    expect([...new Set(others.map((answer) => `${answer.path} ${answer.status}`))]).toEqual([]);
    const unavailable = answers.filter((answer) => answer.status === 503);
    expect(unavailable.filter((answer) => !/^\d+$/.test(answer.retryAfter ?? ''))).toEqual([]);
    expect(new Set(unavailable.map((answer) => answer.error))).toEqual(new Set(['temporarily_unavailable']));
    expect(testApp.logs.filter((line) => line.includes('"unexpected error"'))).toEqual([]);
    // The app recovered: once the terminations stopped, nothing was refused as unavailable.
    expect(answers.slice(duringChaos).filter((answer) => answer.status === 503)).toEqual([]);

    // Each approval delivered exactly once, to its device, and stored as one authorization.
    expect(devices.filter((device) => device.state !== 'done' || device.deliveries !== 1).map((device) => device.label)).toEqual([]);
    const rows = await database.query<{ grant_id: string; tokens: number }>(
      'SELECT grant_id, count(*)::int AS tokens FROM access_tokens GROUP BY grant_id',
    );
    expect(new Map(rows.map((row) => [row.grant_id, row.tokens]))).toEqual(
      new Map(devices.map((device) => [sha256(device.flow.device_code), 1])),
    );

    // Every token row has its token.minted event, and every token.minted event its row.
    const unminted = await database.query(
      `SELECT t.id FROM access_tokens t
        WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.type = 'token.minted' AND e.token_id = t.id)`,
    );
    const orphaned = await database.query(
      `SELECT e.id FROM audit_events e
        WHERE e.type = 'token.minted' AND NOT EXISTS (SELECT 1 FROM access_tokens t WHERE t.id = e.token_id)`,
    );
    expect({ unminted, orphaned }).toEqual({ unminted: [], orphaned: [] });
    // Every used refresh token has its token.refreshed event; every revoked row exactly one token.revoked event.
    const refreshes = await database.query<{ id: string; used: number; refreshed: number }>(
      `SELECT t.id,
              (SELECT count(*)::int FROM refresh_tokens r WHERE r.authorization_id = t.id AND r.used_at IS NOT NULL) AS used,
              (SELECT count(*)::int FROM audit_events e WHERE e.type = 'token.refreshed' AND e.token_id = t.id) AS refreshed
         FROM access_tokens t`,
    );
    expect(refreshes.filter((row) => row.used !== row.refreshed)).toEqual([]);
    const revocations = await database.query<{ id: string; revoked: boolean; events: number }>(
      `SELECT t.id, t.revoked_at IS NOT NULL AS revoked,
              (SELECT count(*)::int FROM audit_events e WHERE e.type = 'token.revoked' AND e.token_id = t.id) AS events
         FROM access_tokens t`,
    );
    expect(revocations.filter((row) => row.events !== (row.revoked ? 1 : 0))).toEqual([]);
    expect(revocations.filter((row) => row.revoked)).toHaveLength(
      devices.filter((device) => device.role === 'revoke' || device.endedAfterLostAnswer).length,
    );

    // What each device holds now works, or was revoked as the device asked.
    for (const device of devices) {
      const expected = device.role === 'revoke' || device.endedAfterLostAnswer ? 401 : 200;
      const reply = await http.me(device.accessToken as string);
      expect({ label: device.label, status: reply.status }).toEqual({ label: device.label, status: expected });
    }

    // Every device code handed out has its device_code.issued event, once, after the outbox drains.
    await testApp.app.get(AuditOutboxDrainer).drain();
    const issued = await database.query<{ device_label: string }>(
      "SELECT device_label FROM audit_events WHERE type = 'device_code.issued' AND device_label = ANY($1)",
      [issuedLabels],
    );
    expect(issued.map((row) => row.device_label).sort()).toEqual([...issuedLabels].sort());

    // The chain over everything written verifies.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await testApp.app.get(AuditSealerService).sealPending();
    const [{ unsealed }] = await database.query<{ unsealed: number }>(
      'SELECT count(*)::int AS unsealed FROM audit_events WHERE id > (SELECT max(last_event_id) FROM audit_seals)',
    );
    expect(unsealed).toBe(0);
    expect(await testApp.app.get(AuditVerifierService).verify()).toMatchObject({ ok: true });

    // The pool reconnected: readiness and a whole new login succeed.
    expect((await http.request('/readyz')).status).toBe(200);
    const fresh = await obtainToken(http, { clientId: CLIENTS.refreshing, deviceLabel: uniqueLabel('failover-after') });
    expect((await http.me(fresh.access_token)).status).toBe(200);
  }, 180_000);
});
