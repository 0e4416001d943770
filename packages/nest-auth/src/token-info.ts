/** What devicegate said about an active token (RFC 7662 §2.2), as `@DevicegateToken()` hands it over. */
export interface DevicegateTokenInfo {
  /** The subject's id (a UUID at devicegate). */
  sub: string;
  email?: string;
  /** The organization the token belongs to; absent for a token of no organization. */
  org?: string;
  /** The granted scopes, in devicegate's order. */
  scopes: string[];
  /** The client the token was issued to (the CLI, the CI job), not this service. */
  clientId: string;
  /** The device label given when the device asked for a code, when there was one. */
  deviceLabel?: string;
  /** Expiry, Unix seconds. */
  exp: number;
  /** Issue time, Unix seconds. */
  iat: number;
}
