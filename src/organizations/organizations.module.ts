import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { DirectoryRepository } from './directory.repository';
import { DirectorySyncService } from './directory-sync.service';
import { OrganizationDirectory } from './organization-directory.service';

@Module({
  imports: [AuditModule],
  providers: [OrganizationDirectory, DirectoryRepository, DirectorySyncService],
  exports: [OrganizationDirectory],
})
export class OrganizationsModule {}
