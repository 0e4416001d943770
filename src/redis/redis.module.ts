import { Global, Module, type Provider } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { MemoryCounterStore, MemoryOnceStore, MemoryValueStore } from './memory-once.store';
import { CounterStore, OnceStore, ValueStore } from './once.store';
import { REDIS } from './redis.token';
import { createRedisConnection, type RedisConnection } from './redis-connection';
import { RedisHealthStore } from './redis-health.store';
import { RedisCounterStore, RedisOnceStore, RedisValueStore } from './redis-once.store';

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

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        config.redisUrl ? createRedisConnection(config.redisUrl, config.redisKeyPrefix) : null,
    },
    RedisHealthStore,
    storeProvider(OnceStore, RedisOnceStore, MemoryOnceStore),
    storeProvider(CounterStore, RedisCounterStore, MemoryCounterStore),
    storeProvider(ValueStore, RedisValueStore, MemoryValueStore),
  ],
  exports: [REDIS, RedisHealthStore, OnceStore, CounterStore, ValueStore],
})
export class RedisModule {}
