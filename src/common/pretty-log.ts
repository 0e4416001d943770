import { Writable } from 'node:stream';
import type { DestinationStream } from 'pino';
import { prettyFactory } from 'pino-pretty';

const REQUEST_FIELDS = 'service,context,reqId,method,route,path,status,ms,ip';

/**
 * Dev mode's log lines for people (pino-pretty): a request is one short line
 * (`GET /device 200 3.1 ms`), an audit event its type and outcome (the
 * database keeps the whole event), every other event one line with its fields
 * inline. Production keeps the JSON lines.
 */
export function prettyLogDestination(output: NodeJS.WritableStream = process.stdout, colorize = Boolean(process.stdout.isTTY)): DestinationStream {
  const common = { colorize, translateTime: 'SYS:HH:MM:ss', singleLine: true };
  const request = prettyFactory({
    ...common,
    ignore: `pid,hostname,${REQUEST_FIELDS}`,
    messageFormat: (log) => `${log.method} ${log.path} ${log.status} ${log.ms} ms`,
  });
  const other = prettyFactory({
    ...common,
    ignore: 'pid,hostname,service,context',
    messageFormat: (log, messageKey) => `${log.context ? `[${log.context}] ` : ''}${log[messageKey] ?? ''}`,
  });
  const audit = prettyFactory({
    ...common,
    ignore: 'pid,hostname,service,context,audit',
    messageFormat: (log) => {
      const event = log.audit as { type?: string; outcome?: string; actor?: { email?: string | null } };
      return `[Audit] ${event.type} ${event.outcome}${event.actor?.email ? ` by ${event.actor.email}` : ''}`;
    },
  });
  return new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) {
        if (!line) continue;
        try {
          const log = JSON.parse(line) as Record<string, unknown>;
          output.write((log.msg === 'request' && log.method ? request : log.audit ? audit : other)(log));
        } catch {
          output.write(`${line}\n`);
        }
      }
      done();
    },
  });
}
