import type { INestApplication } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { normalizeIp } from '../common/request-context';
import { answerClientError, BODY_LIMIT_BYTES, createEdgeServer, type EdgeOptions, type HttpEdge, requestIdFrom } from './http-edge';

const REQUEST_ID = Symbol('devicegate:request-id');

type EdgeRequest = Request & { [REQUEST_ID]?: string };

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
      app.use((request: EdgeRequest, response: Response, next: NextFunction) => {
        const started = process.hrtime.bigint();
        const requestId = requestIdFrom(request.headers['x-request-id']);
        request[REQUEST_ID] = requestId;
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
        next();
      });
      // Fastify's parsers, Express-side: JSON (any JSON value), flat forms, plain text; nothing else.
      app.useBodyParser('json', { limit: BODY_LIMIT_BYTES, strict: false });
      app.useBodyParser('urlencoded', { limit: BODY_LIMIT_BYTES, extended: false });
      app.useBodyParser('text', { limit: BODY_LIMIT_BYTES, type: 'text/plain' });
      app.use((request: Request, _response: Response, next: NextFunction) => {
        next(hasUnreadBody(request) ? Object.assign(new Error('Unsupported Media Type'), { statusCode: 415 }) : undefined);
      });
      // After the parsers: their callbacks run outside the async context of the request.
      app.use((request: EdgeRequest, _response: Response, next: NextFunction) => {
        const userAgent = request.headers['user-agent'];
        hooks.enter(
          { requestId: request[REQUEST_ID] as string, ip: normalizeIp(request.ip), userAgent: (userAgent ?? '').slice(0, 512) },
          next,
        );
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
