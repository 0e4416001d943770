import { createServer, type Server, type Socket } from 'node:net';
import Redis, { ReplyError, type RedisOptions } from 'ioredis';
import { Client, DatabaseError, Pool } from 'pg';
import { QueryFailedError, QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { isDependencyFailure } from './dependency-errors';
import { InvalidRequest } from './oauth-errors';

/** Local TCP servers that stand in for a broken Redis or Postgres: one that never answers, one that hangs up at once. */
async function listen(onConnection: (socket: Socket) => void): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

async function stop(entry: { server: Server; sockets: Set<Socket> }): Promise<void> {
  for (const socket of entry.sockets) socket.destroy();
  await new Promise((resolve) => entry.server.close(resolve));
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('isDependencyFailure', () => {
  let silent: Awaited<ReturnType<typeof listen>>;
  let hangsUp: Awaited<ReturnType<typeof listen>>;
  let closedPort: number;

  beforeAll(async () => {
    silent = await listen(() => undefined);
    hangsUp = await listen((socket) => socket.destroy());
    const closed = await listen(() => undefined);
    closedPort = closed.port;
    await stop(closed);
  });

  afterAll(async () => {
    await stop(silent);
    await stop(hangsUp);
  });

  describe('ioredis, as it really fails', () => {
    async function redisError(options: RedisOptions, run: (redis: Redis) => Promise<unknown> = (redis) => redis.ping()) {
      const redis = new Redis({ host: '127.0.0.1', disconnectTimeout: 10, ...options });
      redis.on('error', () => undefined);
      try {
        return await rejection(run(redis));
      } finally {
        redis.disconnect();
      }
    }

    it('classifies "Connection is closed" (nothing listens, no retry)', async () => {
      const error = await redisError({ port: closedPort, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 1 });
      expect(error.message).toMatch(/Connection is closed/);
      expect(isDependencyFailure(error)).toBe(true);
    });

    it('classifies MaxRetriesPerRequestError (nothing listens, retries used up)', async () => {
      const error = await redisError({ port: closedPort, retryStrategy: () => 10, maxRetriesPerRequest: 1 });
      expect(error.name).toBe('MaxRetriesPerRequestError');
      expect(isDependencyFailure(error)).toBe(true);
    });

    it('classifies MaxRetriesPerRequestError when the server hangs up on every connection', async () => {
      const error = await redisError({ port: hangsUp.port, retryStrategy: () => 10, maxRetriesPerRequest: 1 });
      expect(error.name).toBe('MaxRetriesPerRequestError');
      expect(isDependencyFailure(error)).toBe(true);
    });

    it('classifies "Command timed out" (the server accepts but never answers)', async () => {
      const error = await redisError({ port: silent.port, enableReadyCheck: false, commandTimeout: 100, maxRetriesPerRequest: 1 });
      expect(error.message).toBe('Command timed out');
      expect(isDependencyFailure(error)).toBe(true);
    });

    it('classifies the offline-queue refusal', async () => {
      const error = await redisError({ port: closedPort, lazyConnect: true, enableOfflineQueue: false });
      expect(error.message).toMatch(/Stream isn't writeable/);
      expect(isDependencyFailure(error)).toBe(true);
    });

    it('classifies LOADING and CLUSTERDOWN replies', () => {
      expect(isDependencyFailure(new ReplyError('LOADING Redis is loading the dataset in memory'))).toBe(true);
      expect(isDependencyFailure(new ReplyError('CLUSTERDOWN The cluster is down'))).toBe(true);
    });

    it('classifies what a Redis Cluster answers while a master fails over or slots move', () => {
      const moved = new ReplyError('MOVED 3999 127.0.0.1:7002');
      expect(isDependencyFailure(moved)).toBe(true);
      expect(isDependencyFailure(new ReplyError('ASK 3999 127.0.0.1:7002'))).toBe(true);
      expect(isDependencyFailure(new ReplyError('TRYAGAIN Multiple keys request during rehashing of slot'))).toBe(true);
      expect(isDependencyFailure(new Error(`Too many Cluster redirections. Last error: ${moved}`))).toBe(true);
      expect(isDependencyFailure(new Error('None of startup nodes is available'))).toBe(true);
      expect(isDependencyFailure(new Error("Cluster isn't ready and enableOfflineQueue options is false"))).toBe(true);
    });

    it('does not classify CROSSSLOT, a script whose keys do not share a slot (a bug)', () => {
      expect(isDependencyFailure(new ReplyError("CROSSSLOT Keys in request don't hash to the same slot"))).toBe(false);
    });

    it('classifies READONLY, what a demoted primary answers after a Sentinel failover', () => {
      expect(isDependencyFailure(new ReplyError("READONLY You can't write against a read only replica."))).toBe(true);
    });

    it('does not classify replies that mean a bug', () => {
      expect(isDependencyFailure(new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(false);
      expect(isDependencyFailure(new ReplyError("ERR Error running script: user_script:3: attempt to compare nil with number"))).toBe(false);
      expect(isDependencyFailure(new ReplyError('NOSCRIPT No matching script. Please use EVAL.'))).toBe(false);
    });
  });

  describe('pg, as it really fails', () => {
    it('classifies ECONNREFUSED', async () => {
      const client = new Client({ host: '127.0.0.1', port: closedPort });
      const error = await rejection(client.connect());
      expect((error as { code?: string }).code).toBe('ECONNREFUSED');
      expect(isDependencyFailure(error)).toBe(true);
    });

    it('classifies "Connection terminated unexpectedly"', async () => {
      const client = new Client({ host: '127.0.0.1', port: hangsUp.port });
      const error = await rejection(client.connect());
      expect(error.message).toMatch(/Connection terminated unexpectedly/);
      expect(isDependencyFailure(error)).toBe(true);
    });

    it('classifies a pool connection timeout', async () => {
      const pool = new Pool({ host: '127.0.0.1', port: silent.port, connectionTimeoutMillis: 100 });
      pool.on('error', () => undefined);
      const error = await rejection(pool.query('SELECT 1'));
      await pool.end();
      expect(error.message).toMatch(/timeout/);
      expect(isDependencyFailure(error)).toBe(true);
    });

    it('classifies a pool that waits too long for a free connection', async () => {
      const pool = new Pool({ host: '127.0.0.1', port: silent.port, max: 1, connectionTimeoutMillis: 100 });
      pool.on('error', () => undefined);
      const [first, second] = await Promise.all([rejection(pool.query('SELECT 1')), rejection(pool.query('SELECT 2'))]);
      await pool.end();
      expect(isDependencyFailure(first)).toBe(true);
      expect(isDependencyFailure(second)).toBe(true);
    });

    it('classifies a pool used after end()', async () => {
      const pool = new Pool({ host: '127.0.0.1', port: closedPort });
      await pool.end();
      const error = await rejection(pool.query('SELECT 1'));
      expect(isDependencyFailure(error)).toBe(true);
    });

    it.each([
      ['57P01', 'terminating connection due to administrator command'],
      ['57P03', 'the database system is starting up'],
      ['53300', 'sorry, too many clients already'],
      ['08006', 'connection failure'],
      ['40P01', 'deadlock detected'],
      ['40001', 'could not serialize access due to concurrent update'],
    ])('classifies the server error %s', (code, message) => {
      const error = Object.assign(new DatabaseError(message, message.length, 'error'), { code, severity: 'FATAL' });
      expect(isDependencyFailure(error)).toBe(true);
      expect(isDependencyFailure(new QueryFailedError('SELECT 1', [], error))).toBe(true);
    });

    it.each([
      ['23505', 'duplicate key value violates unique constraint "access_tokens_pkey"'],
      ['22P02', 'invalid input syntax for type uuid: "nope"'],
      ['22001', 'value too long for type character varying(64)'],
      ['42P01', 'relation "nope" does not exist'],
    ])('does not classify the server error %s', (code, message) => {
      const error = Object.assign(new DatabaseError(message, message.length, 'error'), { code, severity: 'ERROR' });
      expect(isDependencyFailure(error)).toBe(false);
      expect(isDependencyFailure(new QueryFailedError('SELECT 1', [], error))).toBe(false);
    });

    it('classifies the query runner TypeORM released when its connection failed mid-transaction', () => {
      expect(isDependencyFailure(new QueryRunnerProviderAlreadyReleasedError())).toBe(true);
      expect(isDependencyFailure(new QueryRunnerAlreadyReleasedError())).toBe(true);
    });

    it('classifies a connection error wrapped by TypeORM or as a cause', async () => {
      const client = new Client({ host: '127.0.0.1', port: closedPort });
      const refused = await rejection(client.connect());
      expect(isDependencyFailure(new QueryFailedError('SELECT 1', [], refused))).toBe(true);
      expect(isDependencyFailure(new Error('mint failed', { cause: refused }))).toBe(true);
    });
  });

  it('classifies an AggregateError of connection attempts (dual-stack connect)', () => {
    const attempts = ['::1', '127.0.0.1'].map((host) =>
      Object.assign(new Error(`connect ECONNREFUSED ${host}:6379`), { code: 'ECONNREFUSED', syscall: 'connect' }),
    );
    expect(isDependencyFailure(new AggregateError(attempts))).toBe(true);
  });

  it('does not classify a TypeError, even one thrown while talking to Redis', () => {
    expect(isDependencyFailure(new TypeError("Cannot read properties of undefined (reading 'client_id')"))).toBe(false);
    expect(isDependencyFailure(new TypeError('Expected result to be array of values, got null'))).toBe(false);
    expect(isDependencyFailure(Object.assign(new TypeError('The "key" argument must be of type string'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBe(
      false,
    );
  });

  it('does not classify other errors or non-errors', () => {
    expect(isDependencyFailure(new Error('Could not draw a free user code'))).toBe(false);
    expect(isDependencyFailure(new RangeError('Invalid time value'))).toBe(false);
    expect(isDependencyFailure(new SyntaxError('Unexpected token } in JSON at position 12'))).toBe(false);
    expect(isDependencyFailure(new InvalidRequest('client_id is required'))).toBe(false);
    expect(isDependencyFailure(new AggregateError([new Error('a'), new TypeError('b')]))).toBe(false);
    for (const value of [undefined, null, 0, '', 'ECONNREFUSED', 'Connection is closed.', {}]) {
      expect(isDependencyFailure(value)).toBe(false);
    }
  });

  it('stops following a cycle of causes', () => {
    const first = new Error('first');
    const second = new Error('second', { cause: first });
    (first as { cause?: unknown }).cause = second;
    expect(isDependencyFailure(first)).toBe(false);
  });
});
