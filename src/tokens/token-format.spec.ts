import { generateToken, parseToken, TOKEN_PATTERN } from './token-format';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('access token format', () => {
  it('is dgat_ + 43 base62 characters + a 6-character checksum', () => {
    const token = generateToken('dgat');
    expect(token).toHaveLength(5 + 43 + 6);
    expect(token.startsWith('dgat_')).toBe(true);
    expect(token).toMatch(/^dgat_[0-9A-Za-z]{49}$/);
    expect(token).toMatch(TOKEN_PATTERN);
  });

  it('parses what it generates', () => {
    for (let i = 0; i < 200; i++) expect(parseToken(generateToken('dgat'))).toBe('dgat');
  });

  it('never repeats a token', () => {
    const tokens = Array.from({ length: 2000 }, () => generateToken('dgat'));
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('detects every single-character typo in the random part and the checksum', () => {
    for (const token of [generateToken('dgat'), generateToken('dgat'), generateToken('dgat')]) {
      let typos = 0;
      for (let position = 'dgat_'.length; position < token.length; position++) {
        for (const replacement of BASE62) {
          if (replacement === token[position]) continue;
          const typo = token.slice(0, position) + replacement + token.slice(position + 1);
          expect(parseToken(typo)).toBeUndefined();
          typos++;
        }
      }
      expect(typos).toBe(49 * 61);
    }
  });

  it('detects a typo in the prefix', () => {
    const token = generateToken('dgat');
    for (const prefix of ['dgaf_', 'Dgat_', 'dgat-', 'dgat.', 'dgrt_']) {
      expect(parseToken(prefix + token.slice(5))).toBeUndefined();
    }
  });

  it('detects a dropped, doubled or swapped character', () => {
    const token = generateToken('dgat');
    const swapAt = [...token].findIndex((character, index) => index >= 5 && character !== token[index + 1]);
    const swapped = token.slice(0, swapAt) + token[swapAt + 1] + token[swapAt] + token.slice(swapAt + 2);
    expect(parseToken(token.slice(0, 20) + token.slice(21))).toBeUndefined();
    expect(parseToken(token.slice(0, 20) + token[20] + token.slice(20))).toBeUndefined();
    expect(parseToken(swapped)).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['the prefix alone', 'dgat_'],
    ['another prefix', `ghp_${'a'.repeat(49)}`],
    ['no prefix', 'a'.repeat(54)],
    ['too short', `dgat_${'a'.repeat(48)}`],
    ['too long', `dgat_${'a'.repeat(50)}`],
    ['base64url characters', `dgat_${'a-_'.repeat(16)}a`],
    ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWc'],
    ['whitespace around it', ' dgat_0000000000000000000000000000000000000000000000000 '],
    ['non-ASCII', `dgat_${'é'.repeat(49)}`],
    ['a huge string', `dgat_${'a'.repeat(100_000)}`],
    ['markup', '<script>alert(1)</script>'],
  ])('rejects %s', (_what, input) => {
    expect(parseToken(input)).toBeUndefined();
  });

  it('rejects a well-formed token whose checksum is all zeros', () => {
    const token = generateToken('dgat');
    const forged = `${token.slice(0, -6)}000000`;
    if (forged !== token) expect(parseToken(forged)).toBeUndefined();
  });

  it('does not throw on values that are not strings', () => {
    for (const value of [undefined, null, 42, {}, []]) expect(parseToken(value as unknown as string)).toBeUndefined();
  });
});
