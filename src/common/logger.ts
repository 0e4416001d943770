import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Bodies, headers and query strings are never logged in the first place;
 * these paths are a second fence. No wildcards: they would walk every line.
 */
const REDACT = [
  'headers.authorization',
  'headers.cookie',
  'password',
  'client_secret',
  'device_code',
  'user_code',
  'access_token',
  'refresh_token',
];

/** The application's pino logger, for the few places that write structured lines themselves (the audit mirror). */
export const LOGGER = Symbol('LOGGER');

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'devicegate' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/**
 * Writes, at info, one line per payload that is already JSON, as
 * `logger.info({ context, [key]: payload }, msg)` would write it, all in one
 * write: the audit mirror serializes each event once, not once per line.
 * The line's shape follows createLogger's options (level label, ISO time,
 * base fields); the logger spec holds the two side by side.
 */
export function writeJsonLines(logger: Logger, context: string, key: string, msg: string, payloads: string[]): void {
  if (payloads.length === 0 || !logger.isLevelEnabled('info')) return;
  const bindings = JSON.stringify(logger.bindings()).slice(1, -1);
  const time = `"time":"${new Date().toISOString()}"`;
  const head = `{"level":"info",${time}${bindings ? `,${bindings}` : ''},"context":${JSON.stringify(context)},${JSON.stringify(key)}:`;
  const tail = `,"msg":${JSON.stringify(msg)}}\n`;
  let lines = '';
  for (const payload of payloads) lines += head + payload + tail;
  (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym].write(lines);
}

/** Nest's one line per module and per route at boot: noise at info, still there at debug. */
const BOOT_DETAIL = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/** Nest's logger calls, written as pino JSON lines. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string) {
    this.write(context && BOOT_DETAIL.has(context) ? 'debug' : 'info', message, context);
  }

  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest.at(-1) as string | undefined);
  }

  warn(message: unknown, context?: string) {
    this.write('warn', message, context);
  }

  debug(message: unknown, context?: string) {
    this.write('debug', message, context);
  }

  verbose(message: unknown, context?: string) {
    this.write('trace', message, context);
  }

  fatal(message: unknown, context?: string) {
    this.write('fatal', message, context);
  }

  private write(level: pino.Level, message: unknown, context?: string) {
    if (message && typeof message === 'object') this.logger[level]({ context, ...message });
    else this.logger[level]({ context }, String(message));
  }
}
