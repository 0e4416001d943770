import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata, UseGuards } from '@nestjs/common';
import { DevicegateAuthGuard } from './devicegate-auth.guard';
import { acceptedToken, IS_PUBLIC, ORGANIZATION_PARAM, PROTECTED, REQUIRED_SCOPES } from './metadata';
import type { DevicegateTokenInfo } from './token-info';

/** RFC 6749 §3.3 scope-token: printable ASCII but space, DQUOTE and backslash. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** Adds to (rather than replaces) the scopes already required on the same class or method. */
function appendScopes(scopes: string[]): ClassDecorator & MethodDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const where = (descriptor?.value as object | undefined) ?? target;
    const existing: string[] = Reflect.getMetadata(REQUIRED_SCOPES, where) ?? [];
    Reflect.defineMetadata(REQUIRED_SCOPES, [...existing, ...scopes], where);
  };
}

/**
 * Needs a live devicegate token holding every listed scope (on a class: every
 * route of it; scopes on the class and the method add up). With no scopes: any
 * live token. Missing → 401, not enough scope → 403 insufficient_scope.
 */
export function RequireScopes(...scopes: string[]): ClassDecorator & MethodDecorator {
  for (const scope of scopes) {
    if (!SCOPE_TOKEN.test(scope)) throw new Error(`@RequireScopes: "${scope}" is not a scope (one scope per argument)`);
  }
  return applyDecorators(SetMetadata(PROTECTED, true), appendScopes(scopes), UseGuards(DevicegateAuthGuard));
}

/**
 * Needs a live token of the organization the route parameter `paramName`
 * names (`@RequireOrganization('org')` on `/orgs/:org/things`). A token of
 * another organization, or of none, gets 403. Combine with @RequireScopes for scopes.
 */
export function RequireOrganization(paramName: string): ClassDecorator & MethodDecorator {
  if (typeof paramName !== 'string' || paramName.length === 0) throw new Error('@RequireOrganization needs a route parameter name');
  return applyDecorators(SetMetadata(PROTECTED, true), SetMetadata(ORGANIZATION_PARAM, paramName), UseGuards(DevicegateAuthGuard));
}

/**
 * With `global: true`, lets a route (or every route of a class) through
 * without a token. A route that also has @RequireScopes or
 * @RequireOrganization is protected all the same.
 */
export function Public(): ClassDecorator & MethodDecorator {
  return SetMetadata(IS_PUBLIC, true);
}

/**
 * The introspection result of the token the guard accepted for this request.
 * Only on a guarded route: anywhere else (an @Public route, a route the guard
 * does not cover) it throws, so a missing guard fails closed (500) instead of
 * handing the handler `undefined`.
 */
export const DevicegateToken = createParamDecorator((_data: unknown, context: ExecutionContext): DevicegateTokenInfo => {
  const token = acceptedToken(context.switchToHttp().getRequest<object>());
  if (token === undefined) {
    throw new Error('@DevicegateToken() on a route the devicegate guard did not accept a token for: add @RequireScopes() or global: true');
  }
  return token;
});
