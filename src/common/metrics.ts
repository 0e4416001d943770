import { Global, Injectable, Module } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The Prometheus registry of one app instance (a registry per instance keeps test apps apart). */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Histogram({
    name: 'devicegate_http_request_duration_seconds',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly deviceAuthorizations = new Counter({
    name: 'devicegate_device_authorizations_total',
    help: 'Device codes issued',
    labelNames: ['client_id'] as const,
    registers: [this.registry],
  });

  readonly polls = new Counter({
    name: 'devicegate_token_polls_total',
    help: 'Device-code token requests by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly decisions = new Counter({
    name: 'devicegate_device_decisions_total',
    help: 'Approvals and denials',
    labelNames: ['decision'] as const,
    registers: [this.registry],
  });

  readonly tokensMinted = new Counter({
    name: 'devicegate_tokens_minted_total',
    help: 'Access tokens delivered, and how many of them rotated an earlier one',
    labelNames: ['rotated'] as const,
    registers: [this.registry],
  });

  /** Hits of the per-instance token cache since the last scrape: a plain count per bearer check, not a labelled increment. */
  private localTokenLookups = 0;

  readonly tokenLookups: Counter<'source'> = new Counter({
    name: 'devicegate_token_lookups_total',
    help: 'Bearer and introspected tokens looked up, by where the answer came from (local, shared, database)',
    labelNames: ['source'] as const,
    registers: [this.registry],
    collect: () => {
      if (this.localTokenLookups === 0) return;
      this.tokenLookups.inc({ source: 'local' }, this.localTokenLookups);
      this.localTokenLookups = 0;
    },
  });

  /** One answer from the per-instance token cache; added to tokenLookups{source="local"} when Prometheus scrapes. */
  countLocalTokenLookup(): void {
    this.localTokenLookups += 1;
  }

  readonly tokenInvalidations = new Counter({
    name: 'devicegate_token_invalidations_received_total',
    help: 'Token hashes this instance dropped from its cache because a revocation announced them',
    registers: [this.registry],
  });

  readonly tokenInvalidationsUnconfirmed = new Counter({
    name: 'devicegate_token_invalidations_unconfirmed_total',
    help: 'Instances that received a token invalidation this instance announced but did not confirm dropping it in time',
    registers: [this.registry],
  });

  readonly userCodeFailures = new Counter({
    name: 'devicegate_user_code_failures_total',
    help: 'User codes entered that were unknown, expired or used',
    registers: [this.registry],
  });

  readonly auditSeals = new Counter({
    name: 'devicegate_audit_seals_total',
    help: 'Seals this instance added to the audit digest chain',
    registers: [this.registry],
  });

  readonly auditEventsSealed = new Counter({
    name: 'devicegate_audit_events_sealed_total',
    help: 'Audit events this instance sealed into the digest chain',
    registers: [this.registry],
  });

  readonly auditLastSeal = new Gauge({
    name: 'devicegate_audit_last_seal_timestamp_seconds',
    help: 'When this instance last added a seal to the audit digest chain (Unix time)',
    registers: [this.registry],
  });

  /** Reads the outbox's lag into the two gauges below; the drainer provides it, and each scrape calls it once. */
  outboxLagReader?: () => Promise<unknown>;
  private outboxLagRead?: Promise<void>;

  readonly auditOutboxLength = new Gauge({
    name: 'devicegate_audit_outbox_length',
    help: 'Audit events in the outbox, not yet drained into audit_events (read at each scrape)',
    registers: [this.registry],
    collect: () => this.readOutboxLag(),
  });

  readonly auditOutboxOldestAge = new Gauge({
    name: 'devicegate_audit_outbox_oldest_age_seconds',
    help: 'Age of the oldest audit event not yet drained into audit_events (read at each scrape)',
    registers: [this.registry],
    collect: () => this.readOutboxLag(),
  });

  readonly auditOutboxDrained = new Counter({
    name: 'devicegate_audit_outbox_drained_total',
    help: 'Audit events this instance drained from the outbox into audit_events',
    registers: [this.registry],
  });

  readonly auditOutboxDrainFailures = new Counter({
    name: 'devicegate_audit_outbox_drain_failures_total',
    help: 'Outbox drains that failed (the events stay in the outbox for the next drain)',
    registers: [this.registry],
  });

  readonly auditSealFailures = new Counter({
    name: 'devicegate_audit_seal_failures_total',
    help: 'Scheduled sealer runs that failed',
    registers: [this.registry],
  });

  readonly retentionRows = new Counter({
    name: 'devicegate_retention_rows_total',
    help: 'Rows the RetentionPruner changed, by kind: token_hard_expired, token_deleted, audit_event_deleted, audit_seal_deleted',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly retentionRuns = new Counter({
    name: 'devicegate_retention_runs_total',
    help: 'RetentionPruner runs by outcome: success, partial (stopped at the per-run cap or by shutdown), failure, skipped (another runner held the lock)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly retentionRunDuration = new Histogram({
    name: 'devicegate_retention_run_duration_seconds',
    help: 'How long RetentionPruner runs took, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
    registers: [this.registry],
  });

  readonly retentionLastSuccess = new Gauge({
    name: 'devicegate_retention_last_success_timestamp_seconds',
    help: 'When this instance last finished a RetentionPruner run (Unix time)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Both outbox gauges share one read per scrape; a read that fails (Redis down) leaves the last values. */
  private readOutboxLag(): Promise<void> | undefined {
    if (!this.outboxLagReader) return undefined;
    this.outboxLagRead ??= this.outboxLagReader()
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => (this.outboxLagRead = undefined));
    return this.outboxLagRead;
  }
}

@Global()
@Module({ providers: [Metrics], exports: [Metrics] })
export class MetricsModule {}
