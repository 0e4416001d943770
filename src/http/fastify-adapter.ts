import type { RequestListener } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { attachRequestContext, normalizeIp } from '../common/request-context';
import { pageHeaders, wantsPage } from '../common/oauth-exception.filter';
import { signInErrorPage } from '../web/sign-in-error.view';
import { answerClientError, BODY_LIMIT_BYTES, createEdgeServer, type EdgeOptions, errorBody, type HttpEdge, jsonHeaders, requestIdFrom } from './http-edge';
import { useLeanAsyncResourceBind } from './lean-async-bind';

/** Fastify's part of the edge: the same server, body limits and request hooks as on Express. */
export function fastifyEdge({ trustProxy, hooks }: EdgeOptions): HttpEdge {
  // Fastify's body parsing binds a callback per request; see lean-async-bind.ts.
  useLeanAsyncResourceBind();
  const adapter = new FastifyAdapter({
    trustProxy,
    bodyLimit: BODY_LIMIT_BYTES,
    logger: false,
    genReqId: (request: { headers: Record<string, string | string[] | undefined> }) => requestIdFrom(request.headers['x-request-id']),
    serverFactory: (handler: RequestListener) => createEdgeServer(handler),
    clientErrorHandler: answerClientError,
    // A request target Fastify cannot route (a bad %-escape): the answer the exception filter gives any bad request.
    frameworkErrors: (_error: Error, request: FastifyRequest, reply: FastifyReply) => {
      const description = 'The request target is not a valid URL';
      reply.header('X-Request-Id', request.id).code(400);
      if (wantsPage(request)) {
        const page = signInErrorPage(description, request.headers['accept-language']);
        reply.headers({ ...pageHeaders(page.locale), 'Cache-Control': 'no-store', Pragma: 'no-cache' }).send(page.html);
        return;
      }
      const body = errorBody('invalid_request', description);
      reply.headers(jsonHeaders(body)).send(body);
    },
  });
  return {
    adapter,
    nestOptions: {},
    install(nest: INestApplication) {
      const fastify = (nest as NestFastifyApplication).getHttpAdapter().getInstance();
      fastify.addHook('onRequest', (request, reply, done) => {
        reply.header('X-Request-Id', request.id);
        const userAgent = request.headers['user-agent'];
        attachRequestContext(request.raw, { requestId: request.id, ip: normalizeIp(request.ip), userAgent: (userAgent ?? '').slice(0, 512) });
        done();
      });
      fastify.addHook('onResponse', (request, reply, done) => {
        hooks.finished({
          requestId: request.id,
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          path: request.url.split('?')[0],
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          ip: request.ip,
        });
        done();
      });
    },
  };
}
