import { createServer, type Server } from 'node:net';
import { TLSSocket } from 'node:tls';

export interface FakePostgres {
  url(user: string, database: string): string;
  close(): Promise<void>;
}

/**
 * A TCP server that speaks just enough of the Postgres protocol to refuse a
 * password (28P01), the way a server with password authentication does; the
 * machine's Postgres trusts local connections and cannot.
 */
export async function startPasswordRefusingPostgres(): Promise<FakePostgres> {
  const server: Server = createServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 8) return;
      const length = buffered.readInt32BE(0);
      if (buffered.length < length) return;
      const code = buffered.readInt32BE(4);
      buffered = buffered.subarray(length);
      // SSLRequest: no TLS here.
      if (code === 80877103) return void socket.write('N');
      const user = /user\0([^\0]*)\0/.exec(chunk.toString('latin1'))?.[1] ?? 'postgres';
      const fields = ['SFATAL', 'VFATAL', 'C28P01', `Mpassword authentication failed for user "${user}"`];
      const body = Buffer.concat([...fields.map((field) => Buffer.from(`${field}\0`, 'utf8')), Buffer.from([0])]);
      const header = Buffer.alloc(5);
      header.write('E', 0, 'latin1');
      header.writeInt32BE(body.length + 4, 1);
      socket.end(Buffer.concat([header, body]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: (user, database) => `postgres://${user}:wrong-password@127.0.0.1:${port}/${database}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * A TCP server that accepts Postgres's SSLRequest and then presents `cert`
 * in the TLS handshake: enough to see how a client treats a certificate it
 * does not trust (the machine's Postgres runs without TLS).
 */
export async function startTlsPostgres(tls: { key: string; cert: string }): Promise<FakePostgres> {
  const server: Server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', (chunk) => {
      if (chunk.length < 8 || chunk.readInt32BE(4) !== 80877103) return void socket.destroy();
      socket.write('S');
      const secure = new TLSSocket(socket, { isServer: true, key: tls.key, cert: tls.cert });
      secure.on('error', () => socket.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: (user, database) => `postgres://${user}@127.0.0.1:${port}/${database}?sslmode=verify-full`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
