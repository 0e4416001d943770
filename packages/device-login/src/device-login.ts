import { join } from 'node:path';
import { DeviceFlowClient, type DeviceAuthorization, type PollEvent, type TokenSet } from './device-flow.client';
import { discover, normalizeIssuer } from './discovery';
import {
  InvalidGrant,
  NetworkError,
  NotLoggedIn,
  ProtocolError,
  RefreshOutcomeUnknown,
  ServerError,
  TemporarilyUnavailable,
  TooManyRequests,
} from './errors';
import { HttpClient, type HttpOptions } from './http';
import type { MonotonicClock } from './monotonic-clock';
import { type Credential, type CredentialKey, type CredentialStore, type CredentialSubject, credentialId, DEFAULT_PROFILE } from './store/credential';
import { withFileLock } from './store/file-lock';
import { configDirectory } from './store/private-files';
import { createCredentialStore } from './store/select-credential-store';

export interface DeviceLoginOptions extends HttpOptions {
  /** The devicegate URL (its RFC 8414 issuer). */
  issuer: string;
  clientId: string;
  /** Only for confidential clients; CLIs are public clients. */
  clientSecret?: string;
  /** Several logins to one issuer and client side by side; "default" by default. */
  profile?: string;
  /** Where logins are kept: the OS keychain or a 0600 file by default (`createCredentialStore`). */
  store?: CredentialStore;
  /** Folder of the lock files (and of the default file store); `configDirectory()` by default. */
  configDirectory?: string;
  /** Refresh this long before the access token expires; 60 s by default (at most half the token's life). */
  refreshMarginSeconds?: number;
  allowInsecureHttp?: boolean;
  clock?: MonotonicClock;
  /** The wall clock, for token expiry (which must survive the process); Date.now by default. */
  now?: () => number;
}

export interface LoginOptions {
  scope?: string | string[];
  /** devicegate's name for this device on the consent page and in the device list (1–64 printable characters). */
  deviceLabel?: string;
  signal?: AbortSignal;
  /** Called once with the codes to show the person (and the URL to open); polling starts when it returns. */
  onCode?: (authorization: DeviceAuthorization) => void | Promise<void>;
  onEvent?: (event: PollEvent) => void;
}

export type LogoutOutcome =
  /** DELETE /v1/oauth/authorizations/self answered 204: the login is revoked. */
  | 'revoked'
  /** RFC 7009 revocation of the refresh token (which revokes the authorization at devicegate) or of the access token; 200 says nothing more. */
  | 'revocation_requested'
  /** The server already refused the token: nothing left to revoke. */
  | 'already_invalid'
  /** The server could not be reached and `force` was given: deleted here only. */
  | 'not_revoked';

export interface LogoutResult {
  outcome: LogoutOutcome;
  /** Whether a stored login was deleted. */
  removed: boolean;
}

export interface AuthorizedRequest {
  method?: string;
  /** A JSON body. */
  json?: unknown;
  signal?: AbortSignal;
  accept?: string;
}

function lostAnswer(error: unknown): boolean {
  return (
    (error instanceof NetworkError && error.mayHaveBeenProcessed) ||
    error instanceof ServerError ||
    error instanceof TemporarilyUnavailable ||
    error instanceof ProtocolError
  );
}

/**
 * A device login for one issuer, client and profile: log in with the
 * device flow, get a valid access token (refreshed before it expires, under
 * a lock shared by every process of the user), call APIs with it, log out.
 *
 * ```ts
 * const auth = new DeviceLogin({ issuer: 'https://login.example.com', clientId: 'acme-cli' });
 * await auth.login({ onCode: (code) => console.log(`Open ${code.verificationUri} and enter ${code.userCode}`) });
 * const response = await auth.request('https://api.example.com/projects');
 * ```
 */
export class DeviceLogin {
  readonly issuer: string;
  readonly key: CredentialKey;
  readonly store: CredentialStore;
  readonly http: HttpClient;
  private readonly lockPath: string;
  private readonly now: () => number;
  private readonly refreshMarginMs: number;
  private flowClient?: Promise<DeviceFlowClient>;

  constructor(private readonly options: DeviceLoginOptions) {
    this.issuer = normalizeIssuer(options.issuer, options.allowInsecureHttp);
    this.key = { issuer: this.issuer, clientId: options.clientId, profile: options.profile ?? DEFAULT_PROFILE };
    const folder = options.configDirectory ?? configDirectory();
    this.store = options.store ?? createCredentialStore({ configDirectory: folder });
    this.lockPath = join(folder, 'locks', `${credentialId(this.key)}.lock`);
    this.http = new HttpClient(options);
    this.now = options.now ?? Date.now;
    this.refreshMarginMs = (options.refreshMarginSeconds ?? 60) * 1000;
  }

