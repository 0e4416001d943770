import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { Clock } from './common/clock';
import { createLogger, NestPinoLogger } from './common/logger';
import { Metrics } from './common/metrics';
import { normalizeIp, requestContext } from './common/request-context';
import type { AppConfig } from './config/app-config';
import { setupOpenApiDocs } from './ops/openapi';

export interface CreateAppOptions {
  /** Where the JSON log lines go (stdout by default); specs read them back. */
  logDestination?: DestinationStream;
  /** Specs pass a clock they can move. */
  clock?: Clock;
}

const REQUEST_ID = /^[\w.:-]{1,64}$/;

/** Builds the whole application on Fastify, ready to listen; main.ts and the specs share it. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const logger = createLogger(config.logLevel, options.logDestination);
  const adapter = new FastifyAdapter({
    trustProxy: config.trustProxy,
    bodyLimit: 64 * 1024,
    logger: false,
    genReqId: (request: { headers: Record<string, string | string[] | undefined> }) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, options.clock ?? new Clock(), logger), adapter, {
    logger: new NestPinoLogger(logger),
    abortOnError: false,
  });

  const metrics = app.get(Metrics);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id);
    const userAgent = request.headers['user-agent'];
    requestContext.run(
      { requestId: request.id, ip: normalizeIp(request.ip), userAgent: (userAgent ?? '').slice(0, 512) },
      done,
    );
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.httpRequests.observe({ route, method: request.method, status: String(reply.statusCode) }, seconds);
    logger.info({
      msg: 'request',
      reqId: request.id,
      method: request.method,
      route,
      path: request.url.split('?')[0],
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      ip: request.ip,
    });
    done();
  });

  setupOpenApiDocs(app, config);
  await app.init();
  return app;
}
