import { randomUUID } from 'node:crypto';
import { AUDIT_CSV_COLUMNS } from '../src/audit/audit-csv';
import { AuditRepository } from '../src/audit/audit.repository';
import { parseCsv } from './support/csv';
import { queryDatabase } from './support/database';
import { expectOAuthError, obtainToken, uniqueLabel } from './support/flows';
import { DeviceGateHttp, type Reply } from './support/http';
import { CLIENTS, startTestApp, type TestApp, USERS } from './support/test-app';

/**
 * The auditor's read side: GET /v1/audit/events and its NDJSON and CSV export.
 * Other spec files write events to the same database at the same time, so
 * every assertion on an exact set first narrows to events of this file
 * (its own organization, clients and subject).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const run = randomUUID().slice(0, 8);
const ORG = `org-query-${run}`;
const BIG_ORG = `org-export-${run}`;
const CLIENT_A = `audit-query-a-${run}`;
const CLIENT_B = `audit-query-b-${run}`;
const SUBJECT = randomUUID();
const EMAIL = `Auditee.${run}@Example.com`;
const TYPES = ['device_code.issued', 'device.approved', 'token.minted', 'token.revoked', 'sso.assertion_rejected'];

interface Seed {
  i: number;
  type: string;
  outcome: 'success' | 'failure';
  user: boolean;
  client: string;
  occurredAt: Date;
}

const base = Date.now() - 60 * 60 * 1000;
const seeds: Seed[] = Array.from({ length: 25 }, (_, i) => ({
  i,
  type: TYPES[i % TYPES.length],
  outcome: i % TYPES.length === 4 ? 'failure' : 'success',
  user: i % 2 === 1,
  client: i % 3 === 0 ? CLIENT_A : CLIENT_B,
  occurredAt: new Date(base + i * 1000),
}));

/** Appends events of ORG (as any module would, but with chosen times), in the order given. */
async function insertSeeds(list: Seed[]): Promise<void> {
  const values: unknown[] = [];
  const rows = list.map((seed) => {
    const row = [
      seed.occurredAt,
      seed.type,
      seed.outcome,
      seed.user ? 'user' : 'client',
      seed.user ? 'urn:devicegate:local' : null,
      seed.user ? EMAIL : null,
      seed.user ? SUBJECT : null,
      seed.user ? `auditee-${run}` : null,
      ORG,
      seed.client,
      `label-${seed.i}`,
      JSON.stringify({ i: seed.i }),
    ];
    return `(${row.map((value) => `$${values.push(value)}`).join(', ')})`;
  });
  await queryDatabase(
    `INSERT INTO audit_events (occurred_at, type, outcome, actor_type, actor_issuer, actor_email, actor_subject_id,
                               actor_external_id, organization_id, client_id, device_label, details)
     VALUES ${rows.join(', ')}`,
    values,
  );
}

const BIG_COUNT = 2500;

/** More events than one export batch, in BIG_ORG. */
async function insertBulk(): Promise<void> {
  await queryDatabase(
    `INSERT INTO audit_events (occurred_at, type, outcome, actor_type, organization_id, client_id, user_agent, details)
     SELECT now(), 'token.minted', 'success', 'client', $1, 'bulk', repeat('x', 200), jsonb_build_object('i', i)
       FROM generate_series(0, $2::int - 1) i ORDER BY i`,
    [BIG_ORG, BIG_COUNT],
  );
}

