import { createHash } from 'node:crypto';
import { alignmentPositions, encodeQr, type ErrorCorrectionLevel, penalty } from './qr-code';

const digest = (modules: boolean[][]) =>
  createHash('sha256')
    .update(modules.map((row) => row.map((dark) => (dark ? '1' : '0')).join('')).join('\n'))
    .digest('hex');

/**
 * Reference symbols from segno 1.4.1 (Debian's python3-segno) with the same
 * text, level, version and mask (segno's extra zero pad byte after an aligned
 * terminator corrected, per ISO/IEC 18004 §7.4.10). The same comparison was
 * run for every version 1–40 at every level; each symbol here also decodes
 * with zbarimg.
 */
const REFERENCES: { text: string; level: ErrorCorrectionLevel; version: number; mask: number; sha256: string }[] = [
  { text: 'http://127.0.0.1:3000/device?user_code=BCDF-GHJK', level: 'M', version: 4, mask: 2, sha256: 'e9ca18c390c308a39d5cfb4ae5a88984c920be8100b5cf013d633a707c6be441' },
  { text: 'https://login.example.com/device?user_code=BCDF-GHJK', level: 'L', version: 3, mask: 5, sha256: 'a1d99d21f293c2e8f2e8432a3480e89d50cf29742e7d70c6e5fa87adb0db0409' },
  {
    text: 'https://login.example.com/device?user_code=WXYZ-BCDF&lang=en-GB&x=1234567890',
    level: 'Q',
    version: 7,
    mask: 3,
    sha256: 'ec201725650430143f05c26e07436b54eaa9c9301403a9385c6f5c3234497949',
  },
  { text: 'x'.repeat(200), level: 'M', version: 10, mask: 6, sha256: '3db312672d9837828c20947cb7d0be7e769f5ef7bfebdea5b0d6897f2f45d3f9' },
  { text: 'devicegate '.repeat(20), level: 'Q', version: 15, mask: 1, sha256: '2cf23ac66d1db92b8d91a7277138628eed83f11676cbb5357224c22097cc3e14' },
  { text: 'Z'.repeat(1000), level: 'H', version: 40, mask: 4, sha256: '8bbdb98a2e8a21cad1c5656f0362f1c67d4f86a64cfd4099487682962a281dde' },
];

describe('encodeQr', () => {
  it('draws version 1 module for module as the reference encoder', () => {
    const code = encodeQr('devicegate', { errorCorrection: 'M', mask: 5 });
    expect(code.modules.map((row) => row.map((dark) => (dark ? '#' : '.')).join(''))).toEqual([
      '#######....#..#######',
      '#.....#.###.#.#.....#',
      '#.###.#.##.##.#.###.#',
      '#.###.#.#.##..#.###.#',
      '#.###.#..#.##.#.###.#',
      '#.....#.....#.#.....#',
      '#######.#.#.#.#######',
      '........#####........',
      '#.....#.###.###..###.',
      '...#.#..#...#.#..##..',
      '...#..####.#.#...###.',
      '.#.##..#.....#.####..',
      '#....##..#......#...#',
      '........######..###.#',
      '#######.....#......#.',
      '#.....#....########..',
      '#.###.#..##.#.#.....#',
      '#.###.#..##.##..#....',
      '#.###.#..##...#.#.###',
      '#.....#........####..',
      '#######.##.#...#...#.',
    ]);
  });

  it.each(REFERENCES)('matches the reference symbol: version $version, level $level, mask $mask', ({ text, level, version, mask, sha256 }) => {
    const code = encodeQr(text, { errorCorrection: level, mask, minVersion: version });
    expect({ version: code.version, size: code.size }).toEqual({ version, size: version * 4 + 17 });
    expect(digest(code.modules)).toBe(sha256);
  });

  it('picks the smallest version that holds the text, and the mask with the lowest penalty', () => {
    const url = 'http://127.0.0.1:3000/device?user_code=BCDF-GHJK';
    const code = encodeQr(url);
    expect(code.version).toBe(4);
    const scores = Array.from({ length: 8 }, (_, mask) => penalty(encodeQr(url, { mask }).modules));
    expect(penalty(code.modules)).toBe(Math.min(...scores));
    expect(encodeQr('a'.repeat(14)).version).toBe(1);
    expect(encodeQr('a'.repeat(15)).version).toBe(2);
  });

  it('places alignment patterns where ISO/IEC 18004 Annex E says', () => {
    expect(alignmentPositions(1)).toEqual([]);
    expect(alignmentPositions(2)).toEqual([6, 18]);
    expect(alignmentPositions(7)).toEqual([6, 22, 38]);
    expect(alignmentPositions(32)).toEqual([6, 34, 60, 86, 112, 138]);
    expect(alignmentPositions(40)).toEqual([6, 30, 58, 86, 114, 142, 170]);
  });

  it('refuses text too long for version 40', () => {
    expect(() => encodeQr('x'.repeat(2332), { errorCorrection: 'M' })).toThrow(RangeError);
    expect(encodeQr('x'.repeat(2331), { errorCorrection: 'M' }).version).toBe(40);
  });
});
