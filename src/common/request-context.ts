import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line and audit event of one HTTP request shares. */
export interface RequestContext {
  requestId: string;
  ip: string;
  userAgent: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export const requestContext = {
  run<T>(context: RequestContext, callback: () => T): T {
    return storage.run(context, callback);
  },
  current(): RequestContext | undefined {
    return storage.getStore();
  },
};

/** An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d; keep one spelling so addresses compare. */
export function normalizeIp(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
