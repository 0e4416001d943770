import { connect } from 'node:net';

export interface RawExchange {
  /** Everything the server wrote before it closed the connection (or before the wait ran out). */
  response: string;
  status?: number;
  /** The JSON body, when the response carried one. */
  body?: Record<string, unknown>;
  /** When the server closed the connection, counted from the first byte sent; undefined if it never did. */
  closedAfterMs?: number;
}

/**
 * Writes bytes as they are (whatever fetch() would refuse to send) and reads
 * until the server closes the connection, at most `waitMs`. `then` is sent
 * after `pauseMs`, to play a client that stalls mid-request.
 */
export function rawRequest(
  baseUrl: string,
  bytes: string | Buffer,
  options: { waitMs?: number; then?: string; pauseMs?: number } = {},
): Promise<RawExchange> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const started = Date.now();
    const socket = connect(Number(port), hostname, () => {
      socket.write(bytes);
      if (options.then !== undefined) setTimeout(() => socket.writable && socket.write(options.then as string), options.pauseMs ?? 0);
    });
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(Buffer.concat(chunks).toString('latin1'), closed ? Date.now() - started : undefined));
    };
    const timer = setTimeout(() => finish(false), options.waitMs ?? 5_000);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
  });
}

function parse(response: string, closedAfterMs: number | undefined): RawExchange {
  const status = /^HTTP\/1\.1 (\d{3})/.exec(response)?.[1];
  const separator = response.indexOf('\r\n\r\n');
  let body: Record<string, unknown> | undefined;
  if (separator >= 0 && /content-type: application\/json/i.test(response.slice(0, separator))) {
    try {
      body = JSON.parse(response.slice(separator + 4)) as Record<string, unknown>;
    } catch {
      body = undefined;
    }
  }
  return { response, status: status === undefined ? undefined : Number(status), body, closedAfterMs };
}
