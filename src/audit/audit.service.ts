import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Logger as PinoLogger } from 'pino';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { uuidv7 } from '../common/crypto';
import { LOGGER, writeJsonLines } from '../common/logger';
import { TemporarilyUnavailable } from '../common/oauth-errors';
import { type AuditEvent, type AuditRecord, toPendingView, toView } from './audit-event';
import { AuditRepository, type NewAuditRecord } from './audit.repository';

const MAX_BATCH = 500;
/**
 * INSERTs in flight at once. While they wait for their commit, new events
 * queue up and go out together in the next one: under load a few large
 * commits instead of one commit per request.
 */
const MAX_FLUSHES_IN_FLIGHT = 2;

interface Pending {
  record: NewAuditRecord;
  resolve: (stored: AuditRecord) => void;
  reject: (error: unknown) => void;
}

/** A Postgres transaction whose changes and audit events commit together or not at all. */
export interface AuditedTransaction {
  manager: EntityManager;
  record(...events: AuditEvent[]): Promise<void>;
}

/**
 * Writes audit events durably and mirrors each one as a JSON log line.
 *
 * - `transaction(work)`: for changes in Postgres; the events are appended in
 *   the change's own transaction.
 * - `record(event)`: appends outside any transaction; events of concurrent
 *   requests share one INSERT (and one commit), and each caller resumes only
 *   once its event is committed.
 * - `recordOrUndo(event, undo)`: for changes that live in Redis; the change is
 *   made first and undone if its event cannot be written.
 * - `toOutbox(event)`: for changes that live in Redis and carry their event
 *   in the same atomic step (the audit outbox); AuditOutboxDrainer writes it
 *   to audit_events later, under the event id chosen here.
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');
  private queue: Pending[] = [];
  private flushScheduled = false;
  private flushesInFlight = 0;
  private outboxListener: () => void = () => undefined;

  constructor(
    private readonly audit: AuditRepository,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: PinoLogger,
  ) {}

  async transaction<T>(work: (transaction: AuditedTransaction) => Promise<T>): Promise<T> {
    const written: AuditRecord[] = [];
    const result = await this.audit.transaction((manager) =>
      work({
        manager,
        record: async (...events) => {
          const stored = await this.audit.insert(events.map((event) => this.toRecord(event)), manager).catch((error: unknown) => {
            throw this.unavailable(error);
          });
          written.push(...stored);
        },
      }),
    );
    this.mirror(written.map(viewJson));
    return result;
  }

  async record(event: AuditEvent): Promise<void> {
    const record = this.toRecord(event);
    const stored = await new Promise<AuditRecord>((resolve, reject) => {
      this.queue.push({ record, resolve, reject: (error) => reject(this.unavailable(error)) });
      this.scheduleFlush();
    });
    this.mirror([viewJson(stored)]);
  }

  async recordOrUndo(event: AuditEvent, undo: () => Promise<unknown>): Promise<void> {
    try {
      await this.record(event);
    } catch (error) {
      await undo().catch((undoError: Error) =>
        this.logger.error({ msg: 'audit write failed and the change could not be undone', type: event.type, error: undoError.message }),
      );
      throw error;
    }
  }

  /** The event, with its own id and the request's context, as an outbox entry: its view but for the sequence. */
  toOutbox(event: AuditEvent): string {
    const record = this.toRecord(event);
    // Time-ordered: audit_events' unique index on event_id takes the drained batches at its right edge.
    return JSON.stringify(toPendingView(uuidv7(record.occurredAt.getTime()), record));
  }

  /** Entries made by `toOutbox` were stored with their change: the drainer takes them soon. */
  outboxWritten(): void {
    this.outboxListener();
  }

  onOutboxWritten(listener: () => void): void {
    this.outboxListener = listener;
  }

  /**
   * Writes drained outbox entries that audit_events does not hold yet, and
   * mirrors those. The entries' JSON goes to Postgres and to the log as it
   * is, with the sequence spliced in: no event is parsed or serialized here.
   */
  async writeDrained(payloads: string[]): Promise<number> {
    const views = payloads.map(pendingViewJson);
    const written = await this.audit.insertDrained(views);
    const byEventId = new Map(views.map((view) => [view.slice(EVENT_ID_AT, EVENT_ID_AT + 36), view]));
    this.mirror(written.map(({ id, eventId }) => withSequence(byEventId.get(eventId) as string, id)));
    return written.length;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushesInFlight >= MAX_FLUSHES_IN_FLIGHT || this.queue.length === 0) return;
    this.flushScheduled = true;
    // The rest of this tick's events join the batch.
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    this.flushesInFlight += 1;
    this.scheduleFlush();
    try {
      const stored = await this.audit.insert(batch.map((pending) => pending.record));
      batch.forEach((pending, index) => pending.resolve(stored[index]));
    } catch (error) {
      if (batch.length === 1) batch[0].reject(error);
      // One bad event must not take the others down with it: write them one by one.
      else {
        await Promise.all(
          batch.map((pending) => this.audit.insert([pending.record]).then(([stored]) => pending.resolve(stored), pending.reject)),
        );
      }
    } finally {
      this.flushesInFlight -= 1;
      this.scheduleFlush();
    }
  }

  /** An event that cannot be written means the audit trail is unavailable: the change it belongs to is refused with a 503. */
  private unavailable(error: unknown): TemporarilyUnavailable {
    this.logger.error({ msg: 'audit event not written', error: (error as Error)?.message });
    return new TemporarilyUnavailable('The audit trail cannot be written right now, so nothing was changed. Try again shortly.');
  }

  private toRecord(event: AuditEvent): NewAuditRecord {
    const context = event.origin;
    return {
      occurredAt: new Date(this.clock.now()),
      type: event.type,
      outcome: event.outcome,
      actorType: event.actor?.type ?? null,
      actorIssuer: event.actor?.issuer ?? null,
      actorEmail: event.actor?.email ?? null,
      actorSubjectId: event.actor?.subjectId ?? null,
      actorExternalId: event.actor?.externalId ?? null,
      organizationId: event.organizationId ?? null,
      clientId: event.clientId ?? null,
      deviceLabel: event.deviceLabel || null,
      tokenId: event.tokenId ?? null,
      ip: event.ip ?? context?.ip ?? null,
      userAgent: event.userAgent ?? context?.userAgent ?? null,
      requestId: event.requestId ?? (context?.requestId || null),
      details: event.details ?? {},
    };
  }

  /** The same JSON as the query API and the export, so log shippers and auditors read one shape. */
  private mirror(views: string[]): void {
    writeJsonLines(this.log, 'Audit', 'audit', 'audit', views);
  }
}

const viewJson = (record: AuditRecord) => JSON.stringify(toView(record));

/** Every pending view that toOutbox writes opens with its event id: `{"id":"<uuid>"`. */
const PENDING_VIEW_OPENING = /^\{"id":"[0-9a-f-]{36}"/;
const EVENT_ID_AT = '{"id":"'.length;
const OPENING_LENGTH = EVENT_ID_AT + 37;

/** An outbox entry as a pending view's JSON; an entry written before the outbox held views (a record with its eventId) is converted. */
function pendingViewJson(payload: string): string {
  if (PENDING_VIEW_OPENING.test(payload)) return payload;
  const { eventId, ...record } = JSON.parse(payload) as NewAuditRecord & { eventId: string };
  return JSON.stringify(toPendingView(eventId, record));
}

/** The view of a stored event: its pending view with the sequence after the id, where toView puts it. */
function withSequence(pendingView: string, sequence: string): string {
  return `${pendingView.slice(0, OPENING_LENGTH)},"sequence":"${sequence}"${pendingView.slice(OPENING_LENGTH)}`;
}
