import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AbstractHttpAdapter } from '@nestjs/core';
import type { INestApplication, NestApplicationOptions } from '@nestjs/common';

/** The largest request body either adapter reads (JSON, form or text). */
export const BODY_LIMIT_BYTES = 64 * 1024;
/** A client that has not sent its whole header block by then is cut off. */
export const HEADERS_TIMEOUT_MS = 5_000;
/** A client that has not sent its whole request (headers and body) by then is cut off. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** How often Node checks the two timeouts above. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

const REQUEST_ID = /^[\w.:-]{1,64}$/;

/** The caller's X-Request-Id when it is a sane token, a fresh UUID otherwise. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/** One line of the access log and one sample of the request histogram. */
export interface FinishedRequest {
  requestId: string;
  method: string;
  /** The route template (`/v1/organizations/:org/...`), or `unmatched`. */
  route: string;
  path: string;
  status: number;
  ms: number;
  ip: string;
}

/** What the application does around every request, whichever adapter carries it. */
export interface EdgeHooks {
  finished(request: FinishedRequest): void;
}

export interface EdgeOptions {
  trustProxy: boolean | number | string[];
  hooks: EdgeHooks;
}

/** One adapter's part: the Nest adapter, options for NestFactory.create, and what to install on the app before init. */
export interface HttpEdge {
  adapter: AbstractHttpAdapter;
  nestOptions: NestApplicationOptions;
  install(app: INestApplication): void;
}

/** The classes Node makes each request and response of (its own by default). */
export type EdgeMessages = Pick<ServerOptions, 'IncomingMessage' | 'ServerResponse'>;

/**
 * The Node server under either adapter: header and request timeouts checked
 * every second, so a client that stops sending (an unfinished header block, a
 * body shorter than its Content-Length, an endless chunk) is cut off within
 * seconds; a missing Host header reaches the application, which answers it.
 */
export function createEdgeServer(handler: RequestListener, messages: EdgeMessages = {}): Server {
  const server = createServer(
    {
      ...messages,
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
      requireHostHeader: false,
    },
    handler,
  );
  server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    const body = errorBody('expectation_failed', 'Only "Expect: 100-continue" is supported');
    response.writeHead(417, jsonHeaders(body)).end(body);
  });
  return server;
}

/**
 * Node's HTTP parser refused the request (bad bytes in the request target or
 * a header, Transfer-Encoding with Content-Length, headers too large) or the
 * client was too slow: answer with an RFC 6749 error where the socket still
 * takes one, then close it. No framework sees such a request.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const pending = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || pending?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, description] = clientErrorAnswer(error.code);
  const body = errorBody('invalid_request', description);
  const head = Object.entries({ ...jsonHeaders(body), Connection: 'close' })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${body}`, () => socket.destroy());
}

function clientErrorAnswer(code: string | undefined): [number, string] {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'The request was not received in time'];
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'The request headers are too large'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'The chunk extensions are too large'];
    default:
      return [400, 'The request is not valid HTTP/1.1'];
  }
}

/** An RFC 6749 error body for the places that answer without Nest (the parser, a bad URL). */
export function errorBody(error: string, description: string): string {
  return JSON.stringify({ error, error_description: description });
}

export function jsonHeaders(body: string): Record<string, string> {
  return {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
  };
}
