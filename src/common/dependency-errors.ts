const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'NR_CLOSED',
  // Postgres: connection exceptions, too many connections, shutting down, cannot connect now
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300',
  '57P01',
  '57P02',
  '57P03',
  // Postgres: a serialization failure or a deadlock between two transactions; trying again succeeds.
  '40001',
  '40P01',
]);

const CONNECTION_MESSAGES = [
  /connection is closed/i,
  /connection terminated/i,
  /stream isn't writeable/i,
  /reached the max retries per request/i,
  /command timed out/i,
  /timeout exceeded when trying to connect/i,
  /connect(ion)? timeout/i,
  /cannot use a pool after calling end/i,
  /client has encountered a connection error/i,
  /all sentinels are unreachable/i,
  /failed to refresh slots cache/i,
  /cluster(all)? ?failed|clusterdown/i,
  // Redis Cluster while slots move or a master fails over: redirections that did not settle, a node that is not ready.
  /too many cluster redirections/i,
  /^(MOVED|ASK|TRYAGAIN)\b/,
  /none of startup nodes is available/i,
  /cluster isn't ready/i,
  /loading redis is loading/i,
  /^READONLY\b/,
  /timeout expired/i,
  /client was closed and is not queryable/i,
];

/**
 * TypeORM gives a pooled connection back the moment it reports an error (Postgres ended it between two statements of
 * a transaction, as a failover or pg_terminate_backend does); the transaction's next statement or its COMMIT then
 * finds its query runner released. Nothing of that transaction was committed.
 */
const RELEASED_CONNECTION_ERRORS = new Set(['QueryRunnerAlreadyReleasedError', 'QueryRunnerProviderAlreadyReleasedError']);

/**
 * True when an error means Postgres or Redis is unreachable (as opposed to a
 * bug or bad input): such errors become a 503 and nothing is acknowledged.
 */
export function isDependencyFailure(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 4) return false;
  const candidate = error as { code?: unknown; message?: unknown; name?: unknown; driverError?: unknown; cause?: unknown };
  if (typeof candidate.code === 'string' && CONNECTION_ERROR_CODES.has(candidate.code)) return true;
  if (candidate.name === 'MaxRetriesPerRequestError') return true;
  if (typeof candidate.name === 'string' && RELEASED_CONNECTION_ERRORS.has(candidate.name)) return true;
  if (typeof candidate.message === 'string' && CONNECTION_MESSAGES.some((pattern) => pattern.test(candidate.message as string))) {
    return true;
  }
  if (error instanceof AggregateError && error.errors.some((inner) => isDependencyFailure(inner, depth + 1))) return true;
  return isDependencyFailure(candidate.driverError, depth + 1) || isDependencyFailure(candidate.cause, depth + 1);
}
