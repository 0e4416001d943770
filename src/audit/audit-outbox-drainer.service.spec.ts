import { Clock } from '../common/clock';
import { Metrics } from '../common/metrics';
import type { AppConfig } from '../config/app-config';
import { ABANDONED_AFTER_MS, AuditOutboxDrainer } from './audit-outbox-drainer.service';
import { AuditOutboxStore, type OutboxEntry, type OutboxLag } from './audit-outbox.store';
import type { AuditService } from './audit.service';

/** An outbox that records how each take was asked for, and hands out what a spec queues. */
class RecordingOutbox extends AuditOutboxStore {
  readonly takes: (number | undefined)[] = [];
  readonly queued: OutboxEntry[] = [];

  async take(_consumer: string, count: number, recoverIdleMs?: number): Promise<OutboxEntry[]> {
    this.takes.push(recoverIdleMs);
    return this.queued.splice(0, count);
  }

  async acknowledge(): Promise<void> {}

  async lag(): Promise<OutboxLag> {
    return { length: this.queued.length, oldestAgeMs: 0 };
  }
}

const settle = (ms = 60) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Nothing Redis kept is lost when a drainer dies or a write fails: the drain
 * after an issuance takes only fresh entries, so the first drain, the
 * interval's, an explicit drain and the drain after a failure must look for
 * unacknowledged ones (the drainer's own, and those another drainer left).
 */
describe('AuditOutboxDrainer: which drains recover unacknowledged entries', () => {
  let outbox: RecordingOutbox;
  let drainer: AuditOutboxDrainer;
  let writeDrained: jest.Mock;
  let written: () => void;

  beforeEach(() => {
    outbox = new RecordingOutbox();
    writeDrained = jest.fn(async (payloads: string[]) => payloads.length);
    const audit = {
      writeDrained,
      onOutboxWritten: (listener: () => void) => (written = listener),
    } as unknown as AuditService;
    const config = { auditOutboxDrainIntervalSeconds: 1 } as AppConfig;
    drainer = new AuditOutboxDrainer(outbox, audit, config, new Metrics(), new Clock());
  });

  afterEach(() => drainer.beforeApplicationShutdown());

  it('recovers on the first drain, takes only fresh entries after an issuance, and recovers again on the interval', async () => {
    drainer.onApplicationBootstrap();
    await settle();
    expect(outbox.takes).toEqual([ABANDONED_AFTER_MS]);

    written();
    await settle();
    expect(outbox.takes).toEqual([ABANDONED_AFTER_MS, undefined]);

    await settle(1_100);
    expect(outbox.takes.at(-1)).toBe(ABANDONED_AFTER_MS);
  });

  it('recovers on the drain after a failed write, and on an explicit drain', async () => {
    drainer.onApplicationBootstrap();
    await settle();
    outbox.queued.push({ id: '1', payload: '{}' });
    writeDrained.mockRejectedValueOnce(new Error('Postgres is away'));
    written();
    await settle();
    expect(outbox.takes.slice(1)).toEqual([undefined]);

    written();
    await settle();
    expect(outbox.takes.slice(1)).toEqual([undefined, ABANDONED_AFTER_MS]);

    written();
    await settle();
    await drainer.drain();
    expect(outbox.takes.slice(1)).toEqual([undefined, ABANDONED_AFTER_MS, undefined, ABANDONED_AFTER_MS]);
  });
});
