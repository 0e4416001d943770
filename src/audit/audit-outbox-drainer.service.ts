import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type BeforeApplicationShutdown, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Clock } from '../common/clock';
import { Metrics } from '../common/metrics';
import { AppConfig } from '../config/app-config';
import { AuditOutboxStore, type OutboxLag } from './audit-outbox.store';
import { AuditService } from './audit.service';

const BATCH = 500;
/** An entry another drainer took this long ago without acknowledging it is taken over (that drainer died). */
export const ABANDONED_AFTER_MS = 30_000;

/**
 * Under sustained issuance, how long a drain waits after the previous one:
 * the events of that pause share one batch (one INSERT, one acknowledgement)
 * instead of each drain taking the few that arrived during the last one.
 */
const FOLLOW_UP_PAUSE_MS = 25;

/**
 * Copies the audit outbox into audit_events off the request path: in
 * batches, soon after each write (`kick`) and every
 * AUDIT_OUTBOX_DRAIN_INTERVAL. Each event keeps the id it was given when it
 * entered the outbox, so a batch written twice (a drainer died between its
 * INSERT and its acknowledgement) lands once. The drain after a write takes
 * only fresh entries; entries this drainer failed to write, and those
 * another drainer abandoned, are taken up by the first drain, the interval's
 * and the one after a failure.
 */
@Injectable()
export class AuditOutboxDrainer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('AuditOutbox');
  private readonly consumer = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private again = false;
  private stopping = false;
  /** The next drain looks for entries left unacknowledged (its own after a failure, or another drainer's). */
  private recover = true;

  constructor(
    private readonly outbox: AuditOutboxStore,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
  ) {
    audit.onOutboxWritten(() => this.kick());
    metrics.outboxLagReader = () => this.lag();
  }

  private get enabled(): boolean {
    return this.config.auditOutboxDrainIntervalSeconds > 0 && !this.stopping;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.timer = setInterval(() => {
      this.recover = true;
      this.kick();
    }, this.config.auditOutboxDrainIntervalSeconds * 1000);
    this.timer.unref();
    this.kick();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Something entered the outbox: drain soon; writes of the same moment share the batch. */
  kick(): void {
    if (!this.enabled) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.start((resolve) => setImmediate(resolve));
  }

  private start(wait: (resolve: () => void) => void): void {
    this.running = new Promise<void>(wait)
      .then(() => this.drainAll())
      .catch((error: Error) => {
        this.metrics.auditOutboxDrainFailures.inc();
        this.logger.error({ msg: 'audit outbox drain failed', error: error.message });
        return 0;
      })
      .finally(() => {
        this.running = undefined;
        if (this.again && this.enabled) {
          this.again = false;
          this.start((resolve) => setTimeout(resolve, FOLLOW_UP_PAUSE_MS));
        }
      });
  }

  /** Drains until the outbox is empty (after any drain in progress); the number of events this call wrote. */
  async drain(): Promise<number> {
    await this.running?.catch(() => undefined);
    this.recover = true;
    return this.drainAll();
  }

  async lag(): Promise<OutboxLag> {
    const lag = await this.outbox.lag(this.clock.now());
    this.metrics.auditOutboxLength.set(lag.length);
    this.metrics.auditOutboxOldestAge.set(lag.oldestAgeMs / 1000);
    return lag;
  }

  private async drainAll(): Promise<number> {
    try {
      return await this.drainBatches();
    } catch (error) {
      // What this drainer took and did not acknowledge is its own to retry.
      this.recover = true;
      throw error;
    }
  }

  private async drainBatches(): Promise<number> {
    let written = 0;
    for (;;) {
      const recover = this.recover;
      const entries = await this.outbox.take(this.consumer, BATCH, recover ? ABANDONED_AFTER_MS : undefined);
      // A full batch may have left more unacknowledged entries behind it.
      this.recover = recover && entries.length === BATCH;
      let done = entries;
      try {
        written += await this.audit.writeDrained(entries.map((entry) => entry.payload));
      } catch (error) {
        if (entries.length === 1) throw error;
        // One event Postgres refuses must not hold the others back: it stays in the outbox, and the next drain retries it.
        done = [];
        for (const entry of entries) {
          const one = await this.audit.writeDrained([entry.payload]).then(
            (count) => count,
            () => undefined,
          );
          if (one === undefined) continue;
          written += one;
          done.push(entry);
        }
      }
      await this.outbox.acknowledge(done.map((entry) => entry.id));
      this.metrics.auditOutboxDrained.inc(done.length);
      if (done.length < entries.length) throw new Error(`${entries.length - done.length} audit events could not be written`);
      if (entries.length < BATCH || this.stopping) break;
    }
    return written;
  }
}
