/**
 * Single-use markers (approval-grant nonces, state envelopes, assertion IDs):
 * `consume` is true for the first caller only, until the marker expires.
 */
export abstract class OnceStore {
  abstract consume(key: string, ttlMs: number): Promise<boolean>;
  abstract isConsumed(key: string): Promise<boolean>;
}

/** Fixed-window counters (the global budget of failed user-code entries). */
export abstract class CounterStore {
  abstract increment(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }>;
  abstract read(key: string): Promise<{ count: number; resetInMs: number }>;
}
