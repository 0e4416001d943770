import { type DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import type { AppConfig } from '../config/app-config';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { MetricsServerService } from './metrics-server.service';

@Module({})
export class OpsModule {
  /** /metrics is a route of the public port only when no METRICS_PORT gives it a listener of its own. */
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: OpsModule,
      imports: [AuditModule],
      controllers: config.metricsPort === undefined ? [HealthController, MetricsController] : [HealthController],
      providers: [MetricsServerService],
    };
  }
}