describe('Audit query API (GET /v1/audit/events and /v1/audit/events/export)', () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;
  let auditor: string;

  const get = (path: string, token: string | null = auditor) =>
    http.request(path, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  const events = (query: Record<string, string>, token?: string) => get(`/v1/audit/events?${new URLSearchParams(query)}`, token);
  const exportOf = (query: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${testApp.baseUrl}/v1/audit/events/export?${new URLSearchParams(query)}`, { headers: { authorization: `Bearer ${auditor}`, ...headers } });

  /** Every page of a query, following next_cursor. */
  async function walk(query: Record<string, string>): Promise<{ pages: Reply[]; all: Record<string, any>[] }> {
    const pages: Reply[] = [];
    let cursor: string | null = null;
    do {
      const reply = await events(cursor === null ? query : { ...query, cursor });
      expect(reply.status).toBe(200);
      pages.push(reply);
      cursor = reply.body.next_cursor;
    } while (cursor !== null && pages.length < 1000);
    return { pages, all: pages.flatMap((page) => page.body.events) };
  }

  const indexes = (list: Record<string, any>[]) => list.map((event) => event.details.i);

  beforeAll(async () => {
    testApp = await startTestApp();
    http = new DeviceGateHttp(testApp.baseUrl);
    auditor = (await obtainToken(http, { clientId: CLIENTS.auditor, scope: 'audit:read' })).access_token;
    await Promise.all([insertSeeds(seeds), insertBulk()]);
  });

  afterAll(() => testApp.close());

  describe('an event', () => {
    it('has every recorded field, under stable names', async () => {
      const reply = await events({ organization: ORG, limit: '2' });
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
      expect(reply.headers.get('cache-control')).toBe('no-store');
      expect(reply.body.events).toEqual([
        {
          id: expect.stringMatching(UUID),
          sequence: expect.stringMatching(/^[1-9]\d*$/),
          occurred_at: seeds[0].occurredAt.toISOString(),
          type: 'device_code.issued',
          outcome: 'success',
          actor: { type: 'client', issuer: null, email: null, subject_id: null, external_id: null },
          organization: ORG,
          client_id: CLIENT_A,
          device_label: 'label-0',
          token_id: null,
          ip: null,
          user_agent: null,
          request_id: null,
          details: { i: 0 },
        },
        expect.objectContaining({
          type: 'device.approved',
          actor: { type: 'user', issuer: 'urn:devicegate:local', email: EMAIL, subject_id: SUBJECT, external_id: `auditee-${run}` },
          client_id: CLIENT_B,
          details: { i: 1 },
        }),
      ]);
      expect(BigInt(reply.body.events[1].sequence)).toBeGreaterThan(BigInt(reply.body.events[0].sequence));
    });

    it('is what a real flow wrote, found by type, client, time and subject (id or email, any case)', async () => {
      const since = new Date(Date.now() - 1000).toISOString();
      const label = uniqueLabel('audit-query');
      await obtainToken(http, { deviceLabel: label, user: USERS.alice });
      const find = async (query: Record<string, string>) =>
        (await walk({ ...query, type: 'token.minted', since, limit: '1000' })).all.filter((event) => event.device_label === label);

      const [minted] = await find({ client: CLIENTS.cli });
      expect(minted).toEqual({
        id: expect.stringMatching(UUID),
        sequence: expect.stringMatching(/^\d+$/),
        occurred_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        type: 'token.minted',
        outcome: 'success',
        actor: {
          type: 'user',
          issuer: 'urn:devicegate:local',
          email: USERS.alice.email,
          subject_id: expect.stringMatching(UUID),
          external_id: USERS.alice.username,
        },
        organization: null,
        client_id: CLIENTS.cli,
        device_label: label,
        token_id: expect.stringMatching(UUID),
        ip: '127.0.0.1',
        user_agent: expect.any(String),
        request_id: expect.stringMatching(UUID),
        details: { scopes: ['profile'], expires_at: expect.any(String), attempt: 1 },
      });
      expect(Date.parse(minted.occurred_at)).toBeGreaterThanOrEqual(Date.parse(since));
      expect(await find({ subject: minted.actor.subject_id })).toEqual([minted]);
      expect(await find({ subject: minted.actor.subject_id.toUpperCase() })).toEqual([minted]);
      expect(await find({ subject: USERS.alice.email.toUpperCase() })).toEqual([minted]);
      expect(await find({ client: CLIENTS.auditor })).toEqual([]);
    });
  });

  describe('filters', () => {
    const at = (i: number) => seeds[i].occurredAt.toISOString();
    const cases: [string, Record<string, string>, (seed: Seed) => boolean][] = [
      ['nothing but the organization', {}, () => true],
      ['one type', { type: 'token.minted' }, (seed) => seed.type === 'token.minted'],
      ['several types', { type: 'token.minted,device.approved' }, (seed) => ['token.minted', 'device.approved'].includes(seed.type)],
      ['a client', { client: CLIENT_A }, (seed) => seed.client === CLIENT_A],
      ['a subject id', { subject: SUBJECT }, (seed) => seed.user],
      ['a subject email in another case', { subject: EMAIL.toLowerCase() }, (seed) => seed.user],
      ['since (inclusive)', { since: at(20) }, (seed) => seed.i >= 20],
      ['until (exclusive)', { until: at(3) }, (seed) => seed.i < 3],
      ['a time range with an offset and fractional seconds', { since: toOffset(seeds[5].occurredAt, 120), until: at(9) }, (seed) => seed.i >= 5 && seed.i < 9],
      ['sub-millisecond bounds, rounded up', { since: at(5).replace('Z', '001Z'), until: at(9).replace('Z', '001Z') }, (seed) => seed.i > 5 && seed.i <= 9],
      [
        'everything at once',
        { type: 'device.approved,token.revoked,token.minted', subject: SUBJECT, client: CLIENT_B, since: at(2), until: at(24) },
        (seed) => ['device.approved', 'token.revoked', 'token.minted'].includes(seed.type) && seed.user && seed.client === CLIENT_B && seed.i >= 2 && seed.i < 24,
      ],
    ];

    it.each(cases)('by %s', async (_name, query, expected) => {
      const reply = await events({ organization: ORG, limit: '1000', ...query });
      expect(reply.status).toBe(200);
      expect(indexes(reply.body.events)).toEqual(seeds.filter(expected).map((seed) => seed.i));
      expect(reply.body.next_cursor).toBeNull();
    });

    it('by a value nobody recorded: no events', async () => {
      const queries: Record<string, string>[] = [
        { organization: `org-nobody-${run}` },
        { client: `nobody-${run}` },
        { subject: randomUUID() },
        { subject: 'nobody@example.com' },
      ];
      for (const query of queries) {
        expect((await events(query)).body).toEqual({ events: [], next_cursor: null });
      }
    });
  });

  describe('keyset pagination', () => {
    it('walks every page and returns each event exactly once, in chain order', async () => {
      const { pages, all } = await walk({ organization: ORG, limit: '4' });
      expect(pages.map((page) => page.body.events.length)).toEqual([4, 4, 4, 4, 4, 4, 1]);
      expect(indexes(all)).toEqual(seeds.map((seed) => seed.i));
      const sequences = all.map((event) => BigInt(event.sequence));
      expect(sequences.every((sequence, i) => i === 0 || sequence > sequences[i - 1])).toBe(true);
      expect(new Set(all.map((event) => event.id)).size).toBe(all.length);
    });

    it('ends with next_cursor null when the last page is exactly full', async () => {
      const { pages } = await walk({ organization: ORG, type: 'token.minted', limit: '5' });
      expect(pages.map((page) => [page.body.events.length, page.body.next_cursor])).toEqual([[5, null]]);
    });

    it('gives 100 events a page by default, and up to 1000', async () => {
      const sizes = async (query: Record<string, string>) => {
        const { body } = await events({ organization: BIG_ORG, ...query });
        return { events: body.events.length, more: body.next_cursor !== null };
      };
      expect(await sizes({})).toEqual({ events: 100, more: true });
      expect(await sizes({ limit: '1000' })).toEqual({ events: 1000, more: true });
      expect(await sizes({ limit: '1' })).toEqual({ events: 1, more: true });
    });

    it('neither skips nor repeats an event when events are added between pages', async () => {
      const extraOrg = `org-growing-${randomUUID().slice(0, 8)}`;
      const add = (n: number, from: number) =>
        queryDatabase(
          `INSERT INTO audit_events (occurred_at, type, outcome, organization_id, details)
           SELECT now(), 'token.revoked', 'success', $1, jsonb_build_object('i', i) FROM generate_series($2::int, $3::int) i ORDER BY i`,
          [extraOrg, from, from + n - 1],
        );
      await add(7, 0);
      const first = await events({ organization: extraOrg, limit: '3' });
      await add(5, 7);
      const second = await events({ organization: extraOrg, limit: '3', cursor: first.body.next_cursor });
      await add(2, 12);
      const { all: rest } = await walk({ organization: extraOrg, limit: '3', cursor: second.body.next_cursor });
      expect(indexes([...first.body.events, ...second.body.events, ...rest])).toEqual(Array.from({ length: 14 }, (_, i) => i));
    });
  });

  describe('bad parameters: 400 invalid_request', () => {
    const cases: [string, string][] = [
      ['type=nope', 'Unknown event type "nope"; the catalog is in the README'],
      ['type=token.minted,,device.approved', 'type must be one or more event types separated by commas'],
      ['type=token.minted&type=device.approved', 'type must not be sent more than once'],
      ['subject=alice', 'subject must be a subject id (a UUID) or an email address'],
      ['client=a%00b', 'client must be an id of at most 128 characters'],
      [`organization=${'o'.repeat(129)}`, 'organization must be an id of at most 128 characters'],
      ['since=yesterday', 'since must be an RFC 3339 timestamp, e.g. 2025-01-31T23:59:59Z'],
      ['since=2025-02-30T00:00:00Z', 'since must be an RFC 3339 timestamp, e.g. 2025-01-31T23:59:59Z'],
      ['until=2025-01-31T24:00:00Z', 'until must be an RFC 3339 timestamp, e.g. 2025-01-31T23:59:59Z'],
      ['until=2025-01-31', 'until must be an RFC 3339 timestamp, e.g. 2025-01-31T23:59:59Z'],
      ['since=2025-01-31T10:00:00+02:00', 'since must be an RFC 3339 timestamp, e.g. 2025-01-31T23:59:59Z (encode "+" in the offset as %2B)'],
      ['since=1969-12-31T23:59:59Z', 'since must be between 1970 and 9999'],
      ['since=2025-02-01T00:00:00Z&until=2025-01-31T00:00:00Z', 'since must be earlier than until'],
      ['limit=0', 'limit must be an integer from 1 to 1000'],
      ['limit=1001', 'limit must be an integer from 1 to 1000'],
      ['limit=ten', 'limit must be an integer from 1 to 1000'],
      ['limit=2.5', 'limit must be an integer from 1 to 1000'],
      ['cursor=garbage!', 'cursor is not one this API returned; pass next_cursor unchanged'],
      [`cursor=${Buffer.from('-1').toString('base64url')}`, 'cursor is not one this API returned; pass next_cursor unchanged'],
      [`cursor=${Buffer.from('9223372036854775808').toString('base64url')}`, 'cursor is not one this API returned; pass next_cursor unchanged'],
      ['clientId=x', 'Unknown parameter clientId; use type, subject, organization, client, since, until, limit or cursor'],
    ];

    it.each(cases)('GET /v1/audit/events?%s', async (query, description) => {
      expectOAuthError(await get(`/v1/audit/events?${query}`), 400, { error: 'invalid_request', error_description: description });
    });

    it.each([
      ['type=nope', 'Unknown event type "nope"; the catalog is in the README'],
      ['since=2025-13-01T00:00:00Z', 'since must be an RFC 3339 timestamp, e.g. 2025-01-31T23:59:59Z'],
      ['limit=10', 'Unknown parameter limit; use type, subject, organization, client, since, until, cursor or format'],
      ['format=xlsx', 'format must be ndjson or csv'],
    ])('GET /v1/audit/events/export?%s', async (query, description) => {
      expectOAuthError(await get(`/v1/audit/events/export?${query}`), 400, { error: 'invalid_request', error_description: description });
    });
  });

  describe('RFC 6750 bearer with the audit:read scope', () => {
    it.each(['/v1/audit/events', '/v1/audit/events/export'])('%s without a token: 401 invalid_token', async (path) => {
      const reply = await get(path, null);
      expect({ status: reply.status, body: reply.body, challenge: reply.headers.get('www-authenticate') }).toEqual({
        status: 401,
        body: { error: 'invalid_token', error_description: 'A bearer token is required' },
        challenge: 'Bearer realm="devicegate"',
      });
    });

    it.each(['/v1/audit/events', '/v1/audit/events/export'])('%s with a token without audit:read: 403 insufficient_scope', async (path) => {
      const { access_token: token } = await obtainToken(http, { scope: 'profile read' });
      const reply = await get(`${path}?organization=${ORG}`, token);
      expect({ status: reply.status, body: reply.body, challenge: reply.headers.get('www-authenticate') }).toEqual({
        status: 403,
        body: { error: 'insufficient_scope', error_description: 'This resource needs the scope audit:read' },
        challenge: 'Bearer realm="devicegate", error="insufficient_scope", scope="audit:read"',
      });
    });
  });

  describe('NDJSON export', () => {
    it('writes one event a line, exactly as the query API does', async () => {
      const response = await exportOf({ organization: ORG });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/x-ndjson');
      expect(response.headers.get('cache-control')).toBe('no-store');
      const text = await response.text();
      expect(text.endsWith('\n')).toBe(true);
      const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line));
      expect(lines).toEqual((await events({ organization: ORG, limit: '1000' })).body.events);
    });

    it('applies the filters and resumes after a cursor', async () => {
      const filtered = await (await exportOf({ organization: ORG, type: 'device.approved,token.minted', since: seeds[3].occurredAt.toISOString() })).text();
      expect(ndjsonIndexes(filtered)).toEqual(seeds.filter((seed) => seed.i >= 3 && ['device.approved', 'token.minted'].includes(seed.type)).map((seed) => seed.i));
      const first = await events({ organization: ORG, limit: '10' });
      expect(ndjsonIndexes(await (await exportOf({ organization: ORG, cursor: first.body.next_cursor })).text())).toEqual(
        seeds.slice(10).map((seed) => seed.i),
      );
    });

    it('answers an empty range with an empty body', async () => {
      const response = await exportOf({ organization: `org-nobody-${run}` });
      expect({ status: response.status, type: response.headers.get('content-type'), body: await response.text() }).toEqual({
        status: 200,
        type: 'application/x-ndjson',
        body: '',
      });
    });

    it('writes CSV for format=csv or Accept: text/csv: a header line, then the same events', async () => {
      const expected = (await events({ organization: ORG, limit: '1000' })).body.events;
      for (const response of [await exportOf({ organization: ORG, format: 'csv' }), await exportOf({ organization: ORG }, { accept: 'text/csv' })]) {
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
        expect(response.headers.get('cache-control')).toBe('no-store');
        const rows = parseCsv(await response.text());
        expect(rows[0]).toEqual([...AUDIT_CSV_COLUMNS]);
        expect(rows.slice(1).map((row) => row[1])).toEqual(expected.map((event: { sequence: string }) => event.sequence));
        expect(rows.slice(1).map((row) => JSON.parse(row[17]))).toEqual(expected.map((event: { details: unknown }) => event.details));
      }
      const ndjson = await exportOf({ organization: ORG, format: 'ndjson' }, { accept: 'text/csv' });
      expect(ndjson.headers.get('content-type')).toBe('application/x-ndjson');
      const empty = await exportOf({ organization: `org-nobody-${run}`, format: 'csv' });
      expect(await empty.text()).toBe(`${AUDIT_CSV_COLUMNS.join(',')}\r\n`);
    });

    it('prefixes a field a spreadsheet would run as a formula with a quote', async () => {
      const organization = `org-csv-${run}`;
      await queryDatabase(
        `INSERT INTO audit_events (occurred_at, type, outcome, actor_type, organization_id, device_label, details) VALUES (now(), 'token.minted', 'success', 'client', $1, $2, '{}')`,
        [organization, '=HYPERLINK("http://evil.example","click")'],
      );
      const rows = parseCsv(await (await exportOf({ organization, format: 'csv' })).text());
      expect(rows[1][12]).toBe(`'=HYPERLINK("http://evil.example","click")`);
    });

    describe('over many batches', () => {
      afterEach(() => jest.restoreAllMocks());

      it('streams every event once, in order', async () => {
        const response = await exportOf({ organization: BIG_ORG });
        expect(response.status).toBe(200);
        const lines = (await response.text()).trimEnd().split('\n').map((line) => JSON.parse(line));
        expect(lines.map((event) => event.details.i)).toEqual(Array.from({ length: BIG_COUNT }, (_, i) => i));
        expect(new Set(lines.map((event) => event.sequence)).size).toBe(BIG_COUNT);
      });

      it('answers a failure before the first byte with an RFC error (503 when the database is down)', async () => {
        const repository = testApp.app.get(AuditRepository);
        jest.spyOn(repository, 'findEvents').mockRejectedValueOnce(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
        expectOAuthError(await get(`/v1/audit/events/export?organization=${BIG_ORG}`), 503, {
          error: 'temporarily_unavailable',
          error_description: 'The service cannot reach its storage right now. Try again shortly.',
        });
      });

      it('cuts the response short, and logs it, when a later batch fails', async () => {
        const repository = testApp.app.get(AuditRepository);
        const findEvents = repository.findEvents.bind(repository);
        let calls = 0;
        jest.spyOn(repository, 'findEvents').mockImplementation(async (filter, limit) => {
          if (++calls === 2) throw new Error('boom in batch 2');
          return findEvents(filter, limit);
        });
        const response = await exportOf({ organization: BIG_ORG });
        expect(response.status).toBe(200);
        await expect(response.text()).rejects.toThrow();
        expect(testApp.logs.some((line) => line.includes('audit export failed mid-stream') && line.includes('boom in batch 2'))).toBe(true);
      });
    });
  });
});

function ndjsonIndexes(text: string): number[] {
  return text.trimEnd().split('\n').filter(Boolean).map((line) => JSON.parse(line).details.i);
}

/** The same instant written with a +hh:mm offset and a fraction. */
function toOffset(date: Date, minutes: number): string {
  const shifted = new Date(date.getTime() + minutes * 60_000).toISOString();
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return shifted.replace('Z', `+${hh}:${mm}`);
}
