import {
  applyDecorators,
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  Injectable,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-responses';
import {
  ForeignOrganization,
  InsufficientScope,
  InvalidToken,
  MalformedAuthorization,
  TemporarilyUnavailable,
} from '../common/oauth-errors';
import { normalizeIp } from '../common/request-context';
import { type AuthenticatedToken, TokenValidationService } from './token-validation.service';

const REQUIRED_SCOPES = 'devicegate:required-scopes';
const ORGANIZATION_PARAM = 'devicegate:organization-param';
const TOKEN = Symbol('devicegate:token');

interface RequestWithToken {
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, string | undefined>;
  [TOKEN]?: AuthenticatedToken;
}

/**
 * Accepts a live devicegate bearer token (RFC 6750); with @RequireScopes it
 * checks the token's effective scopes, with @RequireOrganization that the
 * resource's organization is the token's.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly validation: TokenValidationService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithToken>();
    const header = request.headers.authorization;
    const token = await this.validation.authenticate(Array.isArray(header) ? header.join(',') : header, normalizeIp(request.ip));
    const targets = [context.getHandler(), context.getClass()];
    const required = this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_SCOPES, targets);
    if (required && !required.every((scope) => token.scopes.includes(scope))) throw new InsufficientScope(required);
    const organizationParam = this.reflector.getAllAndOverride<string | undefined>(ORGANIZATION_PARAM, targets);
    const organization = organizationParam ? request.params?.[organizationParam] : undefined;
    if (organizationParam && organization !== token.organizationId) {
      throw new ForeignOrganization(`This resource belongs to organization ${organization}; the token is not of that organization`);
    }
    request[TOKEN] = token;
    return true;
  }
}

/** Protects a route with a bearer token; every listed scope is required. */
export function RequireScopes(...scopes: string[]) {
  return applyDecorators(
    SetMetadata(REQUIRED_SCOPES, scopes),
    UseGuards(BearerAuthGuard),
    ApiBearerAuth('bearer'),
    ApiErrors(MalformedAuthorization, InvalidToken, TemporarilyUnavailable, ...(scopes.length > 0 ? [InsufficientScope] : [])),
  );
}

/** The route parameter `param` names an organization: only a token of that organization gets in. Use with @RequireScopes. */
export function RequireOrganization(param: string) {
  return applyDecorators(SetMetadata(ORGANIZATION_PARAM, param), ApiErrors(ForeignOrganization));
}

/** The token that BearerAuthGuard accepted. */
export const CurrentToken = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthenticatedToken =>
    context.switchToHttp().getRequest<RequestWithToken>()[TOKEN] as AuthenticatedToken,
);
