import { Module } from '@nestjs/common';
import { AdminModule } from '../admin/admin.module';
import { ClientsModule } from '../clients/clients.module';
import { ConsoleAdminController } from './console-admin.controller';
import { ConsoleAdminService } from './console-admin.service';
import { AuditApiModule } from '../audit/audit-api.module';
import { AuditModule } from '../audit/audit.module';
import { ConsoleAccessService } from './console-access.service';
import { ConsoleAuditController } from './console-audit.controller';
import { OrganizationsModule } from '../organizations/organizations.module';
import { SsoBridgeModule } from '../sso-bridge/sso-bridge.module';
import { TokensModule } from '../tokens/tokens.module';
import { ConsoleDevicesService } from './console-devices.service';
import { ConsolePageFilter } from './console-page.filter';
import { ConsolePages } from './console-pages.service';
import { ConsoleSignInController } from './console-sign-in.controller';
import { ConsoleSessionModule } from './session/console-session.module';

/** The people's console at /console: its own session, "my devices", audit and admin views. */
@Module({
  imports: [AuditModule, AuditApiModule, AdminModule, ClientsModule, SsoBridgeModule, ConsoleSessionModule, TokensModule, OrganizationsModule],
  controllers: [ConsoleSignInController, ConsoleAuditController, ConsoleAdminController],
  providers: [ConsolePages, ConsolePageFilter, ConsoleDevicesService, ConsoleAccessService, ConsoleAdminService],
})
export class ConsoleModule {}
