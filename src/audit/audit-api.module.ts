import { Module } from '@nestjs/common';
import { TokensModule } from '../tokens/tokens.module';
import { AuditEventsController } from './audit-events.controller';
import { AuditQueryService } from './audit-query.service';
import { AuditVerifyController } from './audit-verify.controller';
import { AuditModule } from './audit.module';

/**
 * The auditor's HTTP surface. Apart from AuditModule because it needs
 * BearerAuthGuard, and TokensModule itself imports AuditModule to write events.
 */
@Module({
  imports: [AuditModule, TokensModule],
  controllers: [AuditEventsController, AuditVerifyController],
  providers: [AuditQueryService],
  exports: [AuditQueryService],
})
export class AuditApiModule {}
