import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { duplicateForSubscriber, type RedisConnection } from '../redis/redis-connection';
import { INVALIDATED, TokenCacheStore } from './token-cache.store';

/** How long an announcement waits for the instances that received it to confirm they dropped the tokens. */
export const ANNOUNCEMENT_CONFIRM_TIMEOUT_MS = 250;

/** Ends an announcement's hash list: who to confirm to, and under which number. */
const CONFIRM_TO = 'confirm-to:';

interface PendingAnnouncement {
  confirmed: number;
  /** The subscribers the announcement reaches; unknown until the publish answers. */
  expected: number;
  done: () => void;
}

/**
 * Shared entries under `token:<hash>`; invalidations published on one
 * channel (named with the key prefix, which ioredis does not apply to
 * channels) and heard on a dedicated subscriber connection.
 *
 * An announcement is answered: every instance that receives it drops the
 * tokens, then confirms on the announcer's own channel, and `invalidate`
 * waits for as many confirmations as there are receivers (at most
 * ANNOUNCEMENT_CONFIRM_TIMEOUT_MS). So once a revocation is acknowledged, no
 * instance that could hear it still answers from its cache.
 */
@Injectable()
export class RedisTokenCacheStore extends TokenCacheStore implements OnApplicationShutdown {
  private readonly logger = new Logger('TokenCache');
  private readonly channel: string;
  private readonly confirmations: string;
  private readonly id = randomUUID();
  private readonly pending = new Map<number, PendingAnnouncement>();
  private announced = 0;
  private subscriber?: RedisConnection;

  constructor(private readonly redis: RedisConnection) {
    super();
    this.channel = `${redis.options.keyPrefix ?? ''}token-invalidations`;
    this.confirmations = this.confirmationChannel(this.id);
  }

  async get(tokenHash: string): Promise<string | undefined> {
    return (await this.redis.get(`token:${tokenHash}`)) ?? undefined;
  }

  async set(tokenHash: string, record: string, ttlMs: number): Promise<void> {
    await this.redis.set(`token:${tokenHash}`, record, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
  }

  async invalidate(tokenHashes: string[], markMs: number): Promise<{ unconfirmed: number }> {
    // One SET per key: in a Redis Cluster the keys live in different slots.
    const ttl = Math.max(1, Math.ceil(markMs));
    await Promise.all(tokenHashes.map((hash) => this.redis.set(`token:${hash}`, INVALIDATED, 'PX', ttl)));
    // Confirmations reach this instance only while its own subscription is up; without it, none is asked for.
    if (this.subscriber?.status !== 'ready') return { unconfirmed: await this.publish(tokenHashes.join(',')) };
    const number = ++this.announced;
    let pending!: PendingAnnouncement;
    const settled = new Promise<void>((done) => {
      pending = { confirmed: 0, expected: Infinity, done };
    });
    this.pending.set(number, pending);
    const timer = setTimeout(pending.done, ANNOUNCEMENT_CONFIRM_TIMEOUT_MS);
    try {
      // The last entry is not a hash: an instance that does not confirm drops it as one unknown token.
      pending.expected = await this.publish([...tokenHashes, `${CONFIRM_TO}${this.id}:${number}`].join(','));
      if (pending.confirmed >= pending.expected) pending.done();
      await settled;
      return { unconfirmed: Math.max(0, pending.expected - pending.confirmed) };
    } finally {
      clearTimeout(timer);
      this.pending.delete(number);
    }
  }

  async subscribe(onInvalidated: (tokenHashes: string[]) => void, onGap: () => void): Promise<void> {
    const subscriber = duplicateForSubscriber(this.redis);
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.heard(message, onInvalidated);
      else if (channel === this.confirmations) this.confirmed(Number(message));
    });
    let subscribed = false;
    // After a reconnect, announcements sent meanwhile are lost: the caller forgets what it cached. Off a Cluster
    // the connection does not subscribe again by itself (duplicateForSubscriber); a failed attempt waits for the next.
    subscriber.on('ready', () => {
      onGap();
      if (!subscribed || subscriber instanceof Cluster) return;
      subscriber
        .subscribe(this.channel, this.confirmations)
        .catch((error: Error) => this.logger.warn({ msg: 'invalidation subscriber could not subscribe again', error: error.message }));
    });
    subscriber.on('error', (error: Error) => this.logger.warn({ msg: 'invalidation subscriber', error: error.message }));
    try {
      await subscriber.subscribe(this.channel, this.confirmations);
      subscribed = true;
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

  /**
   * Publishes an announcement; answers how many subscribers it reaches. A
   * Cluster carries it to every node, but a node's PUBLISH counts only its
   * own subscribers: there every node is asked how many it has.
   */
  private async publish(message: string): Promise<number> {
    const published = this.redis.publish(this.channel, message);
    if (!(this.redis instanceof Cluster)) return published;
    const [, perNode] = await Promise.all([
      published,
      // A node that cannot answer has no subscriber that could hear the announcement.
      Promise.all(
        this.redis.nodes('all').map((node) => (node.pubsub('NUMSUB', this.channel) as Promise<[string, number]>).catch(() => ['', 0] as const)),
      ),
    ]);
    return perNode.reduce((sum, [, subscribers]) => sum + Number(subscribers), 0);
  }

  /** Drops the announced tokens first, then confirms to the announcer. */
  private heard(message: string, onInvalidated: (tokenHashes: string[]) => void): void {
    const entries = message.split(',');
    const last = entries[entries.length - 1];
    const confirmTo = last.startsWith(CONFIRM_TO) ? last.slice(CONFIRM_TO.length) : undefined;
    onInvalidated(confirmTo === undefined ? entries : entries.slice(0, -1));
    if (confirmTo === undefined) return;
    const split = confirmTo.lastIndexOf(':');
    const announcer = confirmTo.slice(0, split);
    const number = confirmTo.slice(split + 1);
    if (announcer === this.id) return this.confirmed(Number(number));
    // The announcer waits at most its timeout; a confirmation that cannot be sent only makes it wait that long.
    this.redis.publish(this.confirmationChannel(announcer), number).catch(() => undefined);
  }

  private confirmed(number: number): void {
    const pending = this.pending.get(number);
    if (!pending) return;
    pending.confirmed += 1;
    if (pending.confirmed >= pending.expected) pending.done();
  }

  private confirmationChannel(instance: string): string {
    return `${this.channel}:confirmed:${instance}`;
  }
}
