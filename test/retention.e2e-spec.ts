import { SchedulerRegistry } from '@nestjs/schedule';
import { Client } from 'pg';
import { AuditSealerService } from '../src/audit/audit-sealer.service';
import { AuditVerifierService } from '../src/audit/audit-verifier.service';
import { sha256Hex } from '../src/common/crypto';
import {
  MAX_BATCHES_PER_RUN,
  RETENTION_JOB,
  RetentionPrunerService,
  type RetentionRunResult,
} from '../src/retention/retention-pruner.service';
import { RETENTION_LOCK_KEY } from '../src/retention/retention.repository';
import { createMigratedDatabase, type TestDatabase } from './support/database';
import { obtainToken } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { CLIENTS, startTestApp, type TestApp, TestClock, USERS } from './support/test-app';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NONE = { tokensHardExpired: 0, tokensDeleted: 0, auditEventsDeleted: 0, auditSealsDeleted: 0 };
const ZERO = { skipped: false, partial: false, ...NONE };

type Row = Record<string, any>;

/**
 * Acceptance 4 of the audit trail: the RetentionPruner. Two app instances
 * (two connection pools, as two hosts would have) share a database of this
 * spec's own, so the pruner only ever sees this spec's rows, and one clock.
 * The specs run in order: each one continues the timeline of the one
 * before.
 */
