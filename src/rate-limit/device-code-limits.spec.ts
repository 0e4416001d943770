import { ThrottlerStorageService } from '@nestjs/throttler';
import type { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { InvalidClient, TooManyRequests } from '../common/oauth-errors';
import type { RequestContext } from '../common/request-context';
import type { AppConfig } from '../config/app-config';
import { DeviceCodeLimits } from './device-code-limits';

const CALLER: RequestContext = { requestId: 'req-1', ip: '192.0.2.7', userAgent: 'spec' };

function limitsOf(perIp: number, perClient = 100) {
  const storage = new ThrottlerStorageService();
  const increment = jest.spyOn(storage, 'increment');
  const audit = { record: jest.fn().mockResolvedValue(undefined) };
  const config = {
    rateLimits: { deviceCodePerIp: { limit: perIp, windowSeconds: 60 }, deviceCodePerClient: { limit: perClient, windowSeconds: 60 } },
  } as unknown as AppConfig;
  const limits = new DeviceCodeLimits(storage, config, audit as unknown as AuditService, new Clock());
  return { limits, increment, audit, storage };
}

describe('DeviceCodeLimits', () => {
  afterEach(() => jest.useRealTimers());

  it('counts each request once against its address and its client, and refuses past a limit with the block left', async () => {
    const { limits, increment, audit, storage } = limitsOf(2);
    for (let n = 0; n < 2; n++) {
      const request = limits.start(CALLER, 'cli', undefined);
      await limits.count(request);
      await limits.count(request);
    }
    expect(increment).toHaveBeenCalledTimes(4);
    const third = limits.start(CALLER, 'cli', undefined);
    const refusal = await limits.count(third).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(TooManyRequests);
    expect((refusal as TooManyRequests).headers['Retry-After']).toBe('60');
    expect(audit.record).toHaveBeenCalledTimes(1);
    expect(audit.record.mock.calls[0][0]).toMatchObject({
      type: 'rate_limit.tripped',
      origin: CALLER,
      details: { limit: 'device-code-ip', max: 2, window_seconds: 60 },
    });
    storage.onApplicationShutdown();
  });

  it('refuses a caller it saw blocked before counting anything, and for no longer than the block', async () => {
    jest.useFakeTimers({ now: Date.now(), doNotFake: ['setImmediate', 'nextTick'] });
    const { limits, increment, storage } = limitsOf(1);
    await limits.count(limits.start(CALLER, 'cli', undefined));
    await expect(limits.count(limits.start(CALLER, 'cli', undefined))).rejects.toBeInstanceOf(TooManyRequests);
    increment.mockClear();

    expect(() => limits.start(CALLER, 'other-client', undefined)).toThrow(TooManyRequests);
    expect(() => limits.start({ ...CALLER, ip: '192.0.2.8' }, 'cli', undefined)).not.toThrow();
    expect(increment).not.toHaveBeenCalled();
    // Remembered for the block's whole seconds but the last: past them Redis (here, the storage) decides again.
    jest.advanceTimersByTime(59_000);
    expect(() => limits.start(CALLER, 'cli', undefined)).not.toThrow();
    storage.onApplicationShutdown();
  });

  it('answers a request refused before its count with its own error, or with 429 when counting it exceeds a limit', async () => {
    const { limits, increment, storage } = limitsOf(1);
    const wrongSecret = new InvalidClient('Client authentication failed', false);
    expect(await limits.refused(limits.start(CALLER, 'cli', undefined), wrongSecret)).toBe(wrongSecret);
    expect(await limits.refused(limits.start(CALLER, 'cli', undefined), wrongSecret)).toBeInstanceOf(TooManyRequests);

    // A request whose flow store counted it already is not counted again on its way out.
    const { limits: other, increment: otherIncrement, storage: otherStorage } = limitsOf(5);
    const counted = other.start(CALLER, 'cli', undefined);
    other.settle(counted, [
      { totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 },
      { totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 },
    ]);
    expect(await other.refused(counted, wrongSecret)).toBe(wrongSecret);
    expect(otherIncrement).not.toHaveBeenCalled();
    expect(increment).toHaveBeenCalledTimes(4);
    storage.onApplicationShutdown();
    otherStorage.onApplicationShutdown();
  });

  it('tracks a Basic client by the id in its Authorization header', async () => {
    const { limits, storage } = limitsOf(100, 1);
    const basic = `Basic ${Buffer.from('confidential:secret').toString('base64')}`;
    await limits.count(limits.start(CALLER, undefined, basic));
    await expect(limits.count(limits.start({ ...CALLER, ip: '192.0.2.9' }, 'confidential', undefined))).rejects.toBeInstanceOf(TooManyRequests);
    storage.onApplicationShutdown();
  });
});
