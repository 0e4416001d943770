import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { toView } from '../src/audit/audit-event';
import { AuditOutboxDrainer } from '../src/audit/audit-outbox-drainer.service';
import { AUDIT_OUTBOX_KEY } from '../src/audit/audit-outbox.store';
import { AuditRepository } from '../src/audit/audit.repository';
import { ClientRegistry } from '../src/clients/client-registry.service';
import { sha256Hex } from '../src/common/crypto';
import { DEVICE_CODE_GRANT } from '../src/config/app-config';
import { queryDatabase } from './support/database';
import { startFlow, uniqueLabel } from './support/flows';
import { DeviceGateHttp, parseSetCookie, type Reply } from './support/http';
import { CLIENTS, REDIS_URL, startTestApp, type TestApp, USERS } from './support/test-app';

/**
 * Acceptance 1 of the audit trail: every flow that exists, and exactly the
 * events it writes, with their fields, and no secret in any of them. Later
 * capabilities add their rows to FLOWS.
 */

/** Sends every request with an X-Request-Id of one trace, so a flow's events can be found by request id. */
class TracedHttp extends DeviceGateHttp {
  readonly trace = `audit-${randomUUID().slice(0, 12)}`;
  /** Everything secret this flow saw: none of it may appear in an event. */
  readonly secrets = new Set<string>([USERS.alice.password, USERS.bob.password]);
  private step = 0;

  constructor(
    baseUrl: string,
    private readonly extraHeaders: Record<string, string> = {},
  ) {
    super(baseUrl);
  }

  override async request<T = Record<string, any>>(path: string, init: RequestInit = {}): Promise<Reply<T>> {
    const headers = new Headers(init.headers);
    headers.set('x-request-id', `${this.trace}-${++this.step}`);
    for (const [name, value] of Object.entries(this.extraHeaders)) headers.set(name, value);
    const reply = await super.request<T>(path, { ...init, headers });
    const body = reply.body as Record<string, unknown> | undefined;
    for (const field of ['device_code', 'user_code', 'access_token', 'csrf_token']) {
      const value = body?.[field];
      if (typeof value === 'string') {
        this.secrets.add(value);
        if (field === 'user_code') this.secrets.add(value.replace('-', ''));
      }
    }
    for (const cookie of reply.headers.getSetCookie()) {
      const { value } = parseSetCookie(cookie);
      if (value) this.secrets.add(value);
    }
    return reply;
  }
}

type Row = Record<string, unknown>;

/**
 * The events of this trace's requests, once at least `count` are in
 * audit_events (or after 5 s): an issued code's event reaches Postgres
 * through the outbox drain, moments after the answer.
 */
