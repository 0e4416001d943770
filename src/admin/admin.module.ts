import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { TokensModule } from '../tokens/tokens.module';
import { ClientsAdminController } from './clients-admin.controller';
import { ClientsAdminService } from './clients-admin.service';

/** The admin HTTP surface over the registries (apart from them: it needs BearerAuthGuard from TokensModule). */
@Module({
  imports: [ClientsModule, TokensModule],
  controllers: [ClientsAdminController],
  providers: [ClientsAdminService],
  exports: [ClientsAdminService],
})
export class AdminModule {}
