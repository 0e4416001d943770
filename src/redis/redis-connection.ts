import Redis, { Cluster, type RedisOptions } from 'ioredis';

export type RedisConnection = Redis | Cluster;

/** A request waits at most this long for one Redis answer before it gets its 503. */
export const REDIS_COMMAND_TIMEOUT_MS = 1000;

const COMMON: RedisOptions = {
  // Fail fast when Redis is unreachable, so requests get a 503 instead of hanging: a
  // command in flight when the connection drops fails at once instead of waiting for a reconnect.
  maxRetriesPerRequest: 0,
  // Commands issued in the same tick share one write.
  enableAutoPipelining: true,
  connectTimeout: 5000,
  commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
  enableReadyCheck: true,
};

/**
 * Commands wait for the first connection (the app may boot before Redis is
 * up); once it was ready, a command while Redis is away fails at once rather
 * than queueing until it comes back.
 */
function failFastOnceReady<T extends RedisConnection>(connection: T): T {
  connection.once('ready', () => {
    connection.options.enableOfflineQueue = false;
  });
  return connection;
}

/**
 * A connection for SUBSCRIBE, off the request path: it queues while Redis is
 * away. Off a Cluster it does not subscribe again by itself after a
 * reconnect: ioredis would send that SUBSCRIBE with nobody to hear it fail,
 * and a connection that drops again before the answer would leave an
 * unhandled rejection, which ends a Node process. Its owner subscribes again
 * on 'ready'.
 */
export function duplicateForSubscriber(connection: RedisConnection): RedisConnection {
  return connection instanceof Cluster
    ? connection.duplicate(undefined, { enableOfflineQueue: true })
    : connection.duplicate({ enableOfflineQueue: true, autoResubscribe: false });
}

function hosts(list: string, defaultPort: number): { host: string; port: number }[] {
  return list.split(',').map((entry) => {
    const [host, port] = entry.trim().split(':');
    return { host, port: Number(port || defaultPort) };
  });
}

/**
 * One connection from a URL:
 * - `redis://[:password@]host:port/db` and `rediss://` (TLS): standalone;
 * - `redis-sentinel://[:password@]host1:26379,host2:26379/<master>?db=0&sentinelPassword=…&tls=true`;
 * - `redis-cluster://[:password@]host1:6379,host2:6379?tls=true`.
 */
export function createRedisConnection(url: string, keyPrefix: string, extra: RedisOptions = {}): RedisConnection {
  const match = /^(redis-sentinel|redis-cluster):\/\/(?:([^:@/]*):?([^@/]*)@)?([^/?]+)(?:\/([^?]*))?(?:\?(.*))?$/.exec(url);
  if (!match) return failFastOnceReady(new Redis(url, { ...COMMON, keyPrefix, ...extra }));

  const [, scheme, username, password, hostList, path, query] = match;
  const params = new URLSearchParams(query ?? '');
  const tls = params.get('tls') === 'true' ? {} : undefined;
  const auth = {
    username: username ? decodeURIComponent(username) : undefined,
    password: password ? decodeURIComponent(password) : undefined,
  };
  if (scheme === 'redis-sentinel') {
    return failFastOnceReady(
      new Redis({
        ...COMMON,
        ...auth,
        keyPrefix,
        sentinels: hosts(hostList, 26379),
        name: decodeURIComponent(path || 'mymaster'),
        db: Number(params.get('db') ?? 0),
        sentinelPassword: params.get('sentinelPassword') ?? undefined,
        tls,
        enableTLSForSentinelMode: Boolean(tls),
        ...extra,
      }),
    );
  }
  return failFastOnceReady(
    new Cluster(hosts(hostList, 6379), {
      keyPrefix,
      redisOptions: { ...COMMON, ...auth, tls, ...extra },
      clusterRetryStrategy: (times) => Math.min(times * 100, 2000),
    }),
  );
}