async function eventsOf(http: TracedHttp, count = 0): Promise<Row[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const rows = await queryDatabase('SELECT * FROM audit_events WHERE request_id LIKE $1 ORDER BY id', [`${http.trace}-%`]);
    if (rows.length >= count || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const requestMeta = {
  ip: '127.0.0.1',
  user_agent: expect.any(String),
  request_id: expect.stringMatching(/^audit-/),
  event_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
  occurred_at: expect.any(Date),
};

function client(clientId: string, label: string | null) {
  return { ...requestMeta, actor_type: 'client', client_id: clientId, device_label: label, token_id: null };
}

function user(who: { email: string; username: string }, clientId: string, label: string | null) {
  return {
    ...requestMeta,
    actor_type: 'user',
    actor_issuer: 'urn:devicegate:local',
    actor_email: who.email,
    actor_external_id: who.username,
    actor_subject_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    client_id: clientId,
    device_label: label,
  };
}

interface FlowCase {
  name: string;
  run(http: TracedHttp, app: TestApp): Promise<{ label: string | null; expected: Row[] }>;
}

async function poll(http: TracedHttp, app: TestApp, deviceCode: string) {
  app.clock.advance(6000);
  return http.poll(CLIENTS.cli, deviceCode);
}

const FLOWS: FlowCase[] = [
  {
    name: 'device authorization',
    async run(http) {
      const label = uniqueLabel('issued');
      await startFlow(http, CLIENTS.cli, { device_label: label, scope: 'read' });
      return {
        label,
        expected: [
          {
            type: 'device_code.issued',
            outcome: 'success',
            ...client(CLIENTS.cli, label),
            details: { scopes: ['read'], expires_in: 600, interval: 5 },
          },
        ],
      };
    },
  },
  {
    name: 'lookups of an unknown and a malformed code',
    async run(http) {
      await http.request('/oauth/device/lookup?user_code=BCDF-GHJK');
      await http.request('/oauth/device/lookup?user_code=not-a-code');
      const failed = { type: 'user_code.lookup_failed', outcome: 'failure', ...requestMeta, actor_type: null, client_id: null };
      return {
        label: null,
        expected: [
          { ...failed, details: { stage: 'lookup', reason: 'unknown' } },
          { ...failed, details: { stage: 'lookup', reason: 'malformed' } },
        ],
      };
    },
  },
  {
    name: 'sign-in, approval and delivery',
    async run(http, app) {
      const label = uniqueLabel('approved');
      const started = await startFlow(http, CLIENTS.cli, { device_label: label });
      await http.approveAs(started.user_code, USERS.alice);
      const token = await poll(http, app, started.device_code);
      expect(token.status).toBe(200);
      const alice = user(USERS.alice, CLIENTS.cli, label);
      return {
        label,
        expected: [
          { type: 'device_code.issued', outcome: 'success', ...client(CLIENTS.cli, label) },
          { type: 'sso.assertion_accepted', outcome: 'success', ...alice, details: { connector: 'local' } },
          {
            type: 'device.approved',
            outcome: 'success',
            ...alice,
            details: { scopes: ['profile'], requesting_ip: '127.0.0.1', requested_at: expect.any(String) },
          },
          {
            type: 'token.minted',
            outcome: 'success',
            ...alice,
            token_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
            details: { scopes: ['profile'], expires_at: expect.any(String), attempt: 1 },
          },
        ],
      };
    },
  },
  {
    name: 'denial',
    async run(http) {
      const label = uniqueLabel('denied');
      const started = await startFlow(http, CLIENTS.cli, { device_label: label });
      await http.approveAs(started.user_code, USERS.bob, 'deny');
      const bob = user(USERS.bob, CLIENTS.cli, label);
      return {
        label,
        expected: [
          { type: 'device_code.issued', ...client(CLIENTS.cli, label) },
          { type: 'sso.assertion_accepted', ...bob },
          { type: 'device.denied', outcome: 'success', ...bob, details: { scopes: ['profile'], requesting_ip: '127.0.0.1' } },
        ],
      };
    },
  },
  {
    name: 'a second approval of the same device rotates its token',
    async run(http, app) {
      const label = uniqueLabel('rotated');
      for (let round = 0; round < 2; round++) {
        const started = await startFlow(http, CLIENTS.cli, { device_label: label });
        await http.approveAs(started.user_code, USERS.alice);
        expect((await poll(http, app, started.device_code)).status).toBe(200);
      }
      const alice = user(USERS.alice, CLIENTS.cli, label);
      const round = [
        { type: 'device_code.issued' },
        { type: 'sso.assertion_accepted' },
        { type: 'device.approved' },
        { type: 'token.minted', ...alice },
      ];
      return {
        label,
        expected: [...round, ...round, { type: 'token.rotated', outcome: 'success', ...alice, token_id: expect.any(String), details: { scopes: ['profile'] } }],
      };
    },
  },
  {
    name: 'a wrong password',
    async run(http) {
      const label = uniqueLabel('wrong-password');
      const started = await startFlow(http, CLIENTS.cli, { device_label: label });
      const reply = await http.form('/oauth/device/sso/local/login', {
        user_code: started.user_code,
        username: USERS.alice.username,
        password: 'not-her-password',
      });
      expect(reply.status).toBe(401);
      http.secrets.add('not-her-password');
      return {
        label,
        expected: [
          { type: 'device_code.issued' },
          {
            type: 'sso.assertion_rejected',
            outcome: 'failure',
            ...requestMeta,
            actor_type: null,
            client_id: CLIENTS.cli,
            device_label: label,
            details: { connector: 'local', reason: 'invalid_credentials', username: 'alice' },
          },
        ],
      };
    },
  },
  {
    name: 'approvals refused: no grant, forged grant, CSRF mismatch, another code, replay',
    async run(http) {
      const label = uniqueLabel('refused');
      const started = await startFlow(http, CLIENTS.cli, { device_label: label });
      const other = await startFlow(http, CLIENTS.cli, { device_label: `${label}-other` });
      const cookie = await http.signIn(started.user_code, USERS.alice);
      const context = await http.approvalContext(cookie);
      expect((await http.decide('approve', '', 'x', started.user_code)).status).toBe(401);
      expect((await http.decide('approve', `${cookie}x`, context.body.csrf_token, started.user_code)).status).toBe(401);
      expect((await http.decide('approve', cookie, 'wrong', started.user_code)).status).toBe(403);
      expect((await http.decide('deny', cookie, context.body.csrf_token, other.user_code)).status).toBe(400);
      expect((await http.decide('approve', cookie, context.body.csrf_token, started.user_code)).status).toBe(200);
      expect((await http.decide('approve', cookie, context.body.csrf_token, started.user_code)).status).toBe(401);
      const alice = user(USERS.alice, CLIENTS.cli, label);
      const refused = (reason: string, decision: string, actor: Row) => ({
        type: 'approval_grant.refused',
        outcome: 'failure',
        ...requestMeta,
        ...actor,
        client_id: null,
        device_label: null,
        details: { reason, decision },
      });
      const { client_id: _client, device_label: _label, ...aliceActor } = alice;
      return {
        label,
        expected: [
          { type: 'device_code.issued' },
          { type: 'device_code.issued', device_label: `${label}-other` },
          { type: 'sso.assertion_accepted' },
          refused('missing', 'approve', { actor_type: null }),
          refused('invalid', 'approve', { actor_type: null }),
          refused('csrf_mismatch', 'approve', aliceActor),
          refused('code_mismatch', 'deny', aliceActor),
          { type: 'device.approved', ...alice },
          refused('replay', 'approve', aliceActor),
        ],
      };
    },
  },
  {
    name: 'console sign-in, a device revoked from the console, sign-out',
    async run(http, app) {
      const label = uniqueLabel('console');
      const started = await startFlow(http, CLIENTS.cli, { device_label: label });
      await http.approveAs(started.user_code, USERS.bob);
      expect((await poll(http, app, started.device_code)).status).toBe(200);
      const page = await http.request<string>('/console');
      const login = page.headers
        .getSetCookie()
        .map((cookie) => cookie.split(';')[0])
        .join('; ');
      const csrf = (text: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(text)?.[1];
      const signedIn = await http.form('/console/sign-in/local', { login_csrf: csrf(page.body, 'login_csrf'), ...USERS.bob }, { cookie: login });
      const session = (signedIn.headers.getSetCookie().find((cookie) => cookie.startsWith('devicegate_console=')) ?? '').split(';')[0];
      const home = await http.request<string>('/console', { headers: { cookie: session } });
      const row = home.body.split('<tr>').find((text) => text.includes(label)) as string;
      const action = /action="(\/console\/devices\/[^"]+\/revoke)"/.exec(row)?.[1] as string;
      const csrfToken = csrf(home.body, 'csrf_token') as string;
      http.secrets.add(csrfToken);
      expect((await http.form(action, { csrf_token: csrfToken }, { cookie: session })).status).toBe(303);
      expect((await http.form('/console/sign-out', { csrf_token: csrfToken }, { cookie: session })).status).toBe(303);
      const bob = user(USERS.bob, CLIENTS.cli, label);
      const { client_id: _client, device_label: _label, ...person } = bob;
      return {
        label,
        expected: [
          { type: 'device_code.issued' },
          { type: 'sso.assertion_accepted' },
          { type: 'device.approved' },
          { type: 'token.minted' },
          { type: 'console.signed_in', outcome: 'success', ...person, client_id: null, device_label: null, details: { connector: 'local' } },
          { type: 'token.revoked', outcome: 'success', ...bob, token_id: expect.any(String), details: { reason: 'user', subject_id: expect.any(String) } },
          { type: 'console.signed_out', outcome: 'success', ...person, client_id: null, details: { connector: 'local' } },
        ],
      };
    },
  },
  {
    name: 'a client registered and then changed in the database',
    async run(http, app) {
      const clientId = `db-client-${randomUUID().slice(0, 8)}`;
      const registry = app.app.get(ClientRegistry);
      const definition = {
        clientId,
        name: 'Database client',
        type: 'confidential' as const,
        secretHash: sha256Hex('a-database-client-secret-0123456789'),
        grantTypes: [DEVICE_CODE_GRANT],
        allowedScopes: ['read'],
        defaultScopes: ['read'],
        enabled: true,
      };
      http.secrets.add('a-database-client-secret-0123456789');
      http.secrets.add(definition.secretHash);
      await registry.save(null, definition);
      await registry.save(null, { ...definition, enabled: false });
      const rows = await queryDatabase('SELECT * FROM audit_events WHERE client_id = $1 ORDER BY id', [clientId]);
      const common = { outcome: 'success', actor_type: 'system', client_id: clientId, ip: null, request_id: null };
      expect(rows).toEqual([
        expect.objectContaining({
          type: 'client.created',
          ...common,
          details: {
            name: 'Database client',
            type: 'confidential',
            enabled: true,
            grant_types: [DEVICE_CODE_GRANT],
            scopes: ['read'],
            default_scopes: ['read'],
            has_secret: true,
          },
        }),
        expect.objectContaining({ type: 'client.changed', ...common, details: expect.objectContaining({ enabled: false }) }),
      ]);
      return { label: null, expected: [] };
    },
  },
];

describe('audit events of every flow', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp();
  });

  afterAll(() => testApp.close());

  it.each(FLOWS.map((flow) => [flow.name, flow] as const))('%s', async (_name, flow) => {
    const http = new TracedHttp(testApp.baseUrl);
    const { expected } = await flow.run(http, testApp);
    const events = await eventsOf(http, expected.length);
    expect(events.map((event) => event.type)).toEqual(expected.map((event) => event.type));
    events.forEach((event, index) => expect(event).toMatchObject(expected[index]));
    const text = JSON.stringify(events);
    for (const secret of http.secrets) expect(text).not.toContain(secret);
  });

  /** The app's mirror line of every event of `http`'s trace, beside the query API's view of the stored event. */
  async function mirroredBesideStored(http: TracedHttp, count: number) {
    const rows = await eventsOf(http, count);
    const stored = await testApp.app
      .get(AuditRepository)
      .findEvents({ afterId: String(BigInt(rows[0].id as string) - 1n), upToId: rows.at(-1)?.id as string }, 1000);
    const views = stored.map(toView).filter((view) => view.request_id?.startsWith(`${http.trace}-`));
    const lines = testApp.logs.map((text) => JSON.parse(text)).filter((entry) => entry.audit?.request_id?.startsWith(`${http.trace}-`));
    return { views, lines };
  }

  it('mirrors every event as one JSON log line holding the view the query API gives, drained from the outbox or not', async () => {
    const http = new TracedHttp(testApp.baseUrl);
    const started = await startFlow(http, CLIENTS.cli, { device_label: uniqueLabel('mirrored') });
    await http.approveAs(started.user_code, USERS.alice);
    expect((await poll(http, testApp, started.device_code)).status).toBe(200);
    const { views, lines } = await mirroredBesideStored(http, 4);
    expect(views.map((view) => view.type)).toEqual(['device_code.issued', 'sso.assertion_accepted', 'device.approved', 'token.minted']);
    expect(lines.map((line) => line.audit)).toEqual(views);
    for (const line of lines) {
      expect(Object.keys(line)).toEqual(['level', 'time', 'service', 'context', 'audit', 'msg']);
      expect(line).toMatchObject({ level: 'info', service: 'devicegate', context: 'Audit', msg: 'audit' });
      expect(Object.keys(line.audit)).toEqual(Object.keys(views[0]));
    }
  });

  it('drains an outbox entry written before the outbox held views (a record with its eventId) into the same event', async () => {
    const http = new TracedHttp(testApp.baseUrl);
    const eventId = randomUUID();
    const record = {
      occurredAt: new Date(testApp.clock.now()).toISOString(),
      type: 'device_code.issued',
      outcome: 'success',
      actorType: 'client',
      actorIssuer: null,
      actorEmail: null,
      actorSubjectId: null,
      actorExternalId: null,
      organizationId: null,
      clientId: CLIENTS.cli,
      deviceLabel: 'older-format',
      tokenId: null,
      ip: '127.0.0.1',
      userAgent: 'upgrade',
      requestId: `${http.trace}-1`,
      details: { scopes: ['read'], expires_in: 600, interval: 5 },
      eventId,
    };
    const redis = new Redis(REDIS_URL);
    try {
      await redis.xadd(`${testApp.redisKeyPrefix}${AUDIT_OUTBOX_KEY}`, '*', 'event', JSON.stringify(record));
    } finally {
      redis.disconnect();
    }
    await testApp.app.get(AuditOutboxDrainer).drain();
    const { views, lines } = await mirroredBesideStored(http, 1);
    expect(views).toEqual([
      {
        id: eventId,
        sequence: expect.any(String),
        occurred_at: record.occurredAt,
        type: 'device_code.issued',
        outcome: 'success',
        actor: { type: 'client', issuer: null, email: null, subject_id: null, external_id: null },
        organization: null,
        client_id: CLIENTS.cli,
        device_label: 'older-format',
        token_id: null,
        ip: '127.0.0.1',
        user_agent: 'upgrade',
        request_id: `${http.trace}-1`,
        details: { scopes: ['read'], expires_in: 600, interval: 5 },
      },
    ]);
    expect(lines.map((line) => line.audit)).toEqual(views);
  });
});

