import { normalizeIssuer, type ResolvedDevicegateAuthOptions } from './options';
import type { DevicegateTokenInfo } from './token-info';

export type IntrospectionOutcome = { active: true; token: DevicegateTokenInfo } | { active: false };

export type IntrospectionFailureReason =
  /** Connection refused, DNS, TLS, reset. */
  | 'unreachable'
  | 'timeout'
  /** 401/403: devicegate refused this service's client credentials (or the client is not a resource server). */
  | 'client_rejected'
  /** Any other status than 200. */
  | 'bad_status'
  /** 200 with a body that is not an RFC 7662 answer. */
  | 'bad_response'
  /** An active answer for another issuer: `issuer` does not match devicegate's. */
  | 'issuer_mismatch';

/** devicegate could not say whether a token is active. Never cached; the request gets 503. Never carries the token. */
export class IntrospectionError extends Error {
  constructor(
    readonly reason: IntrospectionFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'IntrospectionError';
  }
}

/** RFC 6749 §2.3.1: client id and secret are form-encoded before Basic. */
export function basicCredentials(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
}

const optionalString = (value: unknown): value is string | undefined => value === undefined || typeof value === 'string';
const unixSeconds = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** One RFC 7662 call: POST {endpoint}, client_secret_basic, `token` and `token_type_hint=access_token`. */
export class IntrospectionClient {
  private readonly authorization: string;

  constructor(
    private readonly options: ResolvedDevicegateAuthOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.authorization = basicCredentials(options.clientId, options.clientSecret);
  }

  async introspect(token: string): Promise<IntrospectionOutcome> {
    const doFetch = this.options.fetch ?? globalThis.fetch;
    let response: Response;
    let text: string;
    try {
      response = await doFetch(this.options.introspectionEndpoint, {
        method: 'POST',
        headers: {
          authorization: this.authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        // Credentials go to the configured endpoint only.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        if (response.status === 401 || response.status === 403) {
          throw new IntrospectionError(
            'client_rejected',
            `devicegate refused this service's client credentials (HTTP ${response.status}): check clientId and clientSecret, and that the client is a resource server`,
          );
        }
        throw new IntrospectionError('bad_status', `introspection answered HTTP ${response.status}`);
      }
      text = await response.text();
    } catch (error) {
      if (error instanceof IntrospectionError) throw error;
      const name = (error as { name?: string } | undefined)?.name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new IntrospectionError('timeout', `introspection took longer than ${this.options.timeoutMs} ms`);
      }
      const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
      throw new IntrospectionError('unreachable', `introspection failed: ${cause?.code ?? cause?.message ?? (error as Error)?.message ?? 'unknown error'}`);
    }
    return this.parse(text);
  }

  private parse(text: string): IntrospectionOutcome {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new IntrospectionError('bad_response', 'introspection answered something that is not JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new IntrospectionError('bad_response', 'introspection answered something that is not a JSON object');
    }
    const answer = body as Record<string, unknown>;
    if (answer.active === false) return { active: false };
    if (answer.active !== true) throw new IntrospectionError('bad_response', 'introspection answer has no boolean "active"');

    const { sub, email, org, scope, client_id: clientId, device_label: deviceLabel, exp, iat, token_type: tokenType, iss } = answer;
    if (
      typeof sub !== 'string' ||
      sub.length === 0 ||
      typeof clientId !== 'string' ||
      !unixSeconds(exp) ||
      !unixSeconds(iat) ||
      !optionalString(scope) ||
      !optionalString(email) ||
      !optionalString(org) ||
      !optionalString(deviceLabel) ||
      !optionalString(tokenType) ||
      !optionalString(iss)
    ) {
      throw new IntrospectionError('bad_response', 'active introspection answer lacks sub, client_id, exp or iat, or has a member of the wrong type');
    }
    if (iss !== undefined && normalizeIssuer(iss) !== this.options.issuer) {
      throw new IntrospectionError('issuer_mismatch', `introspection answered for issuer "${iss}", expected "${this.options.issuer}"`);
    }
    // A refresh token (or anything else devicegate may one day introspect) is not an access token.
    if (tokenType !== undefined && tokenType.toLowerCase() !== 'bearer') return { active: false };
    if (exp * 1000 <= this.now()) return { active: false };

    const token: DevicegateTokenInfo = {
      sub,
      scopes: (scope ?? '').split(' ').filter((part) => part.length > 0),
      clientId,
      exp,
      iat,
    };
    if (email !== undefined) token.email = email;
    if (org !== undefined) token.org = org;
    if (deviceLabel !== undefined) token.deviceLabel = deviceLabel;
    return { active: true, token };
  }
}