  /** The protocol client, after discovery (once). */
  client(signal?: AbortSignal): Promise<DeviceFlowClient> {
    this.flowClient ??= discover(this.http, this.issuer, { signal, allowInsecureHttp: this.options.allowInsecureHttp }).then(
      (metadata) => new DeviceFlowClient(metadata, this.options),
    );
    this.flowClient.catch(() => (this.flowClient = undefined));
    return this.flowClient;
  }

  /** The stored login, if any (its token may have expired). */
  credential(): Promise<Credential | undefined> {
    return this.store.load(this.key);
  }

  /**
   * The whole device flow: asks for codes, hands them to `onCode`, polls
   * until the person decides, then stores the login. devicegate's /v1/me
   * is read to remember who logged in (skipped quietly elsewhere).
   */
  async login(options: LoginOptions = {}): Promise<Credential> {
    const client = await this.client(options.signal);
    const authorization = await client.authorize({ scope: options.scope, deviceLabel: options.deviceLabel, signal: options.signal });
    await options.onCode?.(authorization);
    const tokens = await client.poll(authorization, { signal: options.signal, onEvent: options.onEvent });
    const credential = this.credentialFrom(tokens, { deviceLabel: options.deviceLabel });
    // The token is stored before anything else can fail or be cancelled.
    await withFileLock(this.lockPath, () => this.store.save(credential));
    credential.subject = await this.describe(credential.accessToken, options.signal);
    if (credential.subject) await withFileLock(this.lockPath, () => this.store.save(credential));
    return credential;
  }

  /** A valid access token: the stored one, or a refreshed one when it expires within the margin. */
  async accessToken(): Promise<string> {
    return (await this.usableCredential()).accessToken;
  }

  /**
   * A request with the access token. A relative path is resolved against
   * the issuer (devicegate's own API). A 401 is answered by one refresh and
   * one retry when a refresh token is stored.
   */
  async request(pathOrUrl: string, init: AuthorizedRequest = {}): Promise<Response> {
    const url = /^https?:\/\//i.test(pathOrUrl) ? pathOrUrl : `${this.issuer}${pathOrUrl.startsWith('/') ? '' : '/'}${pathOrUrl}`;
    let credential = await this.usableCredential();
    const send = (token: string) =>
      this.http.send({
        url,
        method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
        json: init.json,
        headers: { authorization: `Bearer ${token}`, ...(init.accept ? { accept: init.accept } : {}) },
        signal: init.signal,
      });
    const response = await send(credential.accessToken);
    if (response.status !== 401 || !credential.refreshToken) return response;
    await response.body?.cancel();
    credential = await this.refresh(credential, true);
    return send(credential.accessToken);
  }

  /**
   * Revokes the login at the server, then deletes it here. A network
   * failure keeps the stored login (so the revocation can be tried again)
   * unless `force`.
   */
  async logout(options: { signal?: AbortSignal; force?: boolean } = {}): Promise<LogoutResult> {
    const credential = await this.store.load(this.key);
    if (!credential) throw new NotLoggedIn('none', `Not logged in to ${this.issuer}`);
    let outcome: LogoutOutcome;
    try {
      outcome = await this.revoke(credential, options.signal);
    } catch (error) {
      if (!(options.force && (error instanceof NetworkError || lostAnswer(error)))) throw error;
      outcome = 'not_revoked';
    }
    const removed = await withFileLock(this.lockPath, () => this.store.delete(this.key));
    return { outcome, removed };
  }

  private async revoke(credential: Credential, signal?: AbortSignal): Promise<LogoutOutcome> {
    if (!this.expired(credential)) {
      const response = await this.http.send({
        url: `${this.issuer}/v1/oauth/authorizations/self`,
        method: 'DELETE',
        headers: { authorization: `Bearer ${credential.accessToken}` },
        signal,
      });
      await response.body?.cancel();
      if (response.status === 204) return 'revoked';
      if (response.status === 401 && !credential.refreshToken) return 'already_invalid';
      if (response.status >= 500) throw new ServerError('server_error', { status: response.status, description: `HTTP ${response.status}` });
    }
    const client = await this.client(signal);
    if (credential.refreshToken) {
      return (await client.revoke(credential.refreshToken, 'refresh_token', signal)) ? 'revocation_requested' : 'not_revoked';
    }
    if (this.expired(credential)) return 'already_invalid';
    return (await client.revoke(credential.accessToken, 'access_token', signal)) ? 'revocation_requested' : 'not_revoked';
  }

