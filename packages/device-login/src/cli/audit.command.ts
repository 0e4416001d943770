import { type AuditFilters, DevicegateApi } from '../devicegate-api';
import { NetworkError } from '../errors';
import type { CommandContext } from './cli';
import { AuditChainBroken, UsageError } from './cli-errors';
import { EXIT } from './exit-codes';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** `--since 24h` (a duration back from now) or an RFC 3339 timestamp, which the server checks. */
export function timeFilter(name: string, value: string | undefined, now = Date.now()): string | undefined {
  if (value === undefined) return undefined;
  const relative = /^(\d+)([smhdw])$/.exec(value.trim());
  if (relative) return new Date(now - Number(relative[1]) * UNITS[relative[2]] * 1000).toISOString();
  if (!/^\d{4}-\d{2}-\d{2}/.test(value.trim())) throw new UsageError(`--${name} takes a duration back from now (90m, 24h, 7d) or an RFC 3339 time`);
  return value.trim();
}

/** devicegate audit export: GET /v1/audit/events/export streamed to stdout as it arrives. */
export async function auditExport(context: CommandContext): Promise<number> {
  const { out, options, io } = context;
  const filters: AuditFilters = {
    type: options.type,
    subject: options.subject,
    organization: options.organization,
    client: options['filter-client'],
    since: timeFilter('since', options.since),
    until: timeFilter('until', options.until),
  };
  const stream = await new DevicegateApi(context.deviceLogin(await context.target())).auditExport(filters, io.signal);
  let lines = 0;
  let closed = false;
  io.stdout.on('error', () => (closed = true));
  try {
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      if (closed) break;
      for (const byte of chunk) if (byte === 0x0a) lines++;
      if (!io.stdout.write(chunk)) await new Promise<void>((resolve) => io.stdout.once('drain', resolve));
    }
  } catch (error) {
    if (closed) return EXIT.ok;
    throw new NetworkError(`The export was cut off after ${lines} events`, true, error);
  }
  if (!out.jsonMode && !closed) io.stderr.write(`Exported ${lines} audit event${lines === 1 ? '' : 's'}.\n`);
  return EXIT.ok;
}

/** devicegate audit verify: GET /v1/audit/verify; exit 9 when the chain is broken. */
export async function auditVerify(context: CommandContext): Promise<number> {
  const { out, io } = context;
  const report = await new DevicegateApi(context.deviceLogin(await context.target())).auditVerify(io.signal);
  if (out.jsonMode) out.json(report);
  if (report.ok) {
    if (!out.jsonMode) {
      out.line(`${out.green('✓')} Audit chain intact: ${report.seals} seals over ${report.events} events.`);
      if (report.digest) out.line(`  head digest ${report.digest} (compare with the "audit sealed" log line)`);
    }
    return EXIT.ok;
  }
  const where = `seal ${report.break.seal_seq}${report.break.event_id ? `, event ${report.break.event_id}` : ''}`;
  throw new AuditChainBroken(`Audit chain broken at ${where}: ${report.break.reason}`);
}
