import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ClientRegistry } from './client-registry.service';
import { ClientsRepository } from './clients.repository';

@Module({
  imports: [AuditModule],
  providers: [ClientsRepository, ClientRegistry],
  exports: [ClientRegistry, ClientsRepository],
})
export class ClientsModule {}
