import { Controller, Get, Header, HttpCode } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { DatabaseHealthRepository } from '../database/database-health.repository';
import { RedisHealthStore } from '../redis/redis-health.store';
import { TemporarilyUnavailable } from '../common/oauth-errors';

@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(
    private readonly database: DatabaseHealthRepository,
    private readonly redis: RedisHealthStore,
  ) {}

  /** Liveness: the process answers. */
  @Get('healthz')
  @Header('Cache-Control', 'no-store')
  healthz() {
    return { status: 'ok' };
  }

  /** Readiness: Postgres and Redis both answer. */
  @Get('readyz')
  @Header('Cache-Control', 'no-store')
  @HttpCode(200)
  async readyz() {
    const [postgres, redis] = await Promise.all([this.database.ping(), this.redis.ping()]);
    if (!postgres || !redis) {
      const down = [!postgres && 'postgres', !redis && 'redis'].filter(Boolean).join(' and ');
      throw new TemporarilyUnavailable(`Not ready: ${down} unreachable`);
    }
    return { status: 'ready', postgres: 'up', redis: 'up' };
  }
}