describe('RetentionPruner', () => {
  const clock = new TestClock();
  let database: TestDatabase;
  let first: TestApp;
  let second: TestApp;
  let http: DeviceGateHttp;
  let pruners: RetentionPrunerService[];
  let bulkSubjectId: string;
  /** A token of a 30-day client that must keep working through every run of this file. */
  let liveToken: string;
  const liveBulk: string[] = [];

  beforeAll(async () => {
    database = await createMigratedDatabase();
    const env = {
      DATABASE_URL: database.url,
      TOKEN_RETENTION: '1h',
      AUDIT_RETENTION: '7d',
      RETENTION_BATCH_SIZE: '2',
      AUDIT_SEAL_LAG: '0',
    };
    [first, second] = await Promise.all([startTestApp({ env, clock }), startTestApp({ env, clock })]);
    http = new DeviceGateHttp(first.baseUrl);
    pruners = [first, second].map((testApp) => testApp.app.get(RetentionPrunerService));
    [{ id: bulkSubjectId }] = await database.query(
      `INSERT INTO subjects (issuer, external_id, email, name) VALUES ('https://bulk.example', 'bulk', 'bulk@example.com', 'Bulk')
       RETURNING id`,
    );
  });

  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
    await database?.drop();
  });

  /** Token rows straight into the table, for volume: they expire at `expiresAt`. */
  async function insertTokens(count: number, expiresAt: Date): Promise<string[]> {
    const rows = await database.query(
      `INSERT INTO access_tokens (token_hash, kind, subject_id, subject_issuer, subject_external_id, subject_email,
                                  client_id, device_label, scopes, granted_scopes, grant_id, delivery_attempt, expires_at, created_ip)
       SELECT md5(random()::text) || md5(random()::text), 'dgat', s.id, s.issuer, s.external_id, s.email, $2,
              'bulk-' || gen_random_uuid(), '{profile}', '{profile}', md5(random()::text), 1, $3, '127.0.0.1'
         FROM subjects s, generate_series(1, $1) WHERE s.id = $4
       RETURNING id`,
      [count, CLIENTS.cli, expiresAt, bulkSubjectId],
    );
    return rows.map((row) => row.id);
  }

  const TOKEN_COLUMNS = 'id, token_hash, expires_at, revoked_at, revoked_reason';
  const tokens = (ids: string[]) =>
    database.query(`SELECT ${TOKEN_COLUMNS} FROM access_tokens WHERE id = ANY($1) ORDER BY id`, [ids]);
  const allTokens = () => database.query(`SELECT ${TOKEN_COLUMNS} FROM access_tokens ORDER BY id`);
  const eventsOtherThanRuns = () =>
    database.query("SELECT id, type, token_id FROM audit_events WHERE type <> 'retention.run' ORDER BY id");
  const runEvents = (afterId: number) =>
    database.query(
      "SELECT id, outcome, actor_type, details FROM audit_events WHERE type = 'retention.run' AND id > $1 ORDER BY id",
      [afterId],
    );
  const hardExpiredEvents = (tokenId?: string) =>
    database.query(
      "SELECT * FROM audit_events WHERE type = 'token.hard_expired' AND ($1::uuid IS NULL OR token_id = $1) ORDER BY id",
      [tokenId ?? null],
    );
  const lastEventId = async () => Number((await database.query('SELECT coalesce(max(id), 0) AS id FROM audit_events'))[0].id);

  async function tokenIdOf(accessToken: string): Promise<string> {
    const [{ id }] = await database.query('SELECT id FROM access_tokens WHERE token_hash = $1', [sha256Hex(accessToken)]);
    return id;
  }

  async function metricOnBoth(name: string, labels: Record<string, string> = {}): Promise<number> {
    const values = await Promise.all([first, second].map((testApp) => new DeviceGateHttp(testApp.baseUrl).metric(name, labels)));
    return values[0] + values[1];
  }

  function total(results: RetentionRunResult[]): Omit<RetentionRunResult, 'skipped'> {
    return {
      partial: results.some((result) => result.partial),
      tokensHardExpired: results.reduce((sum, result) => sum + result.tokensHardExpired, 0),
      tokensDeleted: results.reduce((sum, result) => sum + result.tokensDeleted, 0),
      auditEventsDeleted: results.reduce((sum, result) => sum + result.auditEventsDeleted, 0),
      auditSealsDeleted: results.reduce((sum, result) => sum + result.auditSealsDeleted, 0),
    };
  }

  it('hard-expires every token past its lifetime exactly once when two instances prune at the same time', async () => {
    const shortLived: { token: string; id: string }[] = [];
    for (let index = 0; index < 3; index++) {
      const { access_token: token } = await obtainToken(http, { clientId: CLIENTS.shortLived });
      shortLived.push({ token, id: await tokenIdOf(token) });
    }
    liveToken = (await obtainToken(http, { clientId: CLIENTS.cli, user: USERS.bob })).access_token;
    const liveId = await tokenIdOf(liveToken);
    const bulk = await insertTokens(20, new Date(clock.now() - 10 * MINUTE));
    liveBulk.push(...(await insertTokens(3, new Date(clock.now() + 60 * DAY))));
    const liveBefore = await tokens([liveId, ...liveBulk]);
    const before = await lastEventId();

    clock.advance(121_000);
    const results = await Promise.all(pruners.map((pruner) => pruner.run()));

    expect(total(results)).toEqual({ partial: false, ...NONE, tokensHardExpired: 23 });
    const expiredIds = [...shortLived.map((token) => token.id), ...bulk];
    const perToken = (await hardExpiredEvents()).map((event) => event.token_id).sort();
    expect(perToken).toEqual([...expiredIds].sort());
    for (const row of await tokens(expiredIds)) {
      expect(row).toEqual({ ...row, token_hash: null, revoked_at: row.expires_at, revoked_reason: 'expired' });
    }
    expect(await tokens([liveId, ...liveBulk])).toEqual(liveBefore);

    const [event] = await hardExpiredEvents(shortLived[0].id);
    const [row] = await database.query('SELECT * FROM access_tokens WHERE id = $1', [shortLived[0].id]);
    expect(event).toMatchObject({
      outcome: 'success',
      actor_type: 'user',
      actor_issuer: 'urn:devicegate:local',
      actor_email: USERS.alice.email,
      actor_external_id: USERS.alice.username,
      actor_subject_id: row.subject_id,
      client_id: CLIENTS.shortLived,
      device_label: row.device_label,
      token_id: shortLived[0].id,
      details: { expired_at: row.expires_at.toISOString() },
    });

    for (const { token } of shortLived) expect((await http.me(token)).status).toBe(401);
    expect((await http.me(liveToken)).status).toBe(200);

    const ran = results.filter((result) => !result.skipped).length;
    expect(ran).toBeGreaterThanOrEqual(1);
    const runs = await runEvents(before);
    expect(runs).toHaveLength(ran);
    expect(runs.reduce((sum: number, run: Row) => sum + run.details.tokens_hard_expired, 0)).toBe(23);
    expect(await metricOnBoth('devicegate_retention_rows_total', { kind: 'token_hard_expired' })).toBe(23);
    expect(await metricOnBoth('devicegate_retention_runs_total', { outcome: 'success' })).toBe(ran);
    expect(await metricOnBoth('devicegate_retention_runs_total', { outcome: 'skipped' })).toBe(2 - ran);
  });

  it('changes nothing on a rerun, on either instance', async () => {
    const tokensBefore = await allTokens();
    const eventsBefore = await eventsOtherThanRuns();
    const before = await lastEventId();

    expect(await pruners[0].run()).toEqual(ZERO);
    expect(await pruners[1].run()).toEqual(ZERO);

    expect(await allTokens()).toEqual(tokensBefore);
    expect(await eventsOtherThanRuns()).toEqual(eventsBefore);
    expect((await runEvents(before)).map((run: Row) => run.details)).toEqual(
      [0, 1].map(() => ({
        tokens_hard_expired: 0,
        tokens_deleted: 0,
        audit_events_deleted: 0,
        audit_seals_deleted: 0,
        token_cutoff: expect.any(String),
        audit_cutoff: expect.any(String),
        partial: false,
      })),
    );
    expect((await http.me(liveToken)).status).toBe(200);
  });

  it('skips a run, changing nothing, while another runner holds the advisory lock', async () => {
    const due = await insertTokens(2, new Date(clock.now() - 10 * MINUTE));
    const tokensBefore = await allTokens();
    const before = await lastEventId();
    const skippedBefore = await metricOnBoth('devicegate_retention_runs_total', { outcome: 'skipped' });
    const holder = new Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [RETENTION_LOCK_KEY]);
      expect(await pruners[0].run()).toEqual({ ...ZERO, skipped: true });
      expect(await pruners[1].run()).toEqual({ ...ZERO, skipped: true });
      expect(await allTokens()).toEqual(tokensBefore);
      expect(await lastEventId()).toBe(before);
      expect(await metricOnBoth('devicegate_retention_runs_total', { outcome: 'skipped' })).toBe(skippedBefore + 2);
    } finally {
      await holder.end();
    }

    expect(await pruners[0].run()).toEqual({ ...ZERO, tokensHardExpired: 2 });
    expect((await tokens(due)).map((row) => row.revoked_reason)).toEqual(['expired', 'expired']);
  });

  it('skips a second run() on the same instance while the first is in progress', async () => {
    const [one, two] = await Promise.all([pruners[0].run(), pruners[0].run()]);
    expect([one.skipped, two.skipped]).toEqual([false, true]);
  });

  it('leaves a token untouched when its token.hard_expired event cannot be written (same transaction)', async () => {
    await database.query(`
      CREATE FUNCTION refuse_hard_expired() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.type = 'token.hard_expired' THEN RAISE EXCEPTION 'injected audit failure'; END IF;
        RETURN NEW;
      END $$`);
    await database.query(
      'CREATE TRIGGER refuse_hard_expired BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_hard_expired()',
    );
    const due = await insertTokens(2, new Date(clock.now() - 10 * MINUTE));
    const before = await lastEventId();
    try {
      const dueBefore = await tokens(due);
      await expect(pruners[0].run()).rejects.toThrow();
      expect(await tokens(due)).toEqual(dueBefore);
      expect(dueBefore.every((row) => row.token_hash !== null && row.revoked_at === null)).toBe(true);
      expect(await runEvents(before)).toEqual([
        expect.objectContaining({ outcome: 'failure', details: expect.objectContaining({ tokens_hard_expired: 0 }) }),
      ]);
      expect(await new DeviceGateHttp(first.baseUrl).metric('devicegate_retention_runs_total', { outcome: 'failure' })).toBe(1);
    } finally {
      await database.query('DROP TRIGGER refuse_hard_expired ON audit_events');
      await database.query('DROP FUNCTION refuse_hard_expired()');
    }
    expect(await pruners[0].run()).toEqual({ ...ZERO, tokensHardExpired: 2 });
  });

  it('deletes revoked and hard-expired token rows once TOKEN_RETENTION (1h) has passed since they stopped working', async () => {
    // Stopped working so far: 24 rows 10 minutes before T0 (about now), 3 short-lived ones 120 s after T0 - 121 s.
    const revokedBefore = await database.query('SELECT id, revoked_at FROM access_tokens WHERE revoked_at IS NOT NULL');
    expect(revokedBefore).toHaveLength(27);
    const eventsBefore = await hardExpiredEvents();

    clock.advance(55 * MINUTE);
    const selfRevoked = liveBulk[0];
    await database.query("UPDATE access_tokens SET revoked_at = $2, revoked_reason = 'self' WHERE id = $1", [
      selfRevoked,
      new Date(clock.now()),
    ]);
    expect(await pruners[1].run()).toEqual({ ...ZERO, tokensDeleted: 24 });

    clock.advance(10 * MINUTE);
    expect(await pruners[0].run()).toEqual({ ...ZERO, tokensDeleted: 3 });
    expect(await tokens([selfRevoked])).toHaveLength(1);

    clock.advance(HOUR);
    expect(await pruners[0].run()).toEqual({ ...ZERO, tokensDeleted: 1 });
    expect(await pruners[1].run()).toEqual(ZERO);

    const left = await allTokens();
    expect(left.map((row) => ({ revoked_at: row.revoked_at, token_hash: typeof row.token_hash }))).toEqual(
      [0, 1, 2].map(() => ({ revoked_at: null, token_hash: 'string' })),
    );
    expect(await hardExpiredEvents()).toEqual(eventsBefore);
    expect((await http.me(liveToken)).status).toBe(200);
    expect(await metricOnBoth('devicegate_retention_rows_total', { kind: 'token_deleted' })).toBe(28);
  });

  describe('audit events past AUDIT_RETENTION (7d)', () => {
    let sealer: AuditSealerService;
    let verifier: AuditVerifierService;

    beforeAll(() => {
      sealer = first.app.get(AuditSealerService);
      verifier = first.app.get(AuditVerifierService);
    });

    const ids = async () => (await database.query('SELECT id FROM audit_events ORDER BY id')).map((row) => Number(row.id));
    const seals = async () =>
      (await database.query('SELECT seq, first_event_id, last_event_id, event_ids FROM audit_seals ORDER BY seq')).map((row) => ({
        seq: Number(row.seq),
        first: Number(row.first_event_id),
        last: Number(row.last_event_id),
        events: row.event_ids.length as number,
      }));
    const eventsSince = (cutoff: Date) =>
      database.query('SELECT * FROM audit_events WHERE occurred_at >= $1 ORDER BY id', [cutoff]);

    /** The events of one more flow, then a seal over everything not sealed yet. */
    async function flowAndSeal(): Promise<void> {
      await obtainToken(http, { clientId: CLIENTS.cli });
      expect((await sealer.sealPending()).seals).toBe(1);
    }

    it('removes whole sealed batches past retention, never the newest seal nor an unsealed event', async () => {
      expect((await sealer.sealPending()).seals).toBe(1);
      await flowAndSeal();
      await flowAndSeal();
      const [one, two, three, ...more] = await seals();
      expect([one.seq, two.seq, three.seq, more]).toEqual([1, 2, 3, []]);
      await obtainToken(http, { clientId: CLIENTS.cli });
      const unsealed = (await ids()).filter((id) => id > three.last);
      expect(unsealed.length).toBeGreaterThan(0);

      clock.advance(8 * DAY);
      await obtainToken(http, { clientId: CLIENTS.cli });
      const cutoff = new Date(clock.now() - 7 * DAY);
      const recent = await eventsSince(cutoff);
      expect(recent.length).toBeGreaterThan(0);

      // Seals 1 and 2 go whole; seal 3 is past retention too but is the newest: the chain continues from it.
      expect(await pruners[0].run()).toEqual({ ...ZERO, auditEventsDeleted: one.events + two.events, auditSealsDeleted: 2 });
      expect(Math.min(...(await ids()))).toBe(three.first);
      expect(await seals()).toEqual([three]);
      expect((await ids()).filter((id) => id > three.last).slice(0, unsealed.length)).toEqual(unsealed);
      expect((await eventsSince(cutoff)).slice(0, recent.length)).toEqual(recent);
      expect(await verifier.verify()).toMatchObject({ ok: true, seals: 1, events: three.events });

      // Seal 4 holds old and recent events: it must stay whole; seal 3 can go now.
      expect((await sealer.sealPending()).seals).toBe(1);
      const [, four] = await seals();
      expect(four.seq).toBe(4);
      expect(await pruners[1].run()).toEqual({ ...ZERO, auditEventsDeleted: three.events, auditSealsDeleted: 1 });
      expect(await seals()).toEqual([four]);
      expect(Math.min(...(await ids()))).toBe(four.first);
      expect(await verifier.verify()).toMatchObject({ ok: true, seals: 1, events: four.events });

      clock.advance(8 * DAY);
      expect(await pruners[0].run()).toEqual(ZERO);
      expect(await seals()).toEqual([four]);
      expect((await sealer.sealPending()).seals).toBe(1);
      expect(await pruners[0].run()).toEqual({ ...ZERO, auditEventsDeleted: four.events, auditSealsDeleted: 1 });
      expect((await seals()).map((seal) => seal.seq)).toEqual([5]);
      expect(Math.min(...(await ids()))).toBe(four.last + 1);
      expect(await verifier.verify()).toMatchObject({ ok: true, seals: 1 });

      expect((await http.me(liveToken)).status).toBe(200);
      expect(await metricOnBoth('devicegate_retention_rows_total', { kind: 'audit_seal_deleted' })).toBe(4);
      expect(await metricOnBoth('devicegate_retention_rows_total', { kind: 'audit_event_deleted' })).toBe(
        one.events + two.events + three.events + four.events,
      );
    });
  });

  it(`stops after ${MAX_BATCHES_PER_RUN} batches of each kind and leaves the rest to the next run`, async () => {
    const due = await insertTokens(2 * MAX_BATCHES_PER_RUN + 1, new Date(clock.now() - 10 * MINUTE));
    expect(await pruners[1].run()).toEqual({ ...ZERO, partial: true, tokensHardExpired: 2 * MAX_BATCHES_PER_RUN });
    expect(await pruners[1].run()).toEqual({ ...ZERO, tokensHardExpired: 1 });
    expect((await tokens(due)).every((row) => row.revoked_reason === 'expired')).toBe(true);
    expect(await new DeviceGateHttp(second.baseUrl).metric('devicegate_retention_runs_total', { outcome: 'partial' })).toBe(1);
  });

  it('exports the run duration and the time of the last successful run', async () => {
    await pruners[0].run();
    const metrics = new DeviceGateHttp(first.baseUrl);
    expect(await metrics.metric('devicegate_retention_run_duration_seconds_count', { outcome: 'success' })).toBeGreaterThan(0);
    expect(await metrics.metric('devicegate_retention_last_success_timestamp_seconds')).toBeCloseTo(clock.now() / 1000, -1);
  });

  it('schedules no job when RETENTION_SCHEDULE is off, and runs on the cron schedule when set', async () => {
    expect(first.app.get(SchedulerRegistry).doesExist('cron', RETENTION_JOB)).toBe(false);
    const before = await lastEventId();
    const scheduled = await startTestApp({
      env: { DATABASE_URL: database.url, TOKEN_RETENTION: '1h', AUDIT_RETENTION: '7d', RETENTION_SCHEDULE: '* * * * * *' },
      clock,
    });
    try {
      expect(scheduled.app.get(SchedulerRegistry).getCronJob(RETENTION_JOB).cronTime.source).toBe('* * * * * *');
      const deadline = Date.now() + 5000;
      while ((await runEvents(before)).length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect((await runEvents(before))[0]).toMatchObject({ outcome: 'success', actor_type: 'system' });
    } finally {
      await scheduled.close();
    }
  });
});
