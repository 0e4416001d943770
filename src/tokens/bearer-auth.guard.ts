import { type CanActivate, createParamDecorator, type ExecutionContext, Injectable, SetMetadata, applyDecorators, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth } from '@nestjs/swagger';
import { InsufficientScope } from '../common/oauth-errors';
import { type AuthenticatedToken, TokensService } from './tokens.service';

const REQUIRED_SCOPES = 'devicegate:required-scopes';
const TOKEN = Symbol('devicegate:token');

interface RequestWithToken {
  headers: Record<string, string | string[] | undefined>;
  [TOKEN]?: AuthenticatedToken;
}

/** Accepts a live devicegate bearer token (RFC 6750) and, with @RequireScopes, checks its scopes. */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly tokens: TokensService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithToken>();
    const header = request.headers.authorization;
    const token = await this.tokens.authenticate(Array.isArray(header) ? header.join(',') : header);
    const required = this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_SCOPES, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (required && !required.every((scope) => token.scopes.includes(scope))) throw new InsufficientScope(required);
    request[TOKEN] = token;
    return true;
  }
}

/** Protects a route with a bearer token; every listed scope is required. */
export function RequireScopes(...scopes: string[]) {
  return applyDecorators(SetMetadata(REQUIRED_SCOPES, scopes), UseGuards(BearerAuthGuard), ApiBearerAuth());
}

/** The token that BearerAuthGuard accepted. */
export const CurrentToken = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthenticatedToken =>
    context.switchToHttp().getRequest<RequestWithToken>()[TOKEN] as AuthenticatedToken,
);
