import { randomToken, uuidv7 } from './crypto';

describe('randomToken', () => {
  it('encodes the asked number of bytes as base64url', () => {
    for (const bytes of [12, 16, 20, 24, 32]) {
      const token = randomToken(bytes);
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(bytes);
    }
  });

  it('never hands out the same bytes twice, across many refills of its pool', () => {
    // 20,000 × 32 bytes is about 156 refills of the 4 KiB pool; mixed sizes cross its end at odd offsets.
    const tokens = Array.from({ length: 20_000 }, (_, i) => randomToken(i % 3 === 0 ? 20 : 32));
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('draws requests larger than its pool straight from the CSPRNG', () => {
    const token = randomToken(6000);
    expect(Buffer.from(token, 'base64url')).toHaveLength(6000);
    expect(randomToken(6000)).not.toBe(token);
  });
});

describe('uuidv7', () => {
  it('is a version 7 UUID of the RFC 9562 variant whose first 48 bits are the time in milliseconds', () => {
    const at = Date.UTC(2026, 11, 6, 4, 50, 0, 123);
    const id = uuidv7(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
  });

  it('sorts ids of later milliseconds after earlier ones, and never repeats one', () => {
    const start = Date.now();
    const ids = Array.from({ length: 5000 }, (_, i) => uuidv7(start + Math.floor(i / 10)));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 10; i < ids.length; i += 10) expect(ids[i - 1] < ids[i]).toBe(true);
  });
});
