import { IncomingMessage, request as httpRequest, type Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { expressEdge } from './express-adapter';

describe('the Express edge server', () => {
  let server: Server;
  let app: Express;

  beforeAll(async () => {
    const edge = expressEdge({ trustProxy: false, hooks: { finished: () => undefined } });
    edge.adapter.initHttpServer({});
    app = edge.adapter.getInstance<Express>();
    app.get('/probe', (_request, response) => {
      response.json({ ok: true });
    });
    server = edge.adapter.getHttpServer() as Server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  function get(path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const { port } = server.address() as AddressInfo;
      httpRequest({ host: '127.0.0.1', port, path, agent: false }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
        .on('error', reject)
        .end();
    });
  }

  it('makes each request and response on Express’s prototypes, so Express’s per-request prototype swap changes nothing', async () => {
    const seen: boolean[] = [];
    const before = (request: IncomingMessage, response: ServerResponse) => {
      seen.push(Object.getPrototypeOf(request) === app.request, Object.getPrototypeOf(response) === app.response);
    };
    server.prependListener('request', before);
    try {
      expect(await get('/probe')).toEqual({ status: 200, body: '{"ok":true}' });
    } finally {
      server.off('request', before);
    }
    expect(seen).toEqual([true, true]);
  });

  it('still makes Node’s own message objects underneath', async () => {
    let made: [boolean, boolean] | undefined;
    const check = (request: IncomingMessage, response: ServerResponse) => {
      made = [request instanceof IncomingMessage, response instanceof ServerResponse];
    };
    server.prependListener('request', check);
    try {
      expect((await get('/nowhere')).status).toBe(404);
    } finally {
      server.off('request', check);
    }
    expect(made).toEqual([true, true]);
  });
});
