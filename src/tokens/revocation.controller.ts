import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiClientAuthentication, ApiErrors } from '../common/api-responses';
import { ClientRegistry } from '../clients/client-registry.service';
import { sha256Hex } from '../common/crypto';
import { OAuthParams, Origin } from '../common/http';
import type { RequestContext } from '../common/request-context';
import { InvalidClient, InvalidRequest, TemporarilyUnavailable } from '../common/oauth-errors';
import { NoStore } from '../common/no-store';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { parseToken } from './token-format';
import { TokensService } from './tokens.service';
import { RevocationRequestDto } from './dto/revocation.dto';

/**
 * RFC 7009 token revocation. The answer is 200 whether or not the token
 * existed (§2.2), and a token of another client is left alone, so the
 * endpoint tells nobody anything about tokens they do not hold. Revoking a
 * refresh token revokes its whole authorization (§2.1).
 */
@ApiTags('tokens')
@Controller('oauth')
export class RevocationController {
  constructor(
    private readonly clients: ClientRegistry,
    private readonly tokens: TokensService,
    private readonly refreshTokens: RefreshTokensRepository,
  ) {}

  @Post('revoke')
  @HttpCode(200)
  @NoStore()
  @ApiOperation({ summary: 'Token revocation (RFC 7009): an access token, or a refresh token and its authorization' })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: RevocationRequestDto })
  @ApiClientAuthentication()
  @ApiOkResponse({ description: 'RFC 7009 §2.2: an empty 200 whether or not the token existed' })
  @ApiErrors(InvalidRequest, InvalidClient, TemporarilyUnavailable)
  async revoke(@Body() body: unknown, @Headers('authorization') authorization: string | undefined, @Origin() origin: RequestContext): Promise<void> {
    const params = new OAuthParams(body);
    const client = await this.clients.authenticate({
      authorization,
      clientId: params.optional('client_id'),
      clientSecret: params.optional('client_secret'),
    });
    const token = params.required('token');
    // token_type_hint is only a hint (§2.1): the prefix says what the token is.
    params.optional('token_type_hint');
    const actor = { type: 'client' as const };
    const kind = parseToken(token);
    if (kind === 'dgat') {
      await this.tokens.revoke(origin, { kind: 'token', tokenHash: sha256Hex(token), clientId: client.clientId }, 'rfc7009', actor);
    } else if (kind === 'dgrt') {
      const found = await this.refreshTokens.findAuthorization(sha256Hex(token));
      if (found?.clientId === client.clientId) {
        await this.tokens.revoke(origin, { kind: 'authorization', id: found.authorizationId }, 'rfc7009', actor);
      }
    }
  }
}
