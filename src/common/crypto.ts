import { createHmac, hash, hkdfSync, randomBytes, randomFillSync, randomInt, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keyLength: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/** Random bytes are drawn from the CSPRNG this many at a time (one call per 128 device codes, not one per code). */
const RANDOM_POOL_BYTES = 4096;
let randomPool = Buffer.alloc(0);
let randomPoolOffset = 0;

/** `count` bytes of the pool, handed to `read` and then zeroed: each byte is handed out once. */
function fromPool<T>(count: number, read: (pool: Buffer, start: number, end: number) => T): T {
  if (randomPoolOffset + count > randomPool.length) {
    randomPool = randomFillSync(Buffer.allocUnsafeSlow(RANDOM_POOL_BYTES));
    randomPoolOffset = 0;
  }
  const start = randomPoolOffset;
  const end = start + count;
  const value = read(randomPool, start, end);
  randomPool.fill(0, start, end);
  randomPoolOffset = end;
  return value;
}

/** `bytes` bytes from the CSPRNG, base64url. */
export function randomToken(bytes = 32): string {
  if (bytes > RANDOM_POOL_BYTES) return randomBytes(bytes).toString('base64url');
  return fromPool(bytes, (pool, start, end) => pool.toString('base64url', start, end));
}

/**
 * A UUID of version 7 (RFC 9562 §5.7): the Unix time in milliseconds, then
 * 74 random bits. Ids drawn later sort later, so a unique index over them
 * grows at its right edge instead of touching a random page per insert.
 */
export function uuidv7(unixMs: number): string {
  const time = Math.floor(unixMs).toString(16).padStart(12, '0');
  const random = fromPool(10, (pool, start, end) => pool.toString('hex', start, end));
  const variant = (8 | (parseInt(random[3], 16) & 3)).toString(16);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(0, 3)}-${variant}${random.slice(4, 7)}-${random.slice(7, 19)}`;
}

// crypto.hash, one call without a Hash object: several times faster for the short inputs of every request.
export function sha256(text: string): string {
  return hash('sha256', text, 'base64url');
}

export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

export function hmacSha256(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

/** A key for one purpose, derived from a configured secret so one secret never serves two uses. */
export function deriveKey(secret: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `devicegate:${purpose}`, 32));
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = hash('sha256', a, 'buffer');
  const right = hash('sha256', b, 'buffer');
  return timingSafeEqual(left, right) && a.length === b.length;
}

/** Uniform draw from `alphabet` (randomInt rejects out-of-range values, so no modulo bias). */
export function randomString(alphabet: string, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += alphabet[randomInt(alphabet.length)];
  return text;
}

const SCRYPT = { N: 32768, r: 8, p: 1, keyLength: 32 };

function scryptOptions(N: number, r: number, p: number) {
  return { N, r, p, maxmem: 128 * N * r * 2 };
}

function encodeScrypt(salt: Buffer, hash: Buffer): string {
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return encodeScrypt(salt, await scryptAsync(password, salt, SCRYPT.keyLength, scryptOptions(SCRYPT.N, SCRYPT.r, SCRYPT.p)));
}

export function hashPasswordSync(password: string): string {
  const salt = randomBytes(16);
  return encodeScrypt(salt, scryptSync(password, salt, SCRYPT.keyLength, scryptOptions(SCRYPT.N, SCRYPT.r, SCRYPT.p)));
}

/** Verifies `scrypt$N$r$p$salt$hash`; a malformed hash verifies nothing. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [scheme, n, r, p, saltText, hashText] = encoded.split('$');
  if (scheme !== 'scrypt' || !hashText) return false;
  const expected = Buffer.from(hashText, 'base64');
  if (expected.length === 0) return false;
  const actual = await scryptAsync(password, Buffer.from(saltText, 'base64'), expected.length, scryptOptions(Number(n), Number(r), Number(p)));
  return timingSafeEqual(actual, expected);
}
