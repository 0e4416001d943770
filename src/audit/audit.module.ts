import { Module } from '@nestjs/common';
import { AuditSealRepository } from './audit-seal.repository';
import { AuditSealerService } from './audit-sealer.service';
import { AuditVerifierService } from './audit-verifier.service';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

@Module({
  providers: [AuditRepository, AuditService, AuditSealRepository, AuditSealerService, AuditVerifierService],
  exports: [AuditService, AuditRepository, AuditSealerService, AuditVerifierService],
})
export class AuditModule {}
