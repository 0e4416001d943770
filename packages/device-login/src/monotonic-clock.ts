import { Cancelled } from './errors';

/**
 * Time for waiting: milliseconds from an arbitrary origin that only moves
 * forward at the rate of real time, whatever happens to the wall clock
 * (NTP steps, a laptop's suspend, someone setting the date).
 */
export interface MonotonicClock {
  now(): number;
  /** Resolves after `ms` milliseconds (or later); rejects with `Cancelled` when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function timerSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Cancelled());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Cancelled());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `performance.now()` and timers (libuv's timers run on the monotonic clock too). */
export const systemClock: MonotonicClock = {
  now: () => performance.now(),
  sleep: timerSleep,
};

/** Waits until `clock.now() >= target`: timers may fire a little early, so it checks and waits again. */
export async function sleepUntil(clock: MonotonicClock, target: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw new Cancelled();
  for (let remaining = target - clock.now(); remaining > 0; remaining = target - clock.now()) {
    await clock.sleep(Math.ceil(remaining), signal);
  }
}
