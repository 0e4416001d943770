import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../common/clock';
import { ExpiringMap } from './expiring-map';
import { CounterStore, OnceStore, ValueStore } from './once.store';

@Injectable()
export class MemoryOnceStore extends OnceStore implements OnApplicationShutdown {
  private readonly used: ExpiringMap<true>;

  constructor(clock: Clock) {
    super();
    this.used = new ExpiringMap(clock);
  }

  async consume(key: string, ttlMs: number): Promise<boolean> {
    return this.used.setIfAbsent(key, true, ttlMs);
  }

  async isConsumed(key: string): Promise<boolean> {
    return this.used.get(key) !== undefined;
  }

  onApplicationShutdown(): void {
    this.used.close();
  }
}

@Injectable()
export class MemoryCounterStore extends CounterStore implements OnApplicationShutdown {
  private readonly counters: ExpiringMap<number>;

  constructor(clock: Clock) {
    super();
    this.counters = new ExpiringMap(clock);
  }

  async increment(key: string, windowMs: number) {
    const count = (this.counters.get(key) ?? 0) + 1;
    const resetInMs = count === 1 ? windowMs : this.counters.ttl(key);
    this.counters.set(key, count, resetInMs);
    return { count, resetInMs };
  }

  async read(key: string) {
    return { count: this.counters.get(key) ?? 0, resetInMs: this.counters.ttl(key) };
  }

  onApplicationShutdown(): void {
    this.counters.close();
  }
}

@Injectable()
export class MemoryValueStore extends ValueStore implements OnApplicationShutdown {
  private readonly values: ExpiringMap<string>;

  constructor(clock: Clock) {
    super();
    this.values = new ExpiringMap(clock);
  }

  async put(key: string, value: string, ttlMs: number): Promise<void> {
    this.values.set(key, value, ttlMs);
  }

  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }

  async take(key: string): Promise<string | undefined> {
    const value = this.values.get(key);
    this.values.delete(key);
    return value;
  }

  onApplicationShutdown(): void {
    this.values.close();
  }
}
