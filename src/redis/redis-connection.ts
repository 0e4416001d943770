import Redis, { Cluster, type RedisOptions } from 'ioredis';

export type RedisConnection = Redis | Cluster;

const COMMON: RedisOptions = {
  // Fail fast when Redis is unreachable, so requests get a 503 instead of hanging.
  maxRetriesPerRequest: 1,
  // Commands issued in the same tick share one write.
  enableAutoPipelining: true,
  connectTimeout: 5000,
  commandTimeout: 3000,
  enableReadyCheck: true,
};

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
  if (!match) return new Redis(url, { ...COMMON, keyPrefix, ...extra });

  const [, scheme, username, password, hostList, path, query] = match;
  const params = new URLSearchParams(query ?? '');
  const tls = params.get('tls') === 'true' ? {} : undefined;
  const auth = {
    username: username ? decodeURIComponent(username) : undefined,
    password: password ? decodeURIComponent(password) : undefined,
  };
  if (scheme === 'redis-sentinel') {
    return new Redis({
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
    });
  }
  return new Cluster(hosts(hostList, 6379), {
    keyPrefix,
    redisOptions: { ...COMMON, ...auth, tls, ...extra },
    clusterRetryStrategy: (times) => Math.min(times * 100, 2000),
  });
}
