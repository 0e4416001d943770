import { IncomingMessage, ServerResponse } from 'node:http';
import { ExpressAdapter } from '@nestjs/platform-express';
import express, { type NextFunction, type Response } from 'express';
import { attachRequestContext, normalizeIp } from '../common/request-context';
import { readBody } from './express-body';
import { answerClientError, createEdgeServer, type EdgeOptions, type HttpEdge, requestIdFrom } from './http-edge';

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
      // Node makes each request and response with Express's prototypes already: Express sets both
      // prototypes on every request it handles, and setting the one an object has changes nothing.
      this.httpServer = createEdgeServer(instance, {
        IncomingMessage: madeWithPrototype<typeof IncomingMessage>(IncomingMessage, instance.request),
        ServerResponse: madeWithPrototype<typeof ServerResponse>(ServerResponse, instance.response),
      });
      this.httpServer.on('clientError', answerClientError);
    }

    /**
     * Text a route typed itself goes out as set (Express would reorder the
     * parameters of its Content-Type, Fastify does not); JSON is written
     * straight to Node, past Express's send (no ETag, no freshness check
     * apply to these answers). Anything else takes Nest's way.
     */
    override reply(response: Response, body: unknown, statusCode?: number) {
      const typed = response.getHeader('Content-Type');
      if (typeof body === 'string' && typed !== undefined) {
        if (statusCode) response.status(statusCode);
        return response.send(Buffer.from(body));
      }
      if (!isPlainJson(body) || (typed !== undefined && !String(typed).startsWith('application/json'))) return super.reply(response, body, statusCode);
      if (statusCode) response.statusCode = statusCode;
      const text = JSON.stringify(body);
      if (typed === undefined) response.setHeader('Content-Type', 'application/json; charset=utf-8');
      response.setHeader('Content-Length', Buffer.byteLength(text));
      response.end(text);
    }
  }

  const adapter = new EdgeExpressAdapter(instance);
  return {
    adapter,
    nestOptions: { bodyParser: false },
    install() {
      // One hook for the whole edge (a router layer each cost more than the work they did), run by the
      // layer Nest's ExpressAdapter always puts first, so Express walks no layer of ours.
      adapter.setOnRequestHook((request, response, done) => {
        // Express's next, which also takes an error.
        const next = done as NextFunction;
        const started = performance.now();
        const requestId = requestIdFrom(request.headers['x-request-id']);
        // Express computes it from the proxy settings on every read.
        const ip = request.ip ?? '';
        response.setHeader('X-Request-Id', requestId);
        // 'finish' comes once per response; `on` spares the wrapper `once` builds.
        response.on('finish', () =>
          hooks.finished({
            requestId,
            method: request.method,
            route: typeof request.route?.path === 'string' ? request.route.path : 'unmatched',
            path: (request.originalUrl ?? request.url).split('?')[0],
            status: response.statusCode,
            ms: Math.round((performance.now() - started) * 10) / 10,
            ip,
          }),
        );
        const userAgent = request.headers['user-agent'];
        attachRequestContext(request, { requestId, ip: normalizeIp(ip), userAgent: (userAgent ?? '').slice(0, 512) });
        readBody(request, response, next);
      });
    },
  };
}

/**
 * A constructor that builds what `base` builds, on `prototype` (which must
 * inherit from `base.prototype`). Node's message classes are plain functions
 * underneath, so they can construct an object made here.
 */
function madeWithPrototype<T extends abstract new (...args: any[]) => object>(base: T, prototype: object): T {
  function Made(this: object, ...args: unknown[]) {
    Reflect.apply(base, this, args);
  }
  Made.prototype = prototype;
  return Made as unknown as T;
}

/** A plain object or array: what Nest would hand to Express's res.json. */
function isPlainJson(body: unknown): body is object {
  if (body === null || typeof body !== 'object') return false;
  const prototype = Object.getPrototypeOf(body);
  return prototype === Object.prototype || prototype === null || Array.isArray(body);
}
