import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { AuditOutboxDrainer } from '../src/audit/audit-outbox-drainer.service';
import { ClientRegistry } from '../src/clients/client-registry.service';
import { sha256Hex } from '../src/common/crypto';
import { DEVICE_CODE_GRANT } from '../src/config/app-config';
import { createMigratedDatabase, type TestDatabase } from './support/database';
import { startFlow, uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { CLIENTS, startTestApp, type TestApp, USERS } from './support/test-app';

/**
 * Acceptance 3 of the audit trail: when an event cannot be written, the change
 * it belongs to does not happen. A trigger makes the insert of one event type
 * fail, in a database of this spec's own.
 */
const HOLD_LOCK = 7_401_123;

describe('a change whose audit event cannot be written does not happen', () => {
  let database: TestDatabase;
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    database = await createMigratedDatabase();
    await database.query(`
      CREATE FUNCTION refuse_audit_event() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.type = (SELECT type FROM refused_type) THEN
          RAISE EXCEPTION 'injected audit failure for %', NEW.type;
        END IF;
        RETURN NEW;
      END $$`);
    await database.query('CREATE TABLE refused_type (type text)');
    await database.query(
      'CREATE TRIGGER refuse_audit_event BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit_event()',
    );
    // An event of the held type waits, inside its INSERT, for the advisory lock a spec holds: the window
    // between a change and the commit of its event, opened on purpose.
    await database.query(`
      CREATE FUNCTION hold_audit_event() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.type = (SELECT type FROM held_type) THEN
          PERFORM pg_advisory_xact_lock(${HOLD_LOCK});
        END IF;
        RETURN NEW;
      END $$`);
    await database.query('CREATE TABLE held_type (type text)');
    // Triggers fire in name order: the hold first, then the refusal.
    await database.query(
      'CREATE TRIGGER hold_audit_event BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION hold_audit_event()',
    );
    testApp = await startTestApp({ env: { DATABASE_URL: database.url } });
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(async () => {
    await testApp.close();
    await database.drop();
  });

  async function refuse(type: string | null): Promise<void> {
    await database.query('DELETE FROM refused_type');
    if (type) await database.query('INSERT INTO refused_type VALUES ($1)', [type]);
  }

  afterEach(() => refuse(null));

  /** Until an INSERT of the held type waits for the hold. */
  async function waitForHeldInsert(): Promise<void> {
    for (let tries = 0; tries < 200; tries++) {
      const waiting = await database.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
      if (waiting.length > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('the audit insert never reached the hold');
  }

  function expectPending(reply: { status: number; body: Record<string, unknown> }): void {
    expect({ status: reply.status, error: reply.body.error }).toEqual({ status: 400, error: 'authorization_pending' });
  }

  it('device_code.issued travels with its flow in Redis: a refused write keeps it in the outbox, and it lands once when the trail is back', async () => {
    const drainer = testApp.app.get(AuditOutboxDrainer);
    await drainer.drain();
    await refuse('device_code.issued');
    const label = uniqueLabel('outbox-held');
    const reply = await http.deviceCode(CLIENTS.cli, { device_label: label });
    expect(reply.status).toBe(200);
    await expect(drainer.drain()).rejects.toThrow();
    expect(await database.query('SELECT 1 FROM audit_events WHERE device_label = $1', [label])).toEqual([]);
    expect((await drainer.lag()).length).toBe(1);

    await refuse(null);
    await drainer.drain();
    await drainer.drain();
    const landed = await database.query("SELECT type FROM audit_events WHERE device_label = $1 AND type = 'device_code.issued'", [label]);
    expect(landed).toEqual([{ type: 'device_code.issued' }]);
    expect(await drainer.lag()).toEqual({ length: 0, oldestAgeMs: 0 });
  });

  it('sso.assertion_accepted: no approval-grant cookie and no subject provisioned', async () => {
    const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel('no-sign-in') });
    await refuse('sso.assertion_accepted');
    const reply = await http.form('/oauth/device/sso/local/login', {
      user_code: started.user_code,
      username: USERS.bob.username,
      password: USERS.bob.password,
    });
    expect(reply.status).toBe(503);
    expect(reply.headers.get('set-cookie')).toBeNull();
    expect(await database.query("SELECT * FROM subjects WHERE external_id = 'bob'")).toEqual([]);
  });

  it('device.approved: the code stays pending, and approving works once the trail is back', async () => {
    const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel('no-approval') });
    const cookie = await http.signIn(started.user_code, USERS.alice);
    const context = await http.approvalContext(cookie);
    await refuse('device.approved');
    const refused = await http.decide('approve', cookie, context.body.csrf_token, started.user_code);
    expect(refused.status).toBe(503);

    expect((await http.request(`/oauth/device/lookup?user_code=${started.user_code}`)).body.valid).toBe(true);
    expect((await http.poll(CLIENTS.cli, started.device_code)).body.error).toBe('authorization_pending');

    await refuse(null);
    await http.approveAs(started.user_code, USERS.alice);
    testApp.clock.advance(6000);
    expect((await http.poll(CLIENTS.cli, started.device_code)).status).toBe(200);
  });

  it('device.approved: while the event is not committed a poll hears pending, and no token is minted when it fails', async () => {
    const label = uniqueLabel('held-approval');
    const started = await startFlow(http, CLIENTS.cli, { device_label: label });
    const cookie = await http.signIn(started.user_code, USERS.alice);
    const context = await http.approvalContext(cookie);
    const holder = new Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [HOLD_LOCK]);
      await database.query('INSERT INTO held_type VALUES ($1)', ['device.approved']);
      await refuse('device.approved');
      const approving = http.decide('approve', cookie, context.body.csrf_token, started.user_code);
      await waitForHeldInsert();

      // The approval is decided in Redis; its event waits in Postgres. A device polling now gets nothing.
      expectPending(await http.poll(CLIENTS.cli, started.device_code));

      await holder.query('SELECT pg_advisory_unlock($1)', [HOLD_LOCK]);
      expect((await approving).status).toBe(503);
    } finally {
      await database.query('DELETE FROM held_type');
      await holder.end();
    }
    testApp.clock.advance(6000);
    expectPending(await http.poll(CLIENTS.cli, started.device_code));
    expect(await database.query('SELECT id FROM access_tokens WHERE device_label = $1', [label])).toEqual([]);
    expect(await database.query("SELECT id FROM audit_events WHERE type IN ('device.approved', 'token.minted') AND device_label = $1", [label])).toEqual([]);

    // The code is still pending: the person approves again once the trail is back, and the device gets its token.
    await refuse(null);
    await http.approveAs(started.user_code, USERS.alice);
    testApp.clock.advance(6000);
    expect((await http.poll(CLIENTS.cli, started.device_code)).status).toBe(200);
  });

  it('device.denied: the code stays pending', async () => {
    const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel('no-denial') });
    const cookie = await http.signIn(started.user_code, USERS.alice);
    const context = await http.approvalContext(cookie);
    await refuse('device.denied');
    expect((await http.decide('deny', cookie, context.body.csrf_token, started.user_code)).status).toBe(503);
    expect((await http.poll(CLIENTS.cli, started.device_code)).body.error).toBe('authorization_pending');
  });

  it('token.minted: no token row, and the next poll delivers once the trail is back', async () => {
    const label = uniqueLabel('no-mint');
    const started = await startFlow(http, CLIENTS.cli, { device_label: label });
    await http.approveAs(started.user_code, USERS.alice);
    await refuse('token.minted');
    testApp.clock.advance(6000);
    const refused = await http.poll(CLIENTS.cli, started.device_code);
    expect(refused.status).toBe(503);
    expect(await database.query('SELECT * FROM access_tokens WHERE device_label = $1', [label])).toEqual([]);

    await refuse(null);
    testApp.clock.advance(6000);
    const delivered = await http.poll(CLIENTS.cli, started.device_code);
    expect(delivered.status).toBe(200);
    expect((await http.me(delivered.body.access_token)).status).toBe(200);
    expect(await database.query('SELECT id FROM access_tokens WHERE device_label = $1', [label])).toHaveLength(1);
  });

  it('client.created: the client is not registered', async () => {
    const clientId = `refused-${randomUUID().slice(0, 8)}`;
    await refuse('client.created');
    await expect(
      testApp.app.get(ClientRegistry).save(null, {
        clientId,
        name: 'Never registered',
        type: 'confidential',
        secretHash: sha256Hex('a-client-secret-that-never-lands-0123'),
        grantTypes: [DEVICE_CODE_GRANT],
        allowedScopes: [],
        defaultScopes: [],
        enabled: true,
      }),
    ).rejects.toMatchObject({ code: 'temporarily_unavailable' });
    expect(await database.query('SELECT * FROM oauth_clients WHERE client_id = $1', [clientId])).toEqual([]);
  });
});
