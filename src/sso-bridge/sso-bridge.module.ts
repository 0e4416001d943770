import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { DeviceFlowModule } from '../device-flow/device-flow.module';
import { TokensModule } from '../tokens/tokens.module';
import { ApprovalController } from './approval.controller';
import { ApprovalGrantService } from './approval-grant.service';
import { ApprovalService } from './approval.service';
import { SignInService } from './sign-in.service';
import { LocalLoginController } from './local/local-login.controller';
import { LocalUsersService } from './local/local-users.service';

@Module({
  imports: [AuditModule, DeviceFlowModule, TokensModule],
  controllers: [ApprovalController, LocalLoginController],
  providers: [ApprovalGrantService, ApprovalService, SignInService, LocalUsersService],
})
export class SsoBridgeModule {}