  private async usableCredential(): Promise<Credential> {
    let credential = await this.store.load(this.key);
    if (!credential) throw new NotLoggedIn('none', `Not logged in to ${this.issuer}`);
    if (this.dueForRefresh(credential) && credential.refreshToken) {
      try {
        credential = await this.refresh(credential, false);
      } catch (error) {
        // Nothing reached the server: the token still in hand serves until it expires.
        const untouched = (error instanceof NetworkError && !error.mayHaveBeenProcessed) || error instanceof TooManyRequests;
        if (!untouched || this.expired(credential)) throw error;
      }
    }
    if (this.expired(credential)) {
      throw new NotLoggedIn('expired', `The login to ${this.issuer} has expired`);
    }
    return credential;
  }

  /**
   * One refresh for every process of the user: under the lock, the stored
   * login is read again, and refreshed only if no one else did meanwhile.
   * The rotated refresh token is stored before anything else happens. A
   * refresh whose answer was lost is never sent again.
   */
  private refresh(seen: Credential, force: boolean): Promise<Credential> {
    return withFileLock(this.lockPath, async () => {
      const latest = await this.store.load(this.key);
      if (!latest) throw new NotLoggedIn('none', `Not logged in to ${this.issuer}`);
      if (latest.accessToken !== seen.accessToken) return latest;
      if (!latest.refreshToken || (!force && !this.dueForRefresh(latest))) return latest;
      const client = await this.client();
      let tokens: TokenSet;
      try {
        tokens = await client.refresh(latest.refreshToken);
      } catch (error) {
        if (error instanceof InvalidGrant) {
          await this.store.save({ ...latest, refreshToken: undefined });
          throw new NotLoggedIn('revoked', `The login to ${this.issuer} was revoked or has expired`);
        }
        if (lostAnswer(error)) {
          await this.store.save({ ...latest, refreshToken: undefined });
          throw new RefreshOutcomeUnknown(error);
        }
        throw error;
      }
      const next = this.credentialFrom(tokens, latest);
      // RFC 6749 §6: without a new refresh token, the old one stays valid.
      next.refreshToken = tokens.refreshToken ?? latest.refreshToken;
      await this.store.save(next);
      return next;
    });
  }

  private credentialFrom(tokens: TokenSet, previous: { deviceLabel?: string; subject?: CredentialSubject; scope?: string[] }): Credential {
    const now = this.now();
    return {
      version: 1,
      ...this.key,
      accessToken: tokens.accessToken,
      tokenType: 'Bearer',
      expiresAt: tokens.expiresIn === undefined ? undefined : new Date(now + tokens.expiresIn * 1000).toISOString(),
      refreshToken: tokens.refreshToken,
      scope: tokens.scope ?? previous.scope,
      deviceLabel: previous.deviceLabel,
      obtainedAt: new Date(now).toISOString(),
      subject: previous.subject,
    };
  }

  private async describe(accessToken: string, signal?: AbortSignal): Promise<CredentialSubject | undefined> {
    try {
      const answer = await this.http.json({ url: `${this.issuer}/v1/me`, headers: { authorization: `Bearer ${accessToken}` }, signal });
      if (answer.status !== 200 || typeof answer.body !== 'object' || answer.body === null) return undefined;
      const me = answer.body as Record<string, unknown>;
      const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
      return {
        sub: text(me.sub),
        email: text(me.email),
        name: text(me.name),
        organization: text(me.organization) ?? null,
        authorizationId: text(me.authorization_id),
      };
    } catch {
      return undefined;
    }
  }

  private expired(credential: Credential): boolean {
    return credential.expiresAt !== undefined && Date.parse(credential.expiresAt) <= this.now();
  }

  private dueForRefresh(credential: Credential): boolean {
    if (credential.expiresAt === undefined) return false;
    const expiresAt = Date.parse(credential.expiresAt);
    const lifetime = expiresAt - Date.parse(credential.obtainedAt);
    const margin = Math.min(this.refreshMarginMs, Math.max(0, lifetime / 2));
    return this.now() + margin >= expiresAt;
  }
}
