import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { RetentionPrunerService } from './retention-pruner.service';
import { RetentionRepository } from './retention.repository';

@Module({
  imports: [AuditModule],
  providers: [RetentionRepository, RetentionPrunerService],
  exports: [RetentionPrunerService],
})
export class RetentionModule {}
