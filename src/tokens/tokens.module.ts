import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ClientsModule } from '../clients/clients.module';
import { storeProvider } from '../redis/redis.module';
import { AuthorizationInventoryService } from './authorization-inventory.service';
import { AuthorizationsController } from './authorizations.controller';
import { BearerAuthGuard } from './bearer-auth.guard';
import { IntrospectionController } from './introspection.controller';
import { LastUsedService } from './last-used.service';
import { MeController } from './me.controller';
import { RedisTokenCacheStore } from './redis-token-cache.store';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { RevocationController } from './revocation.controller';
import { SubjectsRepository } from './subjects.repository';
import { MemoryTokenCacheStore, TokenCacheStore } from './token-cache.store';
import { TokenValidationService } from './token-validation.service';
import { TokensRepository } from './tokens.repository';
import { TokensService } from './tokens.service';

@Module({
  imports: [AuditModule, ClientsModule],
  controllers: [IntrospectionController, RevocationController, MeController, AuthorizationsController],
  providers: [
    TokensRepository,
    RefreshTokensRepository,
    SubjectsRepository,
    storeProvider(TokenCacheStore, RedisTokenCacheStore, MemoryTokenCacheStore),
    LastUsedService,
    TokenValidationService,
    TokensService,
    BearerAuthGuard,
    AuthorizationInventoryService,
  ],
  exports: [TokensService, TokenValidationService, SubjectsRepository, BearerAuthGuard, AuthorizationInventoryService],
})
export class TokensModule {}
