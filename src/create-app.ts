import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { Clock } from './common/clock';
import { createLogger, NestPinoLogger } from './common/logger';
import { Metrics } from './common/metrics';
import type { AppConfig } from './config/app-config';
import { createHttpEdge } from './http/http-adapter';
import { InputShapePipe } from './http/input-shape.pipe';
import { setupOpenApiDocs } from './ops/openapi';

export interface CreateAppOptions {
  /** Where the JSON log lines go (stdout by default); specs read them back. */
  logDestination?: DestinationStream;
  /** Specs pass a clock they can move. */
  clock?: Clock;
}

/** Builds the whole application on the configured HTTP adapter, ready to listen; main.ts and the specs share it. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<INestApplication> {
  const logger = createLogger(config.logLevel, options.logDestination);
  let metrics: Metrics | undefined;
  const edge = createHttpEdge(config.httpAdapter, {
    trustProxy: config.trustProxy,
    hooks: {
      finished: ({ requestId, method, route, path, status, ms, ip }) => {
        metrics?.httpRequests.observe({ route, method, status: String(status) }, ms / 1000);
        logger.info({ msg: 'request', reqId: requestId, method, route, path, status, ms, ip });
      },
    },
  });
  const app = await NestFactory.create(AppModule.forRoot(config, options.clock ?? new Clock(), logger), edge.adapter, {
    logger: new NestPinoLogger(logger),
    abortOnError: false,
    ...edge.nestOptions,
  });
  metrics = app.get(Metrics);
  edge.install(app);
  app.useGlobalPipes(new InputShapePipe());

  setupOpenApiDocs(app, config);
  await app.init();
  return app;
}
