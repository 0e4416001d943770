import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 43; // 256 bits in base62
const CHECKSUM_LENGTH = 6; // a CRC-32 in base62

import type { TokenKindName as TokenKind } from './token-kinds';

/** `dgat_` (access) or `dgrt_` (refresh) + 43 base62 characters of randomness + 6 characters of CRC-32 over everything before it. */
export const TOKEN_PATTERN = /^(dgat|dgrt)_([0-9A-Za-z]{43})([0-9A-Za-z]{6})$/;

function base62(value: bigint, length: number): string {
  let text = '';
  let rest = value;
  while (rest > 0n) {
    text = BASE62[Number(rest % 62n)] + text;
    rest /= 62n;
  }
  return text.padStart(length, '0');
}

/** The CRC-32 in base62; in Number arithmetic (it fits), as every presented token is checked before its lookup. */
function checksum(prefixAndBody: string): string {
  let text = '';
  for (let rest = crc32(prefixAndBody); rest > 0; rest = Math.floor(rest / 62)) text = BASE62[rest % 62] + text;
  return text.padStart(CHECKSUM_LENGTH, '0');
}

export function generateToken(kind: TokenKind): string {
  const body = base62(BigInt(`0x${randomBytes(32).toString('hex')}`), BODY_LENGTH);
  const prefixAndBody = `${kind}_${body}`;
  return prefixAndBody + checksum(prefixAndBody);
}

/** The token's kind when it is well formed and its checksum holds; undefined otherwise (no lookup needed). */
export function parseToken(token: string): TokenKind | undefined {
  // test() and slices: the capture groups of exec() cost every bearer check an allocation more.
  if (!TOKEN_PATTERN.test(token)) return undefined;
  const checked = token.length - CHECKSUM_LENGTH;
  return checksum(token.slice(0, checked)) === token.slice(checked) ? (token.slice(0, 4) as TokenKind) : undefined;
}
