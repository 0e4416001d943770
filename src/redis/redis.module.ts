import { Global, Inject, Injectable, Logger, Module, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { MemoryCounterStore, MemoryOnceStore } from './memory-once.store';
import { CounterStore, OnceStore } from './once.store';
import { createRedisConnection, type RedisConnection } from './redis-connection';
import { RedisCounterStore, RedisOnceStore } from './redis-once.store';

/** The shared ioredis connection, or null in the embedded dev mode. */
export const REDIS = Symbol('REDIS');

type Port<T> = abstract new (...args: never[]) => T;

/** Binds a store port to its Redis implementation, or to the in-process one in dev mode. */
export function storeProvider<T>(
  port: Port<T>,
  redisImplementation: new (redis: RedisConnection, clock: Clock) => T,
  memoryImplementation: new (clock: Clock) => T,
): Provider {
  return {
    provide: port,
    inject: [REDIS, Clock],
    useFactory: (redis: RedisConnection | null, clock: Clock) =>
      redis ? new redisImplementation(redis, clock) : new memoryImplementation(clock),
  };
}

@Injectable()
export class RedisHealth implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');

  constructor(@Inject(REDIS) private readonly redis: RedisConnection | null) {
    this.redis?.on('error', (error: Error) => this.logger.warn(`Redis connection problem: ${error.message}`));
  }

  async ping(): Promise<boolean> {
    if (!this.redis) return true;
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.redis && this.redis.status !== 'end') await this.redis.quit().catch(() => this.redis?.disconnect());
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        config.redisUrl ? createRedisConnection(config.redisUrl, config.redisKeyPrefix) : null,
    },
    RedisHealth,
    storeProvider(OnceStore, RedisOnceStore, MemoryOnceStore),
    storeProvider(CounterStore, RedisCounterStore, MemoryCounterStore),
  ],
  exports: [REDIS, RedisHealth, OnceStore, CounterStore],
})
export class RedisModule {}
