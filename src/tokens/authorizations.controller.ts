import { Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-responses';
import { Origin } from '../common/http';
import { NoStore } from '../common/no-store';
import { ForeignOrganization, NotFound } from '../common/oauth-errors';
import type { RequestContext } from '../common/request-context';
import { CurrentToken, RequireOrganization, RequireScopes } from './bearer-auth.guard';
import { AuthorizationInventoryService } from './authorization-inventory.service';
import { SubjectsRepository } from './subjects.repository';
import { type AuthenticatedToken, tokenActor } from './token-validation.service';
import { TokensService } from './tokens.service';
import { AuthorizationListDto, RevokedCountDto } from './dto/authorizations.dto';

const uuid = new ParseUUIDPipe({ exceptionFactory: () => new NotFound('No such authorization') });

/** The caller's device inventory, and revocation of their own authorizations; off-boarding for admins. */
@ApiTags('tokens')
@Controller('v1')
export class AuthorizationsController {
  constructor(
    private readonly tokens: TokensService,
    private readonly inventory: AuthorizationInventoryService,
    private readonly subjects: SubjectsRepository,
  ) {}

  @Get('oauth/authorizations')
  @RequireScopes()
  @NoStore()
  @ApiOperation({ summary: "The caller's live device authorizations" })
  @ApiOkResponse({ type: AuthorizationListDto })
  async list(@CurrentToken() token: AuthenticatedToken) {
    const entries = await this.inventory.list(token.subjectId);
    return {
      authorizations: entries.map((entry) => ({
        id: entry.id,
        client: entry.client,
        device_label: entry.deviceLabel,
        scopes: entry.scopes,
        organization: entry.organizationId,
        created_at: entry.createdAt.toISOString(),
        last_used: entry.lastUsed ? { at: entry.lastUsed.at.toISOString(), ip: entry.lastUsed.ip } : null,
        expires_at: entry.expiresAt.toISOString(),
        refreshable: entry.refreshable,
        current: entry.id === token.id,
        approved_from: entry.approvedFrom ? { ip: entry.approvedFrom.ip, user_agent: entry.approvedFrom.userAgent } : null,
      })),
    };
  }

  @Delete('oauth/authorizations/self')
  @HttpCode(204)
  @RequireScopes()
  @ApiOperation({ summary: 'Revoke the presenting token (log out this device)' })
  @ApiNoContentResponse({ description: 'Revoked' })
  async revokeSelf(@CurrentToken() token: AuthenticatedToken, @Origin() origin: RequestContext): Promise<void> {
    await this.tokens.revoke(origin, { kind: 'authorization', id: token.id, subjectId: token.subjectId }, 'self');
  }

  @Delete('oauth/authorizations/:id')
  @HttpCode(204)
  @RequireScopes()
  @ApiOperation({ summary: "Revoke one of the caller's own authorizations" })
  @ApiParam({ name: 'id', type: String, format: 'uuid' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors(NotFound)
  async revokeOne(@CurrentToken() token: AuthenticatedToken, @Param('id', uuid) id: string, @Origin() origin: RequestContext): Promise<void> {
    const revoked = await this.tokens.revoke(origin, { kind: 'authorization', id, subjectId: token.subjectId }, 'user');
    if (revoked.length === 0) throw new NotFound('No such authorization');
  }

  @Delete('admin/subjects/:subject/authorizations')
  @RequireScopes('admin')
  @ApiOperation({ summary: 'Off-boarding: revoke every authorization of a subject (id or email); admins of no organization' })
  @ApiParam({ name: 'subject', type: String, description: 'A subject id or an email address' })
  @ApiOkResponse({ type: RevokedCountDto })
  @ApiErrors(ForeignOrganization)
  async revokeSubject(@CurrentToken() token: AuthenticatedToken, @Param('subject') subject: string, @Origin() origin: RequestContext) {
    if (token.organizationId) {
      throw new ForeignOrganization(
        `This resource spans every organization; an admin of ${token.organizationId} uses /v1/organizations/${token.organizationId}/subjects/:subject/authorizations`,
      );
    }
    return this.revokeAll(origin, subject, undefined, token);
  }

  @Delete('organizations/:org/subjects/:subject/authorizations')
  @RequireScopes('admin')
  @RequireOrganization('org')
  @ApiOperation({ summary: "Off-boarding within an organization: revoke a member's authorizations of that organization" })
  @ApiParam({ name: 'org', type: String, description: 'The organization id; only a token of it gets in' })
  @ApiParam({ name: 'subject', type: String, description: 'A subject id or an email address' })
  @ApiOkResponse({ type: RevokedCountDto })
  async revokeMember(
    @CurrentToken() token: AuthenticatedToken,
    @Param('org') organization: string,
    @Param('subject') subject: string,
    @Origin() origin: RequestContext,
  ) {
    return this.revokeAll(origin, subject, organization, token);
  }

  private async revokeAll(origin: RequestContext, subject: string, organizationId: string | undefined, admin: AuthenticatedToken) {
    const actor = tokenActor(admin);
    let revoked = 0;
    for (const { id } of await this.subjects.findByIdOrEmail(subject)) {
      revoked += (await this.tokens.revoke(origin, { kind: 'subject', subjectId: id, organizationId }, 'admin', actor)).length;
    }
    return { revoked };
  }
}
