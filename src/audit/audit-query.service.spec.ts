import type { Readable } from 'node:stream';
import { Logger } from '@nestjs/common';
import { ForeignOrganization, InvalidRequest } from '../common/oauth-errors';
import { AUDIT_CSV_HEADER } from './audit-csv';
import type { AuditRecord } from './audit-event';
import { AuditQueryService, encodeCursor, EXPORT_BATCH_SIZE, readTimestamp } from './audit-query.service';
import type { AuditVerifierService } from './audit-verifier.service';
import type { AuditEventFilter, AuditRepository } from './audit.repository';

const EVERY_ORGANIZATION = { organizationId: null };

function record(id: number): AuditRecord {
  return {
    id: String(id),
    eventId: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
    occurredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, id % 60)),
    type: 'token.minted',
    outcome: 'success',
    actorType: 'user',
    actorIssuer: 'urn:devicegate:local',
    actorEmail: 'alice@example.com',
    actorSubjectId: '11111111-1111-4111-8111-111111111111',
    actorExternalId: 'alice',
    organizationId: null,
    clientId: 'cli',
    deviceLabel: null,
    tokenId: null,
    ip: '127.0.0.1',
    userAgent: 'ua',
    requestId: 'r',
    details: { n: id },
  };
}

/** A repository over events 1..total that records every query it answers. */
function fakeRepository(total: number) {
  const calls: { filter: AuditEventFilter; limit: number }[] = [];
  const repository = {
    findEvents: jest.fn(async (filter: AuditEventFilter, limit: number) => {
      calls.push({ filter, limit });
      const after = Number(filter.afterId ?? 0);
      const upTo = Math.min(total, Number(filter.upToId ?? total));
      const ids = [];
      for (let id = after + 1; id <= upTo && ids.length < limit; id++) ids.push(id);
      return ids.map(record);
    }),
    lastEventId: jest.fn(async () => (total === 0 ? null : String(total))),
  };
  return { repository, calls, service: new AuditQueryService(repository as unknown as AuditRepository, {} as AuditVerifierService) };
}

