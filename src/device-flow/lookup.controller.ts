import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-responses';
import { Clock } from '../common/clock';
import { InvalidRequest, InvalidUserCode, TooManyRequests } from '../common/oauth-errors';
import { OAuthParams, Origin } from '../common/http';
import { NoStore } from '../common/no-store';
import type { RequestContext } from '../common/request-context';
import { RATE_LIMITS, RateLimited } from '../rate-limit/rate-limit';
import { DeviceFlowService } from './device-flow.service';
import { LookupQueryDto, LookupResponseDto } from './dto/lookup.dto';

@ApiTags('RFC 8628 device flow')
@Controller('oauth/device')
export class LookupController {
  constructor(
    private readonly deviceFlow: DeviceFlowService,
    private readonly clock: Clock,
  ) {}

  /** Pre-validates a code for the page; unknown, expired and used codes all get `{"valid": false}`. */
  @Get('lookup')
  @NoStore()
  @RateLimited(RATE_LIMITS.lookupPerIp)
  @ApiOperation({ summary: 'Check a user code before signing in' })
  @ApiQuery({ type: LookupQueryDto })
  @ApiOkResponse({ type: LookupResponseDto })
  @ApiErrors(InvalidRequest, TooManyRequests)
  async lookup(@Query() query: unknown, @Origin() origin: RequestContext) {
    const userCode = new OAuthParams(query).required('user_code');
    try {
      const { flow, client } = await this.deviceFlow.findPendingChargingBudget(origin, userCode, 'lookup');
      return {
        valid: true,
        client_id: client.clientId,
        client_name: client.name,
        device_label: flow.deviceLabel || null,
        expires_in: Math.max(0, Math.floor((flow.expiresAt - this.clock.now()) / 1000)),
      };
    } catch (error) {
      if (error instanceof InvalidUserCode) return { valid: false };
      throw error;
    }
  }
}
