import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { BearerAuthGuard } from './bearer-auth.guard';
import { MeController } from './me.controller';
import { SubjectsRepository } from './subjects.repository';
import { TokensRepository } from './tokens.repository';
import { TokensService } from './tokens.service';

@Module({
  imports: [AuditModule],
  controllers: [MeController],
  providers: [TokensRepository, SubjectsRepository, TokensService, BearerAuthGuard],
  exports: [TokensService, SubjectsRepository, BearerAuthGuard],
})
export class TokensModule {}
