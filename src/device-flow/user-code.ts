import { randomString } from '../common/crypto';

/** RFC 8628 §6.1: consonants only, so no words and no 0/O or 1/I confusion; 20^8 ≈ 2.6e10 codes. */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const USER_CODE_LENGTH = 8;

const VALID = new RegExp(`^[${USER_CODE_ALPHABET}]{${USER_CODE_LENGTH}}$`);

export function generateUserCode(): string {
  return randomString(USER_CODE_ALPHABET, USER_CODE_LENGTH);
}

/** `BCDFGHJK` → `BCDF-GHJK`, the way people read it. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** What a person typed → the canonical code (case, spaces and dashes ignored), or undefined if it cannot be one. */
export function normalizeUserCode(input: unknown): string | undefined {
  if (typeof input !== 'string' || input.length > 64) return undefined;
  const code = input.toUpperCase().replace(/[\s\-\u2010-\u2015]/g, '');
  return VALID.test(code) ? code : undefined;
}
