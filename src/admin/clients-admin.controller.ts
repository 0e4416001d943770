import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-responses';
import { parseDto } from '../common/dto-validation';
import { ClientRegistry } from '../clients/client-registry.service';
import { NoStore } from '../common/no-store';
import { Origin } from '../common/http';
import { ForeignOrganization, InvalidRequest, NotFound } from '../common/oauth-errors';
import type { RequestContext } from '../common/request-context';
import { CurrentToken, RequireScopes } from '../tokens/bearer-auth.guard';
import { type AuthenticatedToken, tokenActor as actorOf } from '../tokens/token-validation.service';
import { ClientsAdminService, clientView } from './clients-admin.service';
import { ClientListDto, ClientViewDto, RegisterClientDto, RegisteredClientDto, UpdateClientDto } from './dto/clients-admin.dto';

/** OAuth clients for admins of no organization: list, register (database clients), enable and disable. */
@ApiTags('admin')
@Controller('v1/admin/clients')
@RequireScopes('admin')
@ApiErrors(ForeignOrganization)
export class ClientsAdminController {
  constructor(
    private readonly registry: ClientRegistry,
    private readonly clients: ClientsAdminService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Every client, of the config file and of the database' })
  @ApiOkResponse({ type: ClientListDto })
  async list(@CurrentToken() token: AuthenticatedToken) {
    globalAdmin(token);
    return { clients: (await this.registry.list()).map(({ client, source }) => clientView(client, source)) };
  }

  @Post()
  @HttpCode(201)
  @NoStore()
  @ApiOperation({ summary: 'Register a database client; a confidential client gets a generated secret, shown once' })
  @ApiBody({ type: RegisterClientDto })
  @ApiCreatedResponse({ type: RegisteredClientDto })
  @ApiErrors(InvalidRequest)
  create(@CurrentToken() token: AuthenticatedToken, @Body() body: unknown, @Origin() origin: RequestContext) {
    globalAdmin(token);
    return this.clients.create(origin, body, actorOf(token));
  }

  @Patch(':clientId')
  @ApiOperation({ summary: 'Enable or disable a database client: {"enabled": false}' })
  @ApiParam({ name: 'clientId', type: String })
  @ApiBody({ type: UpdateClientDto })
  @ApiOkResponse({ type: ClientViewDto })
  @ApiErrors(InvalidRequest, NotFound)
  update(@CurrentToken() token: AuthenticatedToken, @Param('clientId') clientId: string, @Body() body: unknown, @Origin() origin: RequestContext) {
    globalAdmin(token);
    const update = parseDto(UpdateClientDto, body);
    if (!update) throw new InvalidRequest('Send {"enabled": true} or {"enabled": false}');
    return this.clients.setEnabled(origin, clientId, update.enabled, actorOf(token));
  }
}

function globalAdmin(token: AuthenticatedToken): void {
  if (token.organizationId) {
    throw new ForeignOrganization(`Clients span every organization; an admin of ${token.organizationId} cannot manage them`);
  }
}
