import { Global, Injectable, Module } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

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

  readonly userCodeFailures = new Counter({
    name: 'devicegate_user_code_failures_total',
    help: 'User codes entered that were unknown, expired or used',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

@Global()
@Module({ providers: [Metrics], exports: [Metrics] })
export class MetricsModule {}