describe('audit events that need their own app', () => {
  it('records a poll from another IP than the one that asked for the code', async () => {
    const app = await startTestApp({ env: { TRUST_PROXY: '127.0.0.1' } });
    try {
      const device = new TracedHttp(app.baseUrl, { 'x-forwarded-for': '203.0.113.10' });
      const started = await startFlow(device, CLIENTS.cli, { device_label: uniqueLabel('moved') });
      await new DeviceGateHttp(app.baseUrl).approveAs(started.user_code, USERS.alice);
      const elsewhere = new TracedHttp(app.baseUrl, { 'x-forwarded-for': '198.51.100.20' });
      app.clock.advance(6000);
      expect((await elsewhere.poll(CLIENTS.cli, started.device_code)).status).toBe(200);
      const events = await eventsOf(elsewhere);
      expect(events.map((event) => event.type)).toEqual(['token.minted', 'device_code.poll_ip_mismatch']);
      expect(events[1]).toMatchObject({
        outcome: 'failure',
        ip: '198.51.100.20',
        token_id: events[0].token_id,
        details: { requesting_ip: '203.0.113.10', polling_ip: '198.51.100.20' },
      });
    } finally {
      await app.close();
    }
  });

  it('records a tripped rate limit once per block, not once per refused request', async () => {
    const app = await startTestApp({ env: { RATE_LIMIT_LOOKUP_PER_IP: '2/1m' } });
    try {
      const http = new TracedHttp(app.baseUrl);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await http.request('/oauth/device/lookup?user_code=BCDF-GHJK')).status);
      expect(statuses).toEqual([200, 200, 429, 429, 429]);
      let tripped: Row[] = [];
      for (let wait = 0; wait < 50 && tripped.length === 0; wait++) {
        tripped = (await eventsOf(http)).filter((event) => event.type === 'rate_limit.tripped');
        if (tripped.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(tripped).toEqual([
        expect.objectContaining({
          outcome: 'failure',
          ip: '127.0.0.1',
          details: { limit: 'lookup-ip', max: 2, window_seconds: 60, blocked_seconds: 60 },
        }),
      ]);
    } finally {
      await app.close();
    }
  });
});
