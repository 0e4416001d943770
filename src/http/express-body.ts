import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'fast-querystring';
import { BODY_LIMIT_BYTES } from './http-edge';

/**
 * The request body as Fastify reads it, on Express: JSON (any JSON value),
 * flat forms (repeated names become arrays, parsed by the same
 * fast-querystring Fastify uses) and plain text, up to 64 KiB, UTF-8 (forms
 * also ISO-8859-1), without Content-Encoding. One reader for all three
 * instead of a body-parser middleware each.
 *
 * Refusals carry the status the exception filter turns into an RFC 6749
 * error: 413 too large, 415 another media type, charset or encoding, 400
 * unreadable JSON or a body cut short.
 */
export function readBody(request: IncomingMessage & { body?: unknown }, response: ServerResponse, done: (error?: Error) => void): void {
  const chunked = request.headers['transfer-encoding'] !== undefined;
  const declaredLength = request.headers['content-length'];
  if (!chunked && declaredLength === undefined) return done();
  const { kind, charset } = mediaType(request.headers['content-type']);
  if (kind === undefined) return !chunked && declaredLength === '0' ? done() : done(refusal(415, 'Unsupported Media Type'));
  if (charset !== undefined && charset !== 'utf-8' && !(kind === 'form' && charset === 'iso-8859-1')) {
    return done(refusal(415, 'Unsupported charset'));
  }
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return done(refusal(415, 'Unsupported Content-Encoding'));
  if (Number(declaredLength ?? 0) > BODY_LIMIT_BYTES) return done(tooLarge(request, response));

  const chunks: Buffer[] = [];
  let length = 0;
  // The first of end, error or refusal settles the body; the stream is not read further after any of them.
  let settled = false;
  const settle = (error?: Error) => {
    if (settled) return;
    settled = true;
    done(error);
  };
  request.on('data', (chunk: Buffer) => {
    if (settled) return;
    length += chunk.length;
    if (length > BODY_LIMIT_BYTES) return settle(tooLarge(request, response));
    chunks.push(chunk);
  });
  request.on('end', () => {
    if (settled) return;
    const bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length);
    const text = bytes.toString(charset === 'iso-8859-1' ? 'latin1' : 'utf8');
    try {
      request.body = parseAs(kind, text);
    } catch {
      return settle(refusal(400, 'Unreadable JSON'));
    }
    settle();
  });
  // A client that goes away mid-body (Node emits error after aborting the request).
  request.on('error', () => settle(refusal(400, 'The request body could not be read')));
}

type BodyKind = 'json' | 'form' | 'text';

function parseAs(kind: BodyKind, text: string): unknown {
  switch (kind) {
    case 'json':
      return text.length === 0 ? {} : JSON.parse(text);
    case 'form':
      return parseQueryString(text);
    case 'text':
      return text;
  }
}

function mediaType(header: string | undefined): { kind?: BodyKind; charset?: string } {
  if (header === undefined) return {};
  const [essence, ...parameters] = header.split(';');
  const charsetParameter = parameters.map((parameter) => parameter.trim().toLowerCase()).find((parameter) => parameter.startsWith('charset='));
  const charset = charsetParameter?.slice('charset='.length).replace(/^"(.*)"$/, '$1');
  switch (essence.trim().toLowerCase()) {
    case 'application/json':
      return { kind: 'json', charset };
    case 'application/x-www-form-urlencoded':
      return { kind: 'form', charset };
    case 'text/plain':
      return { kind: 'text', charset };
    default:
      return {};
  }
}

/** The rest of the body is not read: the connection closes after the 413. */
function tooLarge(request: IncomingMessage, response: ServerResponse): Error {
  request.pause();
  response.setHeader('Connection', 'close');
  return refusal(413, 'Payload Too Large');
}

function refusal(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { statusCode });
}
