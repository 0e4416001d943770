import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { REDIS } from './redis.token';
import type { RedisConnection } from './redis-connection';

@Injectable()
export class RedisHealthStore implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');

  constructor(@Inject(REDIS) private readonly redis: RedisConnection | null) {
    this.redis?.on('error', (error: Error) => this.logger.warn(`Redis connection problem: ${error.message}`));
  }

  /**
   * Why Redis cannot serve every request, or undefined when it can: it does
   * not answer, a Cluster has lost slots (a master down with no replica to
   * take over), or what Sentinel named the master is not one (yet).
   */
  async unavailability(): Promise<string | undefined> {
    if (!this.redis) return undefined;
    try {
      if (this.redis instanceof Cluster) {
        const info = await this.redis.cluster('INFO');
        return /^cluster_state:ok\b/m.test(info) ? undefined : 'redis cluster has lost slots (cluster_state:fail)';
      }
      if (this.redis.options.sentinels) {
        const [role] = (await this.redis.role()) as [string];
        return role === 'master' ? undefined : 'redis has no master';
      }
      return (await this.redis.ping()) === 'PONG' ? undefined : 'redis unreachable';
    } catch {
      return 'redis unreachable';
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.redis && this.redis.status !== 'end') await this.redis.quit().catch(() => this.redis?.disconnect());
  }
}