async function readAll(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

describe('AuditQueryService', () => {
  describe('page', () => {
    it('asks for one event more than the limit to know whether another page follows', async () => {
      const { service, calls } = fakeRepository(5);
      const page = await service.page({ limit: '2' }, EVERY_ORGANIZATION);
      expect(calls).toEqual([{ filter: {}, limit: 3 }]);
      expect(page.events.map((event) => event.sequence)).toEqual(['1', '2']);
      expect(page.next_cursor).toBe(encodeCursor('2'));

      const last = await service.page({ limit: '3', cursor: encodeCursor('2') }, EVERY_ORGANIZATION);
      expect(calls[1]).toEqual({ filter: { afterId: '2' }, limit: 4 });
      expect(last.events.map((event) => event.sequence)).toEqual(['3', '4', '5']);
      expect(last.next_cursor).toBeNull();
    });

    it('turns the parameters into one filter', async () => {
      const { service, calls } = fakeRepository(0);
      await service.page({
        type: 'token.minted, device.approved,token.minted',
        subject: 'Alice@Example.COM',
        organization: 'org-1',
        client: 'cli',
        since: '2025-01-31T10:00:00+01:00',
        until: '2025-02-01T00:00:00.5Z',
      }, EVERY_ORGANIZATION);
      expect(calls[0]).toEqual({
        filter: {
          types: ['token.minted', 'device.approved'],
          actorEmail: 'alice@example.com',
          organizationId: 'org-1',
          clientId: 'cli',
          since: '2025-01-31T09:00:00.000Z',
          until: '2025-02-01T00:00:00.500Z',
        },
        limit: 101,
      });
      await service.page({ subject: '11111111-AAAA-4111-8111-111111111111' }, EVERY_ORGANIZATION);
      expect(calls[1].filter).toEqual({ actorSubjectId: '11111111-aaaa-4111-8111-111111111111' });
    });

    it("keeps a reader of one organization to that organization's events, and refuses a filter naming another", async () => {
      const { service, calls } = fakeRepository(0);
      const acme = { organizationId: 'acme' };
      await service.page({ client: 'cli' }, acme);
      await service.page({ organization: 'acme' }, acme);
      await service.export({}, acme);
      expect(calls.map((call) => call.filter.organizationId)).toEqual(['acme', 'acme']);
      await expect(service.page({ organization: 'globex' }, acme)).rejects.toBeInstanceOf(ForeignOrganization);
      await expect(service.export({ organization: 'globex' }, acme)).rejects.toBeInstanceOf(ForeignOrganization);
      expect(calls).toHaveLength(2);
    });

    it('refuses bad parameters before any query', async () => {
      const { service, repository } = fakeRepository(5);
      await expect(service.page({ limit: '1001' }, EVERY_ORGANIZATION)).rejects.toThrow(InvalidRequest);
      await expect(service.page({ cursor: encodeCursor('0') }, EVERY_ORGANIZATION)).rejects.toThrow('cursor is not one this API returned');
      await expect(service.page({ cursor: `${encodeCursor('12')}=` }, EVERY_ORGANIZATION)).rejects.toThrow('cursor is not one this API returned');
      expect(repository.findEvents).not.toHaveBeenCalled();
    });
  });

  describe('export', () => {
    it('reads batch after batch, by keyset, up to the newest event at the start', async () => {
      const total = EXPORT_BATCH_SIZE * 2 + 7;
      const { service, calls } = fakeRepository(total);
      const text = await readAll((await service.export({ client: 'cli' }, EVERY_ORGANIZATION)).stream);
      const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line));
      expect(lines.map((line) => Number(line.sequence))).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(calls.map((call) => call.filter)).toEqual([
        { clientId: 'cli', upToId: String(total) },
        { clientId: 'cli', upToId: String(total), afterId: String(EXPORT_BATCH_SIZE) },
        { clientId: 'cli', upToId: String(total), afterId: String(EXPORT_BATCH_SIZE * 2) },
      ]);
    });

    it('reads the next batch only when the consumer wants more (backpressure)', async () => {
      const { service, repository } = fakeRepository(EXPORT_BATCH_SIZE * 10);
      const { stream } = await service.export({}, EVERY_ORGANIZATION);
      expect(repository.findEvents).toHaveBeenCalledTimes(1);
      stream.once('data', () => stream.pause());
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(repository.findEvents.mock.calls.length).toBeLessThanOrEqual(2);
      stream.destroy();
    });

    it('fails before the stream when the first batch cannot be read', async () => {
      const { service, repository } = fakeRepository(10);
      repository.findEvents.mockRejectedValueOnce(new Error('down'));
      await expect(service.export({}, EVERY_ORGANIZATION)).rejects.toThrow('down');
    });

    it('errors the stream after what it wrote, and logs it, when a later batch fails', async () => {
      const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      const { service, repository } = fakeRepository(EXPORT_BATCH_SIZE * 3);
      const { stream } = await service.export({}, EVERY_ORGANIZATION);
      repository.findEvents.mockRejectedValueOnce(new Error('gone'));
      let lines = 0;
      await expect(
        (async () => {
          for await (const chunk of stream) lines += String(chunk).split('\n').length - 1;
        })(),
      ).rejects.toThrow('gone');
      expect(lines).toBe(EXPORT_BATCH_SIZE);
      expect(logged).toHaveBeenCalledWith({ msg: 'audit export failed mid-stream', written: EXPORT_BATCH_SIZE, error: 'gone' });
      logged.mockRestore();
    });

    it('writes CSV with a header line for format=csv, or for an Accept header naming text/csv first; NDJSON otherwise', async () => {
      const { service } = fakeRepository(3);
      const csv = await service.export({ format: 'csv' }, EVERY_ORGANIZATION);
      expect(csv.format).toBe('csv');
      const lines = (await readAll(csv.stream)).split('\r\n');
      expect(lines[0]).toBe(AUDIT_CSV_HEADER.trimEnd());
      expect(lines.slice(1, -1).map((line) => line.split(',')[1])).toEqual(['1', '2', '3']);
      expect(lines[lines.length - 1]).toBe('');
      expect((await service.export({}, EVERY_ORGANIZATION, 'text/csv')).format).toBe('csv');
      expect((await service.export({}, EVERY_ORGANIZATION, 'application/x-ndjson, text/csv')).format).toBe('ndjson');
      expect((await service.export({}, EVERY_ORGANIZATION, 'text/csv;q=0, */*')).format).toBe('ndjson');
      expect((await service.export({}, EVERY_ORGANIZATION, 'text/html')).format).toBe('ndjson');
      expect((await service.export({ format: 'ndjson' }, EVERY_ORGANIZATION, 'text/csv')).format).toBe('ndjson');
      await expect(service.export({ format: 'xlsx' }, EVERY_ORGANIZATION)).rejects.toThrow('format must be ndjson or csv');
      expect(await readAll((await fakeRepository(0).service.export({ format: 'csv' }, EVERY_ORGANIZATION)).stream)).toBe(AUDIT_CSV_HEADER);
    });

    it('is empty when there are no events at all', async () => {
      const { service, repository } = fakeRepository(0);
      expect(await readAll((await service.export({}, EVERY_ORGANIZATION)).stream)).toBe('');
      expect(repository.findEvents).not.toHaveBeenCalled();
    });
  });

  describe('readTimestamp (RFC 3339 date-time)', () => {
    it.each([
      ['2025-01-31T23:59:59Z', '2025-01-31T23:59:59.000Z'],
      ['2025-01-31t23:59:59z', '2025-01-31T23:59:59.000Z'],
      ['2025-01-31 23:59:59Z', '2025-01-31T23:59:59.000Z'],
      ['2025-01-31T23:59:59.123456789-05:30', '2025-02-01T05:29:59.124Z'],
      ['2025-01-31T23:59:59.120Z', '2025-01-31T23:59:59.120Z'],
      ['2024-02-29T00:00:00+00:00', '2024-02-29T00:00:00.000Z'],
      ['2016-12-31T23:59:60Z', '2017-01-01T00:00:00.000Z'],
    ])('reads %s as %s', (value, expected) => {
      expect(readTimestamp('since', value)).toBe(expected);
    });

    it.each(['2025-01-31', '2025-01-31T23:59Z', '2025-02-29T00:00:00Z', '2025-00-10T00:00:00Z', '2025-01-31T23:59:59', '2025-01-31T23:59:59+24:00', '2025-01-31T23:59:59.Z', ' 2025-01-31T23:59:59Z'])(
      'refuses %p',
      (value) => {
        expect(() => readTimestamp('since', value)).toThrow('since must be an RFC 3339 timestamp');
      },
    );
  });
});
