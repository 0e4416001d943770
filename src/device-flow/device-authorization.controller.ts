import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ClientRegistry } from '../clients/client-registry.service';
import { ApiClientAuthentication, ApiErrors } from '../common/api-responses';
import { OAuthParams, Origin } from '../common/http';
import { NoStore } from '../common/no-store';
import type { RequestContext } from '../common/request-context';
import { InvalidClient, InvalidRequest, InvalidScope, TemporarilyUnavailable, TooManyRequests, UnauthorizedClient } from '../common/oauth-errors';
import { DeviceCodeLimits } from '../rate-limit/device-code-limits';
import { DeviceFlowService } from './device-flow.service';
import { DeviceAuthorizationRequestDto, DeviceAuthorizationResponseDto } from './dto/device-authorization.dto';

@ApiTags('RFC 8628 device flow')
@Controller('oauth/device')
export class DeviceAuthorizationController {
  constructor(
    private readonly clients: ClientRegistry,
    private readonly deviceFlow: DeviceFlowService,
    private readonly limits: DeviceCodeLimits,
  ) {}

  @Post('code')
  @HttpCode(200)
  @NoStore()
  @ApiOperation({ summary: 'Device authorization request (RFC 8628 §3.1–3.2)' })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: DeviceAuthorizationRequestDto })
  @ApiClientAuthentication()
  @ApiOkResponse({ type: DeviceAuthorizationResponseDto, description: 'RFC 8628 §3.2 (Cache-Control: no-store)' })
  @ApiErrors(InvalidRequest, UnauthorizedClient, InvalidScope, InvalidClient, TooManyRequests, TemporarilyUnavailable)
  async deviceAuthorization(
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
    @Origin() origin: RequestContext,
  ) {
    // RATE_LIMIT_DEVICE_CODE_PER_IP and _PER_CLIENT count every request once: with its flow, or on its way out.
    const limits = this.limits.start(origin, (body as { client_id?: unknown } | undefined)?.client_id, authorization);
    try {
      const params = new OAuthParams(body);
      const client = await this.clients.authenticate({
        authorization,
        clientId: params.optional('client_id'),
        clientSecret: params.optional('client_secret'),
      });
      return await this.deviceFlow.authorize({
        client,
        scope: params.optional('scope'),
        deviceLabel: params.optional('device_label'),
        origin,
        limits,
      });
    } catch (error) {
      throw await this.limits.refused(limits, error);
    }
  }
}
