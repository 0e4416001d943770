import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { prettyLogDestination } from './pretty-log';

function capture(): { output: Writable; lines: string[] } {
  const lines: string[] = [];
  const output = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { output, lines };
}

describe('prettyLogDestination', () => {
  it('writes a request as one short line, an audit event as its type and outcome, anything else with its fields inline', () => {
    const { output, lines } = capture();
    const logger = createLogger('info', prettyLogDestination(output, false));
    logger.info({ msg: 'request', reqId: 'r1', method: 'GET', route: '/device', path: '/device', status: 200, ms: 3.1, ip: '127.0.0.1' });
    logger.info({ context: 'Audit', audit: { type: 'token.minted', outcome: 'success', actor: { email: 'alice@example.com' } } }, 'audit');
    logger.warn({ context: 'Directory', changes: 2 }, 'organizations and connectors updated');

    expect(lines).toEqual([
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\] INFO: GET \/device 200 3\.1 ms$/),
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\] INFO: \[Audit\] token\.minted success by alice@example\.com$/),
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\] WARN: \[Directory\] organizations and connectors updated \{"changes":2\}$/),
    ]);
  });

  it('keeps the redaction of the JSON logger', () => {
    const { output, lines } = capture();
    createLogger('info', prettyLogDestination(output, false)).info({ password: 'hunter2-hunter2', user_code: 'BCDF-GHJK' }, 'login');
    expect(lines.join('\n')).not.toMatch(/hunter2|BCDF-GHJK/);
  });
});
