import type { INestApplication } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { normalizeIp } from '../common/request-context';
import { answerClientError, BODY_LIMIT_BYTES, createEdgeServer, type EdgeOptions, type HttpEdge, requestIdFrom } from './http-edge';

/** Express's part of the edge: the same server, body limits, routing and request hooks as on Fastify. */
export function expressEdge({ trustProxy, hooks }: EdgeOptions): HttpEdge {
  const instance = express();
  // Fastify's routing: /healthz/ and /HEALTHZ are not /healthz.
  instance.set('strict routing', true);
  instance.set('case sensitive routing', true);
  instance.set('trust proxy', trustProxy);
  instance.set('etag', false);
  instance.disable('x-powered-by');

  class EdgeExpressAdapter extends ExpressAdapter {
    override initHttpServer(): void {
      this.httpServer = createEdgeServer(this.getInstance());
      this.httpServer.on('clientError', answerClientError);
    }

    // Express would rewrite the Content-Type a route set for its text (reordering its parameters); Fastify sends it as set.
    override reply(response: Response, body: unknown, statusCode?: number) {
      if (typeof body !== 'string' || response.getHeader('Content-Type') === undefined) return super.reply(response, body, statusCode);
      if (statusCode) response.status(statusCode);
      return response.send(Buffer.from(body));
    }
  }

  return {
    adapter: new EdgeExpressAdapter(instance),
    nestOptions: { bodyParser: false },
    install(nest: INestApplication) {
      const app = nest as NestExpressApplication;
      // Fastify's parsers, Express-side: JSON (any JSON value), flat forms, plain text; nothing else.
      const parsers = [
        express.json({ limit: BODY_LIMIT_BYTES, strict: false }),
        express.urlencoded({ limit: BODY_LIMIT_BYTES, extended: false }),
        express.text({ limit: BODY_LIMIT_BYTES, type: 'text/plain' }),
      ];
      // One middleware for the whole edge (a router layer each cost more than the work they did).
      app.use((request: Request, response: Response, next: NextFunction) => {
        const started = process.hrtime.bigint();
        const requestId = requestIdFrom(request.headers['x-request-id']);
        response.setHeader('X-Request-Id', requestId);
        response.once('finish', () =>
          hooks.finished({
            requestId,
            method: request.method,
            route: typeof request.route?.path === 'string' ? request.route.path : 'unmatched',
            path: (request.originalUrl ?? request.url).split('?')[0],
            status: response.statusCode,
            ms: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
            ip: request.ip ?? '',
          }),
        );
        const parse = (index: number, error?: unknown): void => {
          if (error) return next(error);
          if (index < parsers.length) return parsers[index](request, response, (parserError?: unknown) => parse(index + 1, parserError));
          if (hasUnreadBody(request)) return next(Object.assign(new Error('Unsupported Media Type'), { statusCode: 415 }));
          // Entered after the parsers: their callbacks run outside the async context of the request.
          const userAgent = request.headers['user-agent'];
          hooks.enter({ requestId, ip: normalizeIp(request.ip), userAgent: (userAgent ?? '').slice(0, 512) }, next);
        };
        parse(0);
      });
    },
  };
}

/** A body none of the parsers took, as Fastify refuses it with 415. */
function hasUnreadBody(request: Request): boolean {
  if (request.method === 'GET' || request.method === 'HEAD' || request.body !== undefined) return false;
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
