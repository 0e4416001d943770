import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake received. */
export interface IntrospectionCall {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  params: URLSearchParams;
}

/** What the fake answers: a status and a body (an object is sent as JSON, a string as is). */
export interface FakeAnswer {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Waits this long before answering. */
  delayMs?: number;
}

export const FAKE_CLIENT = { id: 'projects-api', secret: 'projects-api-secret: with spaces & symbols' };

/**
 * A tiny RFC 7662 endpoint on 127.0.0.1:0 for the unit specs: checks
 * client_secret_basic like devicegate, answers what `tokens` says about each
 * token (`{"active": false}` for the rest), and records every call.
 */
export class FakeDevicegate {
  readonly calls: IntrospectionCall[] = [];
  /** Active answers by token; anything else is inactive. */
  readonly tokens = new Map<string, Record<string, unknown>>();
  /** When set, answers every request with this instead. */
  override: FakeAnswer | undefined;
  private server: Server | undefined;
  issuer = '';

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const call: IntrospectionCall = {
          method: request.method ?? '',
          path: request.url ?? '',
          headers: request.headers,
          body,
          params: new URLSearchParams(body),
        };
        this.calls.push(call);
        const answer = this.answer(call);
        const send = () => {
          if (response.destroyed) return;
          const payload = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
          response.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
          response.end(payload);
        };
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** An active token with devicegate's members; `extra` overrides or adds. */
  activate(token: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    const answer = {
      active: true,
      scope: 'profile read',
      client_id: 'test-cli',
      sub: '0b7e8a52-5f0c-4c1a-9a53-8a2b8f1d2c3e',
      email: 'alice@example.com',
      exp: now + 3600,
      iat: now,
      token_type: 'Bearer',
      iss: this.issuer,
      ...extra,
    };
    this.tokens.set(token, answer);
    return answer;
  }

  introspectionCalls(token?: string): IntrospectionCall[] {
    return this.calls.filter((call) => token === undefined || call.params.get('token') === token);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
  }

  private answer(call: IntrospectionCall): FakeAnswer {
    if (this.override) return this.override;
    if (call.method !== 'POST' || call.path !== '/oauth/introspect') return { status: 404, body: { error: 'not_found' } };
    const expected = `Basic ${Buffer.from(`${encodeURIComponent(FAKE_CLIENT.id)}:${encodeURIComponent(FAKE_CLIENT.secret)}`).toString('base64')}`;
    if (call.headers.authorization !== expected) {
      return {
        status: 401,
        body: { error: 'invalid_client', error_description: 'Client authentication failed' },
        headers: { 'www-authenticate': 'Basic realm="devicegate"' },
      };
    }
    const token = call.params.get('token') ?? '';
    return { status: 200, body: this.tokens.get(token) ?? { active: false } };
  }
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
