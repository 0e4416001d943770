/** What every log line and audit event of one HTTP request shares. */
export interface RequestContext {
  requestId: string;
  ip: string;
  userAgent: string;
}

/**
 * Where the edge leaves a request's context: on the Node request itself, so
 * it is found from Express's request (that object) and Fastify's (its `raw`).
 * Handed on by hand from there rather than through an AsyncLocalStorage,
 * whose promise hooks would tax every promise of every request (Node 20).
 */
const CONTEXT = Symbol('devicegate.requestContext');

interface CarriesContext {
  [CONTEXT]?: RequestContext;
  raw?: { [CONTEXT]?: RequestContext };
}

export function attachRequestContext(request: object, context: RequestContext): void {
  (request as CarriesContext)[CONTEXT] = context;
}

/** The context the edge attached to a request (Express's, Fastify's or Node's), if any. */
export function requestContextOf(request: object): RequestContext | undefined {
  const carrier = request as CarriesContext;
  return carrier[CONTEXT] ?? carrier.raw?.[CONTEXT];
}

/** An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d; keep one spelling so addresses compare. */
export function normalizeIp(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
