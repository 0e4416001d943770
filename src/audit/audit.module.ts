import { Module } from '@nestjs/common';
import { storeProvider } from '../redis/redis.module';
import { AuditOutboxDrainer } from './audit-outbox-drainer.service';
import { AuditOutboxStore } from './audit-outbox.store';
import { AuditSealRepository } from './audit-seal.repository';
import { AuditSealerService } from './audit-sealer.service';
import { AuditVerifierService } from './audit-verifier.service';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';
import { MemoryAuditOutboxStore } from './memory-audit-outbox.store';
import { RedisAuditOutboxStore } from './redis-audit-outbox.store';

@Module({
  providers: [
    AuditRepository,
    AuditService,
    AuditSealRepository,
    AuditSealerService,
    AuditVerifierService,
    AuditOutboxDrainer,
    storeProvider(AuditOutboxStore, RedisAuditOutboxStore, MemoryAuditOutboxStore),
  ],
  exports: [AuditService, AuditRepository, AuditSealerService, AuditVerifierService, AuditOutboxDrainer, AuditOutboxStore],
})
export class AuditModule {}
