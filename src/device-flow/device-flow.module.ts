import { Module } from '@nestjs/common';
import { AuditOutboxStore } from '../audit/audit-outbox.store';
import { AuditModule } from '../audit/audit.module';
import { MemoryAuditOutboxStore } from '../audit/memory-audit-outbox.store';
import { Clock } from '../common/clock';
import { REDIS } from '../redis/redis.token';
import type { RedisConnection } from '../redis/redis-connection';
import { ClientsModule } from '../clients/clients.module';
import { DeviceCodeLimits } from '../rate-limit/device-code-limits';
import { TokensModule } from '../tokens/tokens.module';
import { DeviceAuthorizationController } from './device-authorization.controller';
import { DeviceFlowService } from './device-flow.service';
import { DeviceFlowStore } from './device-flow.store';
import { DiscoveryController } from './discovery.controller';
import { LookupController } from './lookup.controller';
import { MemoryDeviceFlowStore } from './memory-device-flow.store';
import { RedisDeviceFlowStore } from './redis-device-flow.store';
import { TokenController } from './token.controller';

@Module({
  imports: [AuditModule, ClientsModule, TokensModule],
  controllers: [TokenController, DeviceAuthorizationController, LookupController, DiscoveryController],
  providers: [
    DeviceFlowService,
    DeviceCodeLimits,
    {
      provide: DeviceFlowStore,
      inject: [REDIS, Clock, AuditOutboxStore],
      // The in-process flows append to the in-process outbox the drainer reads.
      useFactory: (redis: RedisConnection | null, clock: Clock, outbox: AuditOutboxStore) =>
        redis ? new RedisDeviceFlowStore(redis) : new MemoryDeviceFlowStore(clock, outbox as MemoryAuditOutboxStore),
    },
  ],
  exports: [DeviceFlowService],
})
export class DeviceFlowModule {}
