import type { Failure } from './exit-codes';

export interface TerminalStream {
  write(chunk: string | Uint8Array): boolean;
  isTTY?: boolean;
  once(event: 'drain', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** Strips control characters (escape sequences included) from text that came from a server. */
export function printable(value: unknown): string {
  return String(value ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface Spinner {
  update(text: string): void;
  stop(): void;
}

/**
 * What the CLI writes. Results go to stdout, warnings and errors to stderr.
 * With --json, stdout carries one JSON object per line and errors are one
 * JSON line on stderr. Spinners and colours only on a terminal, and never
 * with NO_COLOR or TERM=dumb.
 */
export class Output {
  readonly interactive: boolean;
  readonly color: boolean;

  constructor(
    readonly stdout: TerminalStream,
    readonly stderr: TerminalStream,
    readonly jsonMode: boolean,
    env: NodeJS.ProcessEnv,
  ) {
    this.interactive = Boolean(stdout.isTTY) && env.TERM !== 'dumb' && !jsonMode;
    this.color = this.interactive && env.NO_COLOR === undefined;
  }

  line(text = ''): void {
    this.stdout.write(`${text}\n`);
  }

  warn(text: string): void {
    if (!this.jsonMode) this.stderr.write(`${text}\n`);
  }

  json(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value)}\n`);
  }

  bold(text: string): string {
    return this.color ? `\u001b[1m${text}\u001b[22m` : text;
  }

  dim(text: string): string {
    return this.color ? `\u001b[2m${text}\u001b[22m` : text;
  }

  green(text: string): string {
    return this.color ? `\u001b[32m${text}\u001b[39m` : text;
  }

  red(text: string): string {
    return this.color ? `\u001b[31m${text}\u001b[39m` : text;
  }

  failure(failure: Failure): void {
    if (this.jsonMode) {
      const { code, message, exitCode, hint } = failure;
      this.stderr.write(`${JSON.stringify({ error: code, message, exit_code: exitCode, ...(hint ? { hint } : {}) })}\n`);
      return;
    }
    const color = Boolean(this.stderr.isTTY) && this.color;
    this.stderr.write(`${color ? '\u001b[31m✗\u001b[39m' : '✗'} ${failure.message}\n`);
    if (failure.hint) this.stderr.write(`  ${failure.hint}\n`);
  }

  /** A spinner line on a terminal; elsewhere nothing (callers print plain lines for changes). */
  spinner(text: string): Spinner {
    if (!this.interactive) return { update: () => undefined, stop: () => undefined };
    let frame = 0;
    let current = text;
    const draw = () => this.stdout.write(`\r\u001b[2K${this.color ? '\u001b[36m' : ''}${SPINNER[frame++ % SPINNER.length]}${this.color ? '\u001b[39m' : ''} ${current}`);
    draw();
    const timer = setInterval(draw, 100);
    timer.unref();
    return {
      update: (next) => {
        current = next;
      },
      stop: () => {
        clearInterval(timer);
        this.stdout.write('\r\u001b[2K');
      },
    };
  }

  /** Columns padded to the widest cell. */
  table(headers: string[], rows: string[][]): void {
    const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => [...row[column]].length)));
    const format = (cells: string[]) =>
      cells
        .map((cell, column) => (column === cells.length - 1 ? cell : cell + ' '.repeat(widths[column] - [...cell].length)))
        .join('  ')
        .trimEnd();
    this.line(this.bold(format(headers)));
    for (const row of rows) this.line(format(row));
  }
}
