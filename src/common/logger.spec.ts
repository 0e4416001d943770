import { Writable } from 'node:stream';
import { createLogger, writeJsonLines } from './logger';

function capture(): { destination: Writable; writes: string[] } {
  const writes: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      writes.push(String(chunk));
      done();
    },
  });
  return { destination, writes };
}

describe('writeJsonLines', () => {
  const events = [{ id: 'e1', type: 'device_code.issued', details: { scopes: ['openid'] } }, { id: 'e2', actor: { email: null } }];

  it('writes the lines logger.info would write, key for key and in the same order, in one write', () => {
    const pino = capture();
    const pinoLogger = createLogger('info', pino.destination);
    for (const audit of events) pinoLogger.info({ context: 'Audit', audit }, 'audit');
    const raw = capture();
    writeJsonLines(createLogger('info', raw.destination), 'Audit', 'audit', 'audit', events.map((event) => JSON.stringify(event)));

    expect(raw.writes).toHaveLength(1);
    const withoutTime = (line: string) => line.replace(/"time":"[^"]+"/, '"time":"T"');
    const lines = raw.writes[0].split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map(withoutTime)).toEqual(pino.writes.map((line) => withoutTime(line.trimEnd())));
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'info', service: 'devicegate', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) });
  });

  it('writes nothing when info is off, and nothing for no lines', () => {
    const { destination, writes } = capture();
    writeJsonLines(createLogger('warn', destination), 'Audit', 'audit', 'audit', ['{}']);
    writeJsonLines(createLogger('info', destination), 'Audit', 'audit', 'audit', []);
    expect(writes).toEqual([]);
  });
});
