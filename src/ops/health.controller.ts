import { Controller, Get, Header, HttpCode } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AuditOutboxDrainer } from '../audit/audit-outbox-drainer.service';
import { AppConfig } from '../config/app-config';
import { DatabaseHealthRepository } from '../database/database-health.repository';
import { RedisHealthStore } from '../redis/redis-health.store';
import { TemporarilyUnavailable } from '../common/oauth-errors';

@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(
    private readonly database: DatabaseHealthRepository,
    private readonly redis: RedisHealthStore,
    private readonly outbox: AuditOutboxDrainer,
    private readonly config: AppConfig,
  ) {}

  /** Liveness: the process answers. */
  @Get('healthz')
  @Header('Cache-Control', 'no-store')
  healthz() {
    return { status: 'ok' };
  }

  /**
   * Readiness: Postgres and Redis both answer (a Redis Cluster with all its
   * slots, a Sentinel-named master that is one), and the audit outbox is
   * drained within AUDIT_OUTBOX_MAX_LAG.
   */
  @Get('readyz')
  @Header('Cache-Control', 'no-store')
  @HttpCode(200)
  async readyz() {
    const [postgres, redis] = await Promise.all([this.database.ping(), this.redis.unavailability()]);
    const problems = [!postgres && 'postgres unreachable', redis].filter(Boolean);
    if (problems.length > 0) throw new TemporarilyUnavailable(`Not ready: ${problems.join(' and ')}`);
    const lag = await this.outbox.lag().catch(() => undefined);
    if (!lag) throw new TemporarilyUnavailable('Not ready: redis unreachable');
    if (lag.oldestAgeMs > this.config.auditOutboxMaxLagSeconds * 1000) {
      throw new TemporarilyUnavailable(
        `Not ready: the audit outbox is behind (${lag.length} events waiting, the oldest for ${Math.floor(lag.oldestAgeMs / 1000)} s)`,
      );
    }
    return { status: 'ready', postgres: 'up', redis: 'up' };
  }
}
