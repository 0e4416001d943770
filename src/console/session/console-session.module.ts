import { Module } from '@nestjs/common';
import { AuditModule } from '../../audit/audit.module';
import { storeProvider } from '../../redis/redis.module';
import { ConsoleSessionService } from './console-session.service';
import { ConsoleSessionStore, MemoryConsoleSessionStore } from './console-session.store';
import { RedisConsoleSessionStore } from './redis-console-session.store';

/** The console session alone, below the sign-in bridge, so a connector's sign-in can end in one. */
@Module({
  imports: [AuditModule],
  providers: [storeProvider(ConsoleSessionStore, RedisConsoleSessionStore, MemoryConsoleSessionStore), ConsoleSessionService],
  exports: [ConsoleSessionService],
})
export class ConsoleSessionModule {}
