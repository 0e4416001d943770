import { Module } from '@nestjs/common';
import { DeviceFlowModule } from '../device-flow/device-flow.module';
import { TokensModule } from '../tokens/tokens.module';
import { ApprovalController } from './approval.controller';
import { ApprovalGrantService } from './approval-grant.service';
import { LocalLoginController } from './local/local-login.controller';
import { LocalUsersService } from './local/local-users.service';

@Module({
  imports: [DeviceFlowModule, TokensModule],
  controllers: [ApprovalController, LocalLoginController],
  providers: [ApprovalGrantService, LocalUsersService],
})
export class SsoBridgeModule {}
