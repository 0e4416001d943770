import { type DynamicModule, Global, Module } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger';
import { AppConfig } from './app-config';

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig, clock: Clock, logger: Logger): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: Clock, useValue: clock },
        { provide: LOGGER, useValue: logger },
      ],
      exports: [AppConfig, Clock, LOGGER],
    };
  }
}
