import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { ThrottlerModule } from '@nestjs/throttler';
import { AdminModule } from './admin/admin.module';
import { AuditApiModule } from './audit/audit-api.module';
import type { Logger } from 'pino';
import type { Clock } from './common/clock';
import { ClientsModule } from './clients/clients.module';
import { MetricsModule } from './common/metrics';
import { OAuthExceptionFilter } from './common/oauth-exception.filter';
import { throttlers } from './rate-limit/rate-limit';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { ConsoleModule } from './console/console.module';
import { DatabaseModule } from './database/database.module';
import { DeviceFlowModule } from './device-flow/device-flow.module';
import { OpsModule } from './ops/ops.module';
import { RedisModule } from './redis/redis.module';
import { REDIS } from './redis/redis.token';
import type { RedisConnection } from './redis/redis-connection';
import { RedisThrottlerStorage } from './redis/redis-throttler.store';
import { RetentionModule } from './retention/retention.module';
import { SsoBridgeModule } from './sso-bridge/sso-bridge.module';
import { TokensModule } from './tokens/tokens.module';
import { WebModule } from './web/web.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, clock: Clock, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config, clock, logger),
        MetricsModule,
        ScheduleModule.forRoot(),
        DatabaseModule,
        RedisModule,
        ThrottlerModule.forRootAsync({
          inject: [AppConfig, REDIS],
          useFactory: (appConfig: AppConfig, redis: RedisConnection | null) => ({
            throttlers: throttlers(appConfig.rateLimits),
            storage: redis ? new RedisThrottlerStorage(redis) : undefined,
          }),
        }),
        // Express tries routes in the order modules register them: the hot OAuth endpoints first.
        DeviceFlowModule,
        TokensModule,
        ClientsModule,
        AuditApiModule,
        AdminModule,
        SsoBridgeModule,
        WebModule,
        ConsoleModule,
        OpsModule.forRoot(config),
        RetentionModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: OAuthExceptionFilter }],
    };
  }
}
