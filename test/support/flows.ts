import { randomUUID } from 'node:crypto';
import type { DeviceAuthorizationResponse } from '../../src/device-flow/device-flow.service';
import { approvalGrantCookie, type DeviceGateHttp, type Reply } from './http';
import { signInAtIdp } from './oidc-idp';
import { CLIENTS, type TestUser, USERS } from './test-app';

/** RFC 8628 §3.2 */
export type StartedFlow = DeviceAuthorizationResponse;

/** A device label no other spec (or run) uses, so token rotation never reaches across tests. */
export function uniqueLabel(prefix = 'device'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** RFC 6749 §2.3.1 client_secret_basic. */
export function basicAuthorization(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** POST /oauth/device/code that must succeed. */
export async function startFlow(
  http: DeviceGateHttp,
  clientId: string = CLIENTS.cli,
  params: Record<string, string | undefined> = {},
  headers: Record<string, string> = {},
): Promise<StartedFlow> {
  const reply = await http.deviceCode(clientId, params, headers);
  if (reply.status !== 200) throw new Error(`device authorization failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body as StartedFlow;
}

export interface ObtainTokenOptions {
  clientId?: string;
  user?: TestUser;
  /** Defaults to a fresh unique label. */
  deviceLabel?: string;
  scope?: string;
}

/** The whole happy path: code, sign-in and approval as `user`, one poll; returns the RFC 6749 §5.1 body. */
export async function obtainToken(http: DeviceGateHttp, options: ObtainTokenOptions = {}) {
  const clientId = options.clientId ?? CLIENTS.cli;
  const started = await startFlow(http, clientId, { device_label: options.deviceLabel ?? uniqueLabel(), scope: options.scope });
  await http.approveAs(started.user_code, options.user ?? USERS.alice);
  const reply = await http.poll(clientId, started.device_code);
  if (reply.status !== 200) throw new Error(`token request failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body as { access_token: string; token_type: string; expires_in: number; scope: string; refresh_token?: string };
}

/** RFC 6749 §5.1 / RFC 6749 §5.2: token-endpoint answers are never cached. */
export function expectNoStore(reply: Reply<unknown>): void {
  expect({ cacheControl: reply.headers.get('cache-control'), pragma: reply.headers.get('pragma') }).toEqual({
    cacheControl: 'no-store',
    pragma: 'no-cache',
  });
}

/** An RFC 6749 §5.2 error: the status, the exact body, JSON, uncached. */
export function expectOAuthError(reply: Reply<unknown>, status: number, body: Record<string, unknown>): void {
  expect({ status: reply.status, body: reply.body }).toEqual({ status, body });
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expectNoStore(reply);
}

export interface ApproveThroughIdpOptions {
  clientId: string;
  /** An OpenID Connect connector, signed in at over plain HTTP. */
  connector: string;
  /** The account at the IdP. */
  login: string;
  /** Defaults to a fresh unique label. */
  deviceLabel?: string;
}

/** A device of `clientId` approved by `login` at /device through the IdP behind `connector`, from a browser of its own; its access token. */
export async function approveThroughIdp(http: DeviceGateHttp, options: ApproveThroughIdpOptions): Promise<string> {
  const started = await startFlow(http, options.clientId, { device_label: options.deviceLabel ?? uniqueLabel(options.login) });
  const initiated = await http.request(`/oauth/device/sso/initiate?${new URLSearchParams({ user_code: started.user_code, connector: options.connector })}`);
  const callback = new URL(await signInAtIdp(initiated.headers.get('location') as string, options.login));
  const cookie = approvalGrantCookie(await http.request(`${callback.pathname}${callback.search}`));
  const context = await http.approvalContext(cookie);
  expect((await http.decide('approve', cookie, context.body.csrf_token, started.user_code)).status).toBe(200);
  const token = await http.poll(options.clientId, started.device_code);
  expect(token.status).toBe(200);
  return token.body.access_token;
}

/** Retry-After as RFC 9110 §10.2.3 delay-seconds. */
export function retryAfterSeconds(reply: Reply<unknown>): number {
  const value = reply.headers.get('retry-after') ?? '';
  expect(value).toMatch(/^\d+$/);
  return Number(value);
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const TOKEN_REJECTED = 'The access token is invalid, expired or revoked';

/** RFC 6750 §3.1: 401 invalid_token, with the error in the challenge. */
export function expectInvalidToken(reply: Reply, description = TOKEN_REJECTED): void {
  expect({ status: reply.status, body: reply.body }).toEqual({
    status: 401,
    body: { error: 'invalid_token', error_description: description },
  });
  expect(reply.headers.get('www-authenticate')).toBe(
    `Bearer realm="devicegate", error="invalid_token", error_description="${description}"`,
  );
}
