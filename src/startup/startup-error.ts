/** A dependency that stops the server from starting, told in one sentence that ends with what to do next. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** The TLS verification failures Node reports by code. */
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

interface NodeError {
  code?: string;
  message?: string;
  hostname?: string;
}

/** `host:port` of a URL, never its credentials. */
export function endpointOf(url: string, defaultPort: number): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || defaultPort}`;
  } catch {
    return 'the configured host';
  }
}

function databaseName(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.slice(1)) || 'postgres';
  } catch {
    return 'postgres';
  }
}

function userName(url: string): string {
  try {
    return decodeURIComponent(new URL(url).username) || 'postgres';
  } catch {
    return 'postgres';
  }
}

function hostName(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return 'the configured host';
  }
}

/** One sentence for a failed connection to Postgres (pg's errors carry SQLSTATE codes or Node's socket codes). */
export function describePostgresError(error: unknown, url: string): string {
  const { code, message = String(error) } = (error ?? {}) as NodeError;
  const at = endpointOf(url, 5432);
  switch (code) {
    case '3D000':
      return `Postgres at ${at} has no database "${databaseName(url)}": create it (CREATE DATABASE "${databaseName(url)}") or fix the database name in DATABASE_URL.`;
    case '28000':
      if (/role .* does not exist/.test(message)) {
        return `Postgres at ${at} has no role "${userName(url)}": create it (CREATE ROLE "${userName(url)}" LOGIN PASSWORD '…') or fix the user in DATABASE_URL.`;
      }
      return `Postgres at ${at} refused the connection (${message}): allow this host and user in pg_hba.conf or fix DATABASE_URL.`;
    case '28P01':
      return `Postgres at ${at} refused the password of role "${userName(url)}": fix the password in DATABASE_URL.`;
    case 'ECONNREFUSED':
      return `Postgres is unreachable at ${at} (connection refused): start it, or fix the host and port in DATABASE_URL.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `Postgres host "${hostName(url)}" cannot be resolved: fix the host in DATABASE_URL.`;
    case 'ETIMEDOUT':
    case 'TIMEOUT':
      return `Postgres at ${at} did not answer within 5 s: check the host, the port and the firewall in DATABASE_URL.`;
  }
  if (/does not support SSL/i.test(message)) {
    return `Postgres at ${at} does not accept TLS but DATABASE_URL asks for it (sslmode): turn TLS on at the server, or drop sslmode from DATABASE_URL on a trusted network.`;
  }
  if ((code && CERTIFICATE_CODES.has(code)) || /certificate/i.test(message)) {
    return `The TLS certificate of Postgres at ${at} is not trusted (${message}): give its CA with sslrootcert=<file> in DATABASE_URL, or fix the server's certificate.`;
  }
  return `Postgres at ${at} refused the connection (${message}): check DATABASE_URL.`;
}

/** One sentence for a Redis connection that did not answer PING. */
export function describeRedisError(error: unknown, url: string): string {
  const { code, message = String(error) } = (error ?? {}) as NodeError;
  const at = endpointOf(url, 6379);
  const tls = url.startsWith('rediss://') || /[?&]tls=true/.test(url);
  if (code === 'ECONNREFUSED') return `Redis is unreachable at ${at} (connection refused): start it, or fix the host and port in REDIS_URL.`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `Redis host "${hostName(url)}" cannot be resolved: fix the host in REDIS_URL.`;
  if (/WRONGPASS|NOAUTH|invalid password|invalid username/i.test(message)) {
    return `Redis at ${at} refused the credentials (${message.split('\n')[0]}): fix the user and password in REDIS_URL.`;
  }
  if ((code && CERTIFICATE_CODES.has(code)) || /certificate/i.test(message)) {
    return `The TLS certificate of Redis at ${at} is not trusted (${message}): give Node its CA (NODE_EXTRA_CA_CERTS=<file>), or fix the server's certificate.`;
  }
  if (code === 'ETIMEDOUT' || code === 'TIMEOUT') {
    return tls
      ? `Redis at ${at} did not complete a TLS handshake within 5 s: check that it serves TLS on that port, or use redis:// for a plain connection.`
      : `Redis at ${at} did not answer within 5 s: check the host, the port and the firewall in REDIS_URL.`;
  }
  return `Redis at ${at} did not answer PING (${message}): check REDIS_URL.`;
}
