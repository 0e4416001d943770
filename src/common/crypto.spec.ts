import { randomToken } from './crypto';

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
