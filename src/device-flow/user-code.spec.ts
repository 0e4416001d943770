import { formatUserCode, generateUserCode, normalizeUserCode, USER_CODE_ALPHABET, USER_CODE_LENGTH } from './user-code';

describe('user codes (RFC 8628 §6.1)', () => {
  it('uses 20 distinct consonants: no vowels, no Y, no digits', () => {
    expect(USER_CODE_ALPHABET).toBe('BCDFGHJKLMNPQRSTVWXZ');
    expect(new Set(USER_CODE_ALPHABET).size).toBe(20);
    expect(USER_CODE_ALPHABET).not.toMatch(/[AEIOUY0-9]/);
    expect(USER_CODE_LENGTH).toBe(8);
  });

  it('draws 8 characters of the alphabet, and different codes each time', () => {
    const codes = Array.from({ length: 1000 }, () => generateUserCode());
    for (const code of codes) expect(code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
    expect(new Set(codes).size).toBeGreaterThan(990);
  });

  it('is formatted XXXX-XXXX for people to read', () => {
    expect(formatUserCode('BCDFGHJK')).toBe('BCDF-GHJK');
    expect(formatUserCode(generateUserCode())).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
  });

  describe('normalizeUserCode', () => {
    it.each([
      ['BCDF-GHJK', 'BCDFGHJK'],
      ['BCDFGHJK', 'BCDFGHJK'],
      ['bcdf-ghjk', 'BCDFGHJK'],
      ['BcDf-gHjK', 'BCDFGHJK'],
      ['  bcdf ghjk  ', 'BCDFGHJK'],
      ['b-c-d-f-g-h-j-k', 'BCDFGHJK'],
      ['BCDF\u2010GHJK', 'BCDFGHJK'],
      ['BCDF\u2013GHJK', 'BCDFGHJK'],
      ['BCDF\u2014GHJK', 'BCDFGHJK'],
      ['BCDF\tGHJK\n', 'BCDFGHJK'],
      ['--BCDFGHJK--', 'BCDFGHJK'],
    ])('accepts %j as %s', (input, expected) => {
      expect(normalizeUserCode(input)).toBe(expected);
    });

    it('round-trips what formatUserCode prints', () => {
      const code = generateUserCode();
      expect(normalizeUserCode(formatUserCode(code))).toBe(code);
      expect(normalizeUserCode(formatUserCode(code).toLowerCase())).toBe(code);
    });

    it.each([
      ['too short', 'BCDF-GHJ'],
      ['too long', 'BCDF-GHJKL'],
      ['empty', ''],
      ['only dashes', '----'],
      ['a vowel', 'BCDF-GHJA'],
      ['a Y', 'BCDF-GHJY'],
      ['a digit', 'BCDF-GHJ1'],
      ['a zero for an O', 'BCDF-GH0K'],
      ['an underscore', 'BCDF_GHJK'],
      ['a dot', 'BCDF.GHJK'],
      ['a slash', 'BCDF/GHJK'],
      ['a non-ASCII letter', 'BCDF-GHJÇ'],
      ['a fullwidth letter', 'ＢCDF-GHJK'],
      ['a NUL', 'BCDF\u0000GHJK'],
      ['markup', '<b>BCDFGHJK</b>'],
      ['more than 64 characters of spaces around a code', `${' '.repeat(60)}BCDFGHJK`],
    ])('rejects %s', (_what, input) => {
      expect(normalizeUserCode(input)).toBeUndefined();
    });

    it.each([undefined, null, 12345678, ['BCDFGHJK'], { code: 'BCDFGHJK' }, true])('rejects the non-string %j', (input) => {
      expect(normalizeUserCode(input)).toBeUndefined();
    });
  });

  it('draws every letter about equally often (no modulo bias)', () => {
    const draws = 40_000;
    const counts = new Map<string, number>([...USER_CODE_ALPHABET].map((letter) => [letter, 0]));
    for (let i = 0; i < draws; i++) {
      for (const letter of generateUserCode()) counts.set(letter, (counts.get(letter) ?? 0) + 1);
    }
    expect([...counts.keys()].sort().join('')).toBe([...USER_CODE_ALPHABET].sort().join(''));

    const total = draws * USER_CODE_LENGTH;
    const expected = total / USER_CODE_ALPHABET.length;
    // Chi-squared with 19 degrees of freedom: mean 19, and above 100 with probability far below 1e-12.
    // A byte taken modulo 20 favours the first 16 letters by 13:12 and scores around 300 here.
    const chiSquared = [...counts.values()].reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
    expect(chiSquared).toBeLessThan(100);

    // The same bias seen directly: the last four letters would come up about 7.7% less often than the rest.
    const lastFour = [...USER_CODE_ALPHABET.slice(-4)].reduce((sum, letter) => sum + (counts.get(letter) ?? 0), 0) / 4;
    const firstSixteen = [...USER_CODE_ALPHABET.slice(0, 16)].reduce((sum, letter) => sum + (counts.get(letter) ?? 0), 0) / 16;
    expect(Math.abs(lastFour / firstSixteen - 1)).toBeLessThan(0.04);
  });
});
