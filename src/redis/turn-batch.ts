import type { RedisConnection } from './redis-connection';

interface Waiting<In, Out> {
  input: In;
  resolve: (output: Out) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers the calls made during one turn of the event loop and runs them
 * together once the turn's I/O callbacks are done (`setImmediate`): the
 * requests read from many sockets in one turn then share one Redis command
 * instead of sending one each. `run` answers each input in order; if it
 * fails, every call of the batch fails with its error.
 */
export class TurnBatch<In, Out> {
  private waiting: Waiting<In, Out>[] = [];

  constructor(
    private readonly run: (inputs: In[]) => Promise<Out[]>,
    private readonly maxBatch: number,
  ) {}

  call(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      if (this.waiting.push({ input, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (let start = 0; start < waiting.length; start += this.maxBatch) {
      const batch = waiting.slice(start, start + this.maxBatch);
      this.run(batch.map((call) => call.input)).then(
        (outputs) => batch.forEach((call, index) => call.resolve(outputs[index])),
        (error: unknown) => batch.forEach((call) => call.reject(error)),
      );
    }
  }
}

/**
 * A script whose calls a TurnBatch gathers goes to Redis at once: ioredis's
 * auto-pipelining would gather the one call per turn a second time, for the
 * cost of a pipeline around it and one more turn before it is written.
 */
export function sendAtOnce(redis: RedisConnection, scriptName: string): void {
  const ignored = redis.options.autoPipeliningIgnoredCommands ?? [];
  if (!ignored.includes(scriptName)) redis.options.autoPipeliningIgnoredCommands = [...ignored, scriptName];
}
