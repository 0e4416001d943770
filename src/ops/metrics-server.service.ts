import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger';
import { Metrics, PROMETHEUS_CONTENT_TYPE } from '../common/metrics';
import { AppConfig } from '../config/app-config';

/**
 * Prometheus metrics on a listener of their own (METRICS_HOST:METRICS_PORT),
 * so the port the load balancer publishes never shows them. Plain node:http:
 * it answers one path and does not depend on the HTTP adapter of the app.
 */
@Injectable()
export class MetricsServerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private server?: Server;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.metricsPort === undefined) return;
    const server = createServer((request, response) => void this.answer(request, response));
    const { metricsHost: host, metricsPort: port } = this.config;
    await new Promise<void>((resolve, reject) => {
      const fail = (error: NodeJS.ErrnoException) =>
        reject(new Error(`Metrics cannot listen on ${host}:${port} (METRICS_HOST, METRICS_PORT): ${error.code ?? error.message}`));
      server.once('error', fail);
      server.listen(port, host, () => {
        server.off('error', fail);
        resolve();
      });
    });
    this.server = server;
    this.logger.info({ msg: 'metrics listening', host, port });
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      reply(response, 404, 'application/json; charset=utf-8', JSON.stringify({ error: 'not_found', error_description: 'No such endpoint' }));
      return;
    }
    try {
      reply(response, 200, PROMETHEUS_CONTENT_TYPE, request.method === 'HEAD' ? '' : await this.metrics.registry.metrics());
    } catch (error) {
      this.logger.error({ msg: 'metrics not collected', error: (error as Error)?.message });
      reply(response, 500, 'application/json; charset=utf-8', JSON.stringify({ error: 'server_error', error_description: 'Metrics could not be collected' }));
    }
  }
}

function reply(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  response.end(body);
}
