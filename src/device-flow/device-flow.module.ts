import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ClientsModule } from '../clients/clients.module';
import { storeProvider } from '../redis/redis.module';
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
  controllers: [DiscoveryController, DeviceAuthorizationController, TokenController, LookupController],
  providers: [DeviceFlowService, storeProvider(DeviceFlowStore, RedisDeviceFlowStore, MemoryDeviceFlowStore)],
  exports: [DeviceFlowService],
})
export class DeviceFlowModule {}
