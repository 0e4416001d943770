import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
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
  imports: [AuditModule, SsoBridgeModule, ConsoleSessionModule, TokensModule, OrganizationsModule],
  controllers: [ConsoleSignInController],
  providers: [ConsolePages, ConsolePageFilter, ConsoleDevicesService],
})
export class ConsoleModule {}
