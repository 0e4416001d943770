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

/**
 * Short-lived values handed from one request to a later one (the PKCE
 * verifier of a trip to an IdP, SAML request ids); `take` reads and deletes
 * at once, so a value is used at most once.
 */
export abstract class ValueStore {
  abstract put(key: string, value: string, ttlMs: number): Promise<void>;
  abstract get(key: string): Promise<string | undefined>;
  abstract take(key: string): Promise<string | undefined>;
}
