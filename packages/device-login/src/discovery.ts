import { DeviceLoginError, oauthErrorFromResponse, ProtocolError } from './errors';
import type { HttpClient } from './http';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** RFC 8414 authorization server metadata: the members this library reads. */
export interface AuthorizationServerMetadata {
  issuer: string;
  device_authorization_endpoint: string;
  token_endpoint: string;
  revocation_endpoint?: string;
  introspection_endpoint?: string;
  scopes_supported?: string[];
  grant_types_supported?: string[];
  [member: string]: unknown;
}

/** An issuer the library will not talk to: not a URL, not https, a query or fragment. */
export class InvalidIssuer extends DeviceLoginError {
  constructor(message: string) {
    super('invalid_issuer', message);
  }
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

function checkUrl(value: string, what: string, allowInsecureHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidIssuer(`${what} ${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidIssuer(`${what} must be an https URL`);
  if (url.protocol === 'http:' && !allowInsecureHttp && !LOOPBACK.test(url.hostname)) {
    throw new InvalidIssuer(`${what} ${url.origin} must use https (plain http is only accepted for localhost)`);
  }
  return url;
}

/** The issuer as RFC 8414 §2 wants it (https, no query or fragment), without a trailing slash. */
export function normalizeIssuer(input: string, allowInsecureHttp = false): string {
  const url = checkUrl(input.trim(), 'The issuer', allowInsecureHttp);
  if (url.search || url.hash) throw new InvalidIssuer('The issuer must not have a query or a fragment');
  if (url.username || url.password) throw new InvalidIssuer('The issuer must not carry credentials');
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** RFC 8414 §3.1: the well-known segment goes between host and path; the appended form (OpenID style) is tried second. */
export function discoveryUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  const inserted = `${url.origin}/.well-known/oauth-authorization-server${path}`;
  return path ? [inserted, `${url.origin}${path}/.well-known/oauth-authorization-server`] : [inserted];
}

export interface DiscoverOptions {
  signal?: AbortSignal;
  /** Accept http for hosts other than localhost (never do this in production). */
  allowInsecureHttp?: boolean;
}

/** Fetches and checks the metadata of `issuer` (RFC 8414 §3: the document must name the same issuer). */
export async function discover(http: HttpClient, issuerInput: string, options: DiscoverOptions = {}): Promise<AuthorizationServerMetadata> {
  const allowInsecureHttp = options.allowInsecureHttp ?? false;
  const issuer = normalizeIssuer(issuerInput, allowInsecureHttp);
  const urls = discoveryUrls(issuer);
  for (const [index, url] of urls.entries()) {
    const answer = await http.json({ url, signal: options.signal });
    if (answer.status === 404 && index < urls.length - 1) continue;
    if (answer.status !== 200) throw oauthErrorFromResponse(answer.status, answer.body, answer.headers);
    return checkMetadata(answer.body, issuer, allowInsecureHttp);
  }
  throw new ProtocolError(`${issuer} publishes no authorization server metadata`);
}

export function checkMetadata(body: unknown, issuer: string, allowInsecureHttp = false): AuthorizationServerMetadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProtocolError(`The metadata of ${issuer} is not a JSON object`);
  }
  const metadata = body as Record<string, unknown>;
  if (typeof metadata.issuer !== 'string' || metadata.issuer.replace(/\/+$/, '') !== issuer) {
    throw new ProtocolError(`The metadata at ${issuer} names another issuer (${String(metadata.issuer)}); refusing it (RFC 8414 §3.3)`);
  }
  for (const member of ['device_authorization_endpoint', 'token_endpoint']) {
    if (typeof metadata[member] !== 'string') throw new ProtocolError(`The metadata of ${issuer} has no ${member}`);
  }
  for (const member of ['device_authorization_endpoint', 'token_endpoint', 'revocation_endpoint', 'introspection_endpoint']) {
    const value = metadata[member];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new ProtocolError(`${member} of ${issuer} is not a string`);
    checkUrl(value, member, allowInsecureHttp);
  }
  const grants = metadata.grant_types_supported;
  if (Array.isArray(grants) && !grants.includes(DEVICE_CODE_GRANT)) {
    throw new ProtocolError(`${issuer} does not support the device authorization grant`);
  }
  return metadata as AuthorizationServerMetadata;
}
