/** RFC 6750 §2.1 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Longer credentials are refused before any call; devicegate's are 54 characters, JWTs a few hundred. */
export const MAX_TOKEN_LENGTH = 4096;

export type BearerCredentials =
  /** No Authorization header, an empty one, or another scheme (RFC 6750 §3.1: a bare challenge). */
  | { kind: 'none' }
  /** `Bearer` with no token, several, a character outside b64token, or several Authorization headers. */
  | { kind: 'malformed' }
  | { kind: 'bearer'; token: string };

/**
 * Reads `Authorization: Bearer <b64token>` (RFC 6750 §2.1). The scheme is
 * case-insensitive (RFC 9110 §11.1); nothing about the token's own format is
 * assumed beyond b64token.
 */
export function readBearerCredentials(header: string | string[] | undefined): BearerCredentials {
  if (Array.isArray(header)) {
    if (header.length > 1) return { kind: 'malformed' };
    header = header[0];
  }
  if (header === undefined) return { kind: 'none' };
  const value = header.trim();
  if (value.length === 0) return { kind: 'none' };
  const scheme = /^[^\s]+/.exec(value)?.[0] ?? '';
  if (scheme.toLowerCase() !== 'bearer') return { kind: 'none' };
  const rest = value.slice(scheme.length);
  const token = /^ +(\S+)$/.exec(rest)?.[1];
  if (token === undefined || token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) return { kind: 'malformed' };
  return { kind: 'bearer', token };
}
