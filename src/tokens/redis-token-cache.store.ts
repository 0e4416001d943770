import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { duplicateForSubscriber, type RedisConnection } from '../redis/redis-connection';
import { INVALIDATED, TokenCacheStore } from './token-cache.store';

/**
 * Shared entries under `token:<hash>`; invalidations published on one
 * channel (named with the key prefix, which ioredis does not apply to
 * channels) and heard on a dedicated subscriber connection.
 */
@Injectable()
export class RedisTokenCacheStore extends TokenCacheStore implements OnApplicationShutdown {
  private readonly logger = new Logger('TokenCache');
  private readonly channel: string;
  private subscriber?: RedisConnection;

  constructor(private readonly redis: RedisConnection) {
    super();
    this.channel = `${redis.options.keyPrefix ?? ''}token-invalidations`;
  }

  async get(tokenHash: string): Promise<string | undefined> {
    return (await this.redis.get(`token:${tokenHash}`)) ?? undefined;
  }

  async set(tokenHash: string, record: string, ttlMs: number): Promise<void> {
    await this.redis.set(`token:${tokenHash}`, record, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
  }

  async invalidate(tokenHashes: string[], markMs: number): Promise<void> {
    // One SET per key: in a Redis Cluster the keys live in different slots.
    const ttl = Math.max(1, Math.ceil(markMs));
    await Promise.all(tokenHashes.map((hash) => this.redis.set(`token:${hash}`, INVALIDATED, 'PX', ttl)));
    await this.redis.publish(this.channel, tokenHashes.join(','));
  }

  async subscribe(onInvalidated: (tokenHashes: string[]) => void, onGap: () => void): Promise<void> {
    const subscriber = duplicateForSubscriber(this.redis);
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) onInvalidated(message.split(','));
    });
    // After a reconnect, announcements sent meanwhile are lost: the caller forgets what it cached.
    subscriber.on('ready', onGap);
    subscriber.on('error', (error: Error) => this.logger.warn({ msg: 'invalidation subscriber', error: error.message }));
    try {
      await subscriber.subscribe(this.channel);
    } catch (error) {
      // The caller tries again with a new connection; this one must not linger, reconnecting forever.
      subscriber.disconnect();
      this.subscriber = undefined;
      throw error;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.subscriber?.disconnect();
  }
}
