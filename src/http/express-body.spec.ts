import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './express-body';
import { BODY_LIMIT_BYTES } from './http-edge';

/** A Node server that answers what readBody made of the request: its body as JSON, or the refusal's status. */
function echoServer(): Server {
  return createServer((request, response) =>
    readBody(request, response, (error) => {
      const status = (error as { statusCode?: number } | undefined)?.statusCode;
      response.writeHead(status ?? 200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(error ? { refused: error.message } : { body: (request as { body?: unknown }).body ?? null }));
    }),
  );
}

describe('readBody (Express)', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = echoServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Node's client, which (unlike fetch) adds no Content-Type of its own. */
  function send(headers: Record<string, string>, body?: string | Buffer) {
    return new Promise<{ status: number; json: unknown; connection?: string }>((resolve, reject) => {
      const outgoing = httpRequest({ port, method: 'POST', headers }, (reply) => {
        const chunks: Buffer[] = [];
        reply.on('data', (chunk: Buffer) => chunks.push(chunk));
        reply.on('end', () =>
          resolve({ status: reply.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()), connection: reply.headers.connection }),
        );
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }

  it('reads forms flat, repeated names as arrays, + as a space, UTF-8 and ISO-8859-1', async () => {
    expect((await send({ 'content-type': 'application/x-www-form-urlencoded' }, 'a=1&a=2&b=x+y&c=%E2%82%AC&d[e]=f')).json).toEqual({
      body: { a: ['1', '2'], b: 'x y', c: '€', 'd[e]': 'f' },
    });
    const latin1 = Buffer.from('name=Jos\xe9', 'latin1');
    expect((await send({ 'content-type': 'application/x-www-form-urlencoded; charset=ISO-8859-1' }, latin1)).json).toEqual({ body: { name: 'José' } });
  });

  it('reads any JSON value, an empty JSON body as {}, and plain text', async () => {
    expect((await send({ 'content-type': 'application/json; charset=utf-8' }, '[1,"two"]')).json).toEqual({ body: [1, 'two'] });
    expect((await send({ 'content-type': 'application/json', 'content-length': '0' }, '')).json).toEqual({ body: {} });
    expect((await send({ 'content-type': 'text/plain' }, 'hello')).json).toEqual({ body: 'hello' });
  });

  it('leaves an empty body without a media type alone', async () => {
    expect((await send({ 'content-length': '0' })).json).toEqual({ body: null });
  });

  it('refuses unreadable JSON with 400', async () => {
    expect((await send({ 'content-type': 'application/json' }, '{"client_id":')).status).toBe(400);
  });

  it.each([
    ['another media type', { 'content-type': 'application/xml' }],
    ['no media type', {}],
    ['another charset', { 'content-type': 'application/json; charset=utf-16' }],
    ['a Content-Encoding', { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
  ])('refuses %s with 415', async (_what, headers) => {
    expect((await send(headers as Record<string, string>, '{}')).status).toBe(415);
  });

  it('refuses a body over the limit with 413 and closes the connection, whether declared or streamed', async () => {
    const large = 'x'.repeat(BODY_LIMIT_BYTES + 1);
    const declared = await send({ 'content-type': 'text/plain' }, large);
    expect(declared.status).toBe(413);
    expect(declared.connection).toBe('close');
    const streamed = await new Promise<number>((resolve, reject) => {
      const outgoing = httpRequest({ port, method: 'POST', headers: { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' } }, (reply) => {
        reply.resume();
        resolve(reply.statusCode ?? 0);
      });
      outgoing.on('error', reject);
      for (let sent = 0; sent <= BODY_LIMIT_BYTES; sent += 4096) outgoing.write('y'.repeat(4096));
      outgoing.end();
    });
    expect(streamed).toBe(413);
  });
});
