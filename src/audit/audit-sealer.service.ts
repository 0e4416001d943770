import { type BeforeApplicationShutdown, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { Metrics } from '../common/metrics';
import { AppConfig } from '../config/app-config';
import { eventDigest, GENESIS_DIGEST, sealDigest } from './audit-canonical';
import { AuditSealRepository } from './audit-seal.repository';

export const SEALER_JOB = 'audit-sealer';

/** Events per seal. */
export const SEAL_BATCH_SIZE = 1000;

/** How long sealPending() waits for a sealer of another instance before it gives up. */
const LOCK_ATTEMPTS = 200;
const LOCK_RETRY_MS = 50;

export interface SealResult {
  seals: number;
  events: number;
}

/**
 * Extends the digest chain over the audit events, one seal per batch, in id
 * order. Writers never wait for it: it runs on a schedule, seals only events
 * recorded more than AUDIT_SEAL_LAG ago (so a transaction still in flight
 * cannot commit an event behind the chain), and one instance at a time holds
 * the sealer's advisory lock.
 */
@Injectable()
export class AuditSealerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('AuditSealer');
  private scheduledRun?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly seals: AuditSealRepository,
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = this.config.auditSealIntervalSeconds;
    if (seconds <= 0) return;
    this.scheduler.addInterval(SEALER_JOB, setInterval(() => this.runScheduled(), seconds * 1000));
  }

  /** A scheduled run stops after its current batch, before the database connection closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.scheduledRun;
  }

  /** Seals everything eligible now; when another instance is sealing, waits for the lock rather than skipping. */
  sealPending(): Promise<SealResult> {
    return this.seal(true);
  }

  private runScheduled(): void {
    if (this.scheduledRun) return;
    this.scheduledRun = this.seal(false)
      .then(() => undefined)
      .catch((error: Error) => {
        this.metrics.auditSealFailures.inc();
        this.logger.error({ msg: 'audit sealing failed', error: error.message });
      })
      .finally(() => (this.scheduledRun = undefined));
  }

  private async seal(waitForLock: boolean): Promise<SealResult> {
    const result: SealResult = { seals: 0, events: 0 };
    let attempts = 0;
    while (!this.stopping) {
      const sealed = await this.seals.withSealerLock((manager) => this.sealBatch(manager));
      if (sealed === undefined) {
        if (!waitForLock) return result;
        if (++attempts >= LOCK_ATTEMPTS) {
          throw new Error(`another sealer held the audit sealer lock for ${(LOCK_ATTEMPTS * LOCK_RETRY_MS) / 1000} s`);
        }
        await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
        continue;
      }
      if (sealed === 0) return result;
      // The chain's head, in the log shippers' hands too: an anchor outside the database that a rewrite cannot reach.
      this.logger.log({ msg: 'audit sealed', seq: sealed.seq, last_event_id: sealed.lastEventId, digest: sealed.digest, events: sealed.events });
      result.seals += 1;
      result.events += sealed.events;
      this.metrics.auditSeals.inc();
      this.metrics.auditEventsSealed.inc(sealed.events);
      this.metrics.auditLastSeal.set(this.clock.now() / 1000);
      // A short batch means the next event is too young (or there is none): the next run takes it.
      if (sealed.events < SEAL_BATCH_SIZE) return result;
    }
    return result;
  }

  /** One seal over the next unbroken run of eligible events; 0 when none is eligible. */
  private async sealBatch(manager: EntityManager): Promise<0 | { seq: number; lastEventId: string; digest: string; events: number }> {
    const head = await this.seals.newestSeal(manager);
    const events = await this.seals.sealableEvents(manager, head?.lastEventId ?? '0', this.config.auditSealLagSeconds, SEAL_BATCH_SIZE);
    if (events.length === 0) return 0;
    const previousDigest = head?.digest ?? GENESIS_DIGEST;
    const eventDigests = events.map(eventDigest);
    const seal = {
      seq: (head?.seq ?? 0) + 1,
      firstEventId: events[0].id,
      lastEventId: events[events.length - 1].id,
      eventIds: events.map((event) => event.id),
      eventDigests,
      previousDigest,
      digest: sealDigest(previousDigest, eventDigests),
    };
    await this.seals.insertSeal(manager, seal);
    return { seq: seal.seq, lastEventId: seal.lastEventId, digest: seal.digest, events: events.length };
  }
}
