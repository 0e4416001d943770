import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface ProxiedPoll {
  /**
   * performance.now() when the device's request was read (no earlier than it was sent) and just before its answer
   * was written (no later than the device received it), so a wait measured between them is never longer than the
   * device's own.
   */
  receivedAt: number;
  answeredAt: number;
  status: number;
  error?: string;
  interval?: number;
}

/**
 * A reverse proxy in front of a devicegate that makes the server answer the
 * device's first poll with slow_down, deterministically: just before
 * forwarding that poll, it sends the same poll itself, so the device's one
 * arrives well within the interval. Discovery is rewritten to name the
 * proxy, so the device talks to devicegate only through it. It records when
 * each poll of the device arrived and was answered.
 */
export class PollRaceProxy {
  readonly polls: ProxiedPoll[] = [];
  /** performance.now() just before the device authorization answer was written to the device. */
  codesAnsweredAt?: number;
  private injected = false;
  private slowDownSeen?: () => void;
  /** Resolves once the device has been answered slow_down. */
  readonly slowDownAnswered = new Promise<void>((resolve) => (this.slowDownSeen = resolve));

  private constructor(
    private readonly server: Server,
    readonly target: string,
    readonly url: string,
  ) {}

  static async start(target: string): Promise<PollRaceProxy> {
    let proxy: PollRaceProxy | undefined;
    const server = createServer((request, response) => {
      void proxy?.handle(request, response).catch((error: unknown) => {
        response.statusCode = 502;
        response.end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new PollRaceProxy(server, target, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return proxy;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private forward(request: IncomingMessage, body: Buffer): Promise<Response> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string' && !['host', 'connection', 'content-length', 'accept-encoding'].includes(name)) headers[name] = value;
    }
    return fetch(`${this.target}${request.url}`, {
      method: request.method,
      headers,
      body: body.length > 0 ? body : undefined,
      redirect: 'manual',
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const receivedAt = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const isPoll = request.url === '/oauth/token' && new URLSearchParams(body.toString()).get('grant_type') === DEVICE_GRANT;
    if (isPoll && !this.injected) {
      this.injected = true;
      await (await this.forward(request, body)).arrayBuffer();
    }
    const upstream = await this.forward(request, body);
    let text = await upstream.text();
    if (request.url?.startsWith('/.well-known/')) text = text.split(this.target).join(this.url);
    const headers: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding', 'keep-alive'].includes(name)) headers[name] = value;
    });
    // Read before the answer is written, never after: the device may hold the answer before this process runs again
    // (a GC pause, a busy machine), so only a time taken before the write bounds when the device got it.
    const answeredAt = performance.now();
    response.writeHead(upstream.status, headers);
    response.end(text);
    if (request.url === '/oauth/device/code') this.codesAnsweredAt = answeredAt;
    if (isPoll) {
      const answer = upstream.status === 200 ? {} : (JSON.parse(text) as { error?: string; interval?: number });
      this.polls.push({ receivedAt, answeredAt, status: upstream.status, error: answer.error, interval: answer.interval });
      if (answer.error === 'slow_down') this.slowDownSeen?.();
    }
  }
}
