import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Metrics, PROMETHEUS_CONTENT_TYPE } from '../common/metrics';

/** Prometheus metrics on the public port: only when no METRICS_PORT is set, which production never lacks. */
@ApiExcludeController()
@Controller()
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  metricsText() {
    return this.metrics.registry.metrics();
  }
}
