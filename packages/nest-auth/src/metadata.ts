import type { DevicegateTokenInfo } from './token-info';

/** Reflect metadata keys of the decorators; read by the guard. */
export const PROTECTED = 'devicegate-auth:protected';
export const REQUIRED_SCOPES = 'devicegate-auth:required-scopes';
export const ORGANIZATION_PARAM = 'devicegate-auth:organization-param';
export const IS_PUBLIC = 'devicegate-auth:public';

/** The token the guard accepted, per request object (Express's or Fastify's alike); gone with the request. */
const accepted = new WeakMap<object, DevicegateTokenInfo>();

export function rememberToken(request: object, token: DevicegateTokenInfo): void {
  accepted.set(request, token);
}

/** The token the guard accepted for this request, if it ran and accepted one. */
export function acceptedToken(request: object): DevicegateTokenInfo | undefined {
  return accepted.get(request);
}
