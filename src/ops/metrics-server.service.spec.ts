import { createServer, type Server } from 'node:net';
import pino from 'pino';
import { Metrics } from '../common/metrics';
import type { AppConfig } from '../config/app-config';
import { MetricsServerService } from './metrics-server.service';

const silent = pino({ level: 'silent' });

function service(metricsPort: number | undefined): MetricsServerService {
  return new MetricsServerService({ metricsPort, metricsHost: '127.0.0.1' } as AppConfig, new Metrics(), silent);
}

async function listening(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('MetricsServerService', () => {
  it('opens no listener without METRICS_PORT', async () => {
    const metrics = service(undefined);
    await metrics.onApplicationBootstrap();
    await metrics.onApplicationShutdown();
  });

  it('says which setting to change when the port is taken', async () => {
    const taken = await listening();
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(service(port).onApplicationBootstrap()).rejects.toThrow(
        `Metrics cannot listen on 127.0.0.1:${port} (METRICS_HOST, METRICS_PORT): EADDRINUSE`,
      );
    } finally {
      taken.close();
    }
  });

  it('answers GET and HEAD /metrics, and a JSON 404 for the rest', async () => {
    const free = await listening();
    const port = (free.address() as { port: number }).port;
    await new Promise((resolve) => free.close(resolve));
    const metrics = service(port);
    await metrics.onApplicationBootstrap();
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics?x=1`)).text();
      expect(text).toMatch(/^# HELP devicegate_tokens_minted_total /m);
      const head = await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      const other = await fetch(`http://127.0.0.1:${port}/metrics/extra`);
      expect(other.status).toBe(404);
      expect(await other.json()).toEqual({ error: 'not_found', error_description: 'No such endpoint' });
    } finally {
      await metrics.onApplicationShutdown();
    }
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});
