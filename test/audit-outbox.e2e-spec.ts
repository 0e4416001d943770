import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { AuditOutboxDrainer } from '../src/audit/audit-outbox-drainer.service';
import { AUDIT_OUTBOX_KEY } from '../src/audit/audit-outbox.store';
import { AuditSealerService } from '../src/audit/audit-sealer.service';
import { AuditVerifierService } from '../src/audit/audit-verifier.service';
import { type AppProcess, startAppProcess } from './support/app-process';
import { createMigratedDatabase, type TestDatabase } from './support/database';
import { uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { CLIENTS, configFile, deleteKeys, freePort, REDIS_URL, startTestApp, type TestApp } from './support/test-app';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The issued event lives in the audit outbox (Redis) with its flow until a
 * drainer writes it to audit_events. An app killed before its drain loses
 * nothing: the next instance drains the event, once, and the chain seals and
 * verifies over it.
 */
describe('audit outbox: an app killed between the Redis write and the drain', () => {
  let database: TestDatabase;
  let redis: Redis;
  let prefix: string;
  const processes: AppProcess[] = [];

  beforeAll(async () => {
    database = await createMigratedDatabase();
    redis = new Redis(REDIS_URL);
    prefix = `devicegate-test:${randomUUID()}:`;
  });

  afterAll(async () => {
    await Promise.all(processes.map((child) => child.kill()));
    redis.disconnect();
    await deleteKeys(prefix);
    await database.drop();
  });

  async function start(env: Record<string, string>): Promise<{ child: AppProcess; http: DeviceGateHttp }> {
    const port = await freePort();
    const child = await startAppProcess({
      NODE_ENV: 'test',
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      SECRET_KEYS: 'k1:test-signing-key-0123456789-abcdefghijklmnop',
      DEVICEGATE_CONFIG: configFile(),
      LOG_LEVEL: 'warn',
      AUDIT_SEAL_INTERVAL: '0',
      RETENTION_SCHEDULE: 'off',
      ...env,
    }, 60_000);
    processes.push(child);
    return { child, http: new DeviceGateHttp(child.ready.baseUrl) };
  }

  async function issuedEvents(label: string): Promise<{ event_id: string }[]> {
    return database.query("SELECT event_id FROM audit_events WHERE type = 'device_code.issued' AND device_label = $1", [label]);
  }

  it('drains the event exactly once after a restart, and the chain verifies', async () => {
    const first = await start({ AUDIT_OUTBOX_DRAIN_INTERVAL: '0' });
    const label = uniqueLabel('killed-before-drain');
    const issued = await first.http.deviceCode(CLIENTS.cli, { device_label: label });
    expect(issued.status).toBe(200);
    expect(await redis.xlen(`${prefix}${AUDIT_OUTBOX_KEY}`)).toBe(1);
    const [[, [, payload]]] = (await redis.xrange(`${prefix}${AUDIT_OUTBOX_KEY}`, '-', '+')) as [string, string[]][];
    await first.child.kill();
    expect(await issuedEvents(label)).toEqual([]);

    const second = await start({});
    let landed: { event_id: string }[] = [];
    for (let tries = 0; tries < 300 && landed.length === 0; tries++) {
      await sleep(100);
      landed = await issuedEvents(label);
    }
    expect(landed).toEqual([{ event_id: (JSON.parse(payload) as { id: string }).id }]);

    // A drainer that died after its INSERT and before its acknowledgement leaves the entry to another: it lands no twice.
    await redis.xadd(`${prefix}${AUDIT_OUTBOX_KEY}`, '*', 'event', payload);
    for (let tries = 0; tries < 300 && (await redis.xlen(`${prefix}${AUDIT_OUTBOX_KEY}`)) > 0; tries++) await sleep(100);
    expect(await redis.xlen(`${prefix}${AUDIT_OUTBOX_KEY}`)).toBe(0);
    expect(await issuedEvents(label)).toHaveLength(1);
    expect((await second.http.request('/readyz')).status).toBe(200);
    await second.child.stop();

    const verifierApp: TestApp = await startTestApp({ env: { DATABASE_URL: database.url, AUDIT_SEAL_LAG: '0' } });
    try {
      await verifierApp.app.get(AuditSealerService).sealPending();
      const [{ sealed }] = await database.query<{ sealed: string }>(
        `SELECT count(*)::text AS sealed FROM audit_seals, unnest(event_ids) AS id
          WHERE id = (SELECT id FROM audit_events WHERE device_label = $1)`,
        [label],
      );
      expect(sealed).toBe('1');
      expect(await verifierApp.app.get(AuditVerifierService).verify()).toMatchObject({ ok: true });
    } finally {
      await verifierApp.close();
    }
  }, 180_000);

  it('/readyz says when the outbox is behind AUDIT_OUTBOX_MAX_LAG, and is ready again once drained', async () => {
    const testApp = await startTestApp({ env: { DATABASE_URL: database.url, AUDIT_OUTBOX_DRAIN_INTERVAL: '0', AUDIT_OUTBOX_MAX_LAG: '1s' } });
    try {
      const http = new DeviceGateHttp(testApp.baseUrl);
      expect((await http.request('/readyz')).status).toBe(200);
      expect((await http.deviceCode(CLIENTS.cli, { device_label: uniqueLabel('lagging') })).status).toBe(200);
      await sleep(1_200);
      // The gauges read the outbox at each scrape, whatever ran before.
      expect(await http.metric('devicegate_audit_outbox_length')).toBe(1);
      expect(await http.metric('devicegate_audit_outbox_oldest_age_seconds')).toBeGreaterThanOrEqual(1);
      const behind = await http.request('/readyz');
      expect(behind.status).toBe(503);
      expect(behind.body.error_description).toMatch(/audit outbox is behind \(1 events waiting/);

      expect(await testApp.app.get(AuditOutboxDrainer).drain()).toBe(1);
      expect((await http.request('/readyz')).status).toBe(200);
    } finally {
      await testApp.close();
    }
  });
});
