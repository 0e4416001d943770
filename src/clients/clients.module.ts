import { Module } from '@nestjs/common';
import { ClientRegistry } from './client-registry.service';
import { ClientsRepository } from './clients.repository';

@Module({
  providers: [ClientsRepository, ClientRegistry],
  exports: [ClientRegistry, ClientsRepository],
})
export class ClientsModule {}
