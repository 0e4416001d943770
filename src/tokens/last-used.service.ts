import { type BeforeApplicationShutdown, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { type LastUse, TokensRepository } from './tokens.repository';

/**
 * When and from where each token was last used, without a database write per
 * request: uses are kept in process and written in one batch every
 * LAST_USED_FLUSH_INTERVAL (and at shutdown). The inventory adds the uses
 * not written yet, so the owner sees them at once on this instance.
 */
@Injectable()
export class LastUsedService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('LastUsed');
  private pending = new Map<string, LastUse>();
  /** The batch being written: still shown until the write is done. */
  private writing = new Map<string, LastUse>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly config: AppConfig,
    private readonly tokens: TokensRepository,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.config.lastUsedFlushSeconds * 1000);
    this.timer.unref();
  }

  /** `ip` is undefined for a use through introspection: the caller is a resource server, not the device. */
  touch(id: string, at: Date, ip?: string): void {
    this.pending.set(id, { id, at, ip: ip ?? this.pending.get(id)?.ip ?? null });
  }

  /** A use not written yet, if any. */
  unwritten(id: string): LastUse | undefined {
    return this.pending.get(id) ?? this.writing.get(id);
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.writing = batch;
    try {
      await this.tokens.recordLastUse([...batch.values()]);
    } catch (error) {
      // Kept for the next flush unless a newer use of the same token came in meanwhile.
      for (const [id, use] of batch) if (!this.pending.has(id)) this.pending.set(id, use);
      this.logger.warn({ msg: 'last-use flush failed; will retry', error: (error as Error).message, tokens: batch.size });
    } finally {
      this.writing = new Map();
    }
  }

  /** Before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
