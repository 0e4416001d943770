import { encodeQr } from './qr-code';
import { renderQr } from './qr-terminal';

describe('renderQr', () => {
  const code = encodeQr('devicegate', { errorCorrection: 'M', mask: 5 });

  it('draws two module rows per line with half blocks, dark as ink, inside a quiet zone', () => {
    const lines = renderQr(code).split('\n');
    // 21 modules + 2 × 2 quiet modules = 25 columns, 13 lines (the last half row is quiet zone).
    expect(lines).toHaveLength(13);
    expect(lines.every((line) => [...line].length === 25)).toBe(true);
    expect(lines[0]).toBe(' '.repeat(25));
    // Rows 0 and 1 of the symbol: the finder's top edge over its first inner row.
    expect(lines[1]).toBe(`  ${'█▀▀▀▀▀█'} ▄▄▄▀▄ ${'█▀▀▀▀▀█'}  `);
    expect(lines[12]).toBe(' '.repeat(25));
  });

  it('paints black on white when asked for colour, so a dark terminal shows it the right way round', () => {
    const lines = renderQr(code, { color: true }).split('\n');
    expect(lines.every((line) => line.startsWith('\u001b[30;107m') && line.endsWith('\u001b[0m'))).toBe(true);
    expect(lines.map((line) => line.replace(/\u001b\[[0-9;]*m/g, ''))).toEqual(renderQr(code).split('\n'));
  });
});
