import type { QrCode } from './qr-code';

export interface RenderOptions {
  /** Light modules around the code; 2 by default (scanners read a terminal's code well with 2). */
  quietZone?: number;
  /**
   * Paint black on white with ANSI colours, so the code reads the same on a
   * dark terminal. Without colours, dark modules are drawn as ink (█), which
   * is right on a light background.
   */
  color?: boolean;
}

const BLOCKS = [' ', '▄', '▀', '█'];

/** Two rows of modules per line of text, with half blocks. */
export function renderQr(code: QrCode, options: RenderOptions = {}): string {
  const quiet = options.quietZone ?? 2;
  const extent = code.size + quiet * 2;
  const dark = (x: number, y: number) => {
    const mx = x - quiet;
    const my = y - quiet;
    return mx >= 0 && my >= 0 && mx < code.size && my < code.size && code.modules[my][mx];
  };
  const lines: string[] = [];
  for (let y = 0; y < extent; y += 2) {
    let line = '';
    for (let x = 0; x < extent; x++) line += BLOCKS[(dark(x, y) ? 2 : 0) + (y + 1 < extent && dark(x, y + 1) ? 1 : 0)];
    lines.push(options.color ? `\u001b[30;107m${line}\u001b[0m` : line);
  }
  return lines.join('\n');
}
