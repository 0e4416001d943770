import { type BeforeApplicationShutdown, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { userActor } from '../audit/audit-event';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { Metrics } from '../common/metrics';
import { AppConfig } from '../config/app-config';
import { RetentionRepository } from './retention.repository';

export const RETENTION_JOB = 'retention-pruner';

/** Statements per kind of work in one run; what is left waits for the next run. */
export const MAX_BATCHES_PER_RUN = 100;

export interface RetentionRunResult {
  /** Another runner (this instance or another one) held the lock; nothing was done. */
  skipped: boolean;
  /** Stopped at MAX_BATCHES_PER_RUN or by shutdown with work left. */
  partial: boolean;
  tokensHardExpired: number;
  tokensDeleted: number;
  auditEventsDeleted: number;
  auditSealsDeleted: number;
}

type Counts = Omit<RetentionRunResult, 'skipped' | 'partial'>;

const NOTHING: Counts = { tokensHardExpired: 0, tokensDeleted: 0, auditEventsDeleted: 0, auditSealsDeleted: 0 };

/**
 * Applies the retention policy: hard-expires tokens past their lifetime,
 * deletes revoked and expired token rows past TOKEN_RETENTION, and removes
 * whole sealed batches of audit events past AUDIT_RETENTION. One runner at a
 * time across instances, in bounded batches, idempotent.
 */
@Injectable()
export class RetentionPrunerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RetentionPruner');
  private running?: Promise<RetentionRunResult>;
  private stopping = false;

  constructor(
    private readonly retention: RetentionRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    const schedule = this.config.retentionSchedule;
    if (!schedule) return;
    // loadConfig() has validated the expression.
    const job = CronJob.from({ cronTime: schedule, onTick: () => void this.runScheduled() });
    this.scheduler.addCronJob(RETENTION_JOB, job);
    job.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.running?.catch(() => undefined);
  }

  /** One run now; a run already in progress here or on another instance makes this one a skipped no-op. */
  run(): Promise<RetentionRunResult> {
    if (this.running || this.stopping) return Promise.resolve(this.skipped());
    this.running = this.runLocked().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runScheduled(): Promise<void> {
    try {
      await this.run();
    } catch (error) {
      this.logger.error({ msg: 'retention run failed', error: (error as Error).message });
    }
  }

  private async runLocked(): Promise<RetentionRunResult> {
    const started = process.hrtime.bigint();
    const lock = await this.retention.tryLock();
    if (!lock) return this.skipped();
    const counts = { ...NOTHING };
    let partial = false;
    try {
      const now = this.clock.now();
      const tokenCutoff = new Date(now - this.config.tokenRetentionSeconds * 1000);
      const auditCutoff =
        this.config.auditRetentionSeconds === undefined ? undefined : new Date(now - this.config.auditRetentionSeconds * 1000);

      const batchSize = this.config.retentionBatchSize;
      const finished = [
        await this.inBatches(async () => {
          const expired = await this.hardExpireBatch(new Date(now));
          counts.tokensHardExpired += expired;
          this.metrics.retentionRows.inc({ kind: 'token_hard_expired' }, expired);
          return expired === batchSize;
        }),
        await this.inBatches(async () => {
          const deleted = await this.retention.deleteRevokedTokens(tokenCutoff, batchSize);
          counts.tokensDeleted += deleted;
          this.metrics.retentionRows.inc({ kind: 'token_deleted' }, deleted);
          return deleted === batchSize;
        }),
        auditCutoff === undefined ||
          (await this.inBatches(async () => {
            const pruned = await this.retention.pruneAudit(auditCutoff, batchSize);
            counts.auditEventsDeleted += pruned.events;
            counts.auditSealsDeleted += pruned.seals;
            this.metrics.retentionRows.inc({ kind: 'audit_event_deleted' }, pruned.events);
            this.metrics.retentionRows.inc({ kind: 'audit_seal_deleted' }, pruned.seals);
            return pruned.more;
          })),
      ];
      partial = finished.includes(false);

      await this.audit.record({
        origin: null,
        type: 'retention.run',
        outcome: 'success',
        actor: { type: 'system' },
        details: {
          ...countDetails(counts),
          token_cutoff: tokenCutoff.toISOString(),
          audit_cutoff: auditCutoff?.toISOString() ?? null,
          partial,
        },
      });
    } catch (error) {
      this.finish('failure', started);
      await this.recordFailure(counts, error);
      throw error;
    } finally {
      await lock.release();
    }
    this.finish(partial ? 'partial' : 'success', started);
    this.metrics.retentionLastSuccess.set(this.clock.now() / 1000);
    this.logger.log({ msg: 'retention run', partial, ...counts });
    return { skipped: false, partial, ...counts };
  }

  /** Runs `batch` while it reports a full batch, up to the cap; true when the work ran out (not the cap or shutdown). */
  private async inBatches(batch: () => Promise<boolean>): Promise<boolean> {
    for (let count = 0; count < MAX_BATCHES_PER_RUN; count++) {
      if (this.stopping) return false;
      if (!(await batch())) return true;
    }
    return false;
  }

  /** One batch, with one token.hard_expired event per token in the same transaction. */
  private hardExpireBatch(now: Date): Promise<number> {
    return this.audit.transaction(async (transaction) => {
      const tokens = await this.retention.hardExpire(now, this.config.retentionBatchSize, transaction.manager);
      await transaction.record(
        ...tokens.map((token) => ({
          origin: null,
          type: 'token.hard_expired' as const,
          outcome: 'success' as const,
          actor: userActor({
            issuer: token.subjectIssuer,
            email: token.subjectEmail,
            subjectId: token.subjectId,
            externalId: token.subjectExternalId,
          }),
          clientId: token.clientId,
          deviceLabel: token.deviceLabel,
          tokenId: token.id,
          details: { expired_at: token.expiresAt.toISOString() },
        })),
      );
      return tokens.length;
    });
  }

  private async recordFailure(counts: Counts, error: unknown): Promise<void> {
    await this.audit
      .record({
        origin: null,
        type: 'retention.run',
        outcome: 'failure',
        actor: { type: 'system' },
        details: { ...countDetails(counts), error: (error as Error).message },
      })
      .catch(() => undefined);
  }

  private skipped(): RetentionRunResult {
    this.metrics.retentionRuns.inc({ outcome: 'skipped' });
    this.logger.log({ msg: 'retention run skipped: another runner holds the lock' });
    return { skipped: true, partial: false, ...NOTHING };
  }

  private finish(outcome: 'success' | 'partial' | 'failure', started: bigint): void {
    this.metrics.retentionRuns.inc({ outcome });
    this.metrics.retentionRunDuration.observe({ outcome }, Number(process.hrtime.bigint() - started) / 1e9);
  }
}

function countDetails(counts: Counts) {
  return {
    tokens_hard_expired: counts.tokensHardExpired,
    tokens_deleted: counts.tokensDeleted,
    audit_events_deleted: counts.auditEventsDeleted,
    audit_seals_deleted: counts.auditSealsDeleted,
  };
}
