import type { DeviceLogin } from './device-login';
import { InvalidToken, NetworkError, NotAvailable, NotFound, NotLoggedIn, oauthErrorFromResponse, ProtocolError } from './errors';

/** GET /v1/me */
export interface Me {
  sub: string;
  issuer: string;
  external_id?: string;
  email: string;
  name?: string;
  organization: string | null;
  client_id: string;
  device_label: string | null;
  scopes: string[];
  authorization_id: string;
  expires_at: string;
}

/** One entry of GET /v1/oauth/authorizations */
export interface Authorization {
  id: string;
  client: { id: string; name: string };
  device_label: string | null;
  scopes: string[];
  organization: string | null;
  created_at: string;
  last_used: { at: string; ip: string | null } | null;
  expires_at: string;
  refreshable: boolean;
  current: boolean;
}

export type AuditVerifyReport =
  | { ok: true; seals: number; events: number; last_event_id: string | null; digest: string | null }
  | { ok: false; break: { seal_seq: number; event_id?: string; reason: string } };

/** A client as GET /v1/admin/clients shows it (never a secret). */
export interface ClientView {
  client_id: string;
  name: string;
  type: 'public' | 'confidential';
  source: 'config' | 'database';
  enabled: boolean;
  grant_types: string[];
  scopes: string[];
  default_scopes: string[];
  organization: string | null;
  resource_server: boolean;
}

/** The body of POST /v1/admin/clients: the config file's client fields, without a secret (devicegate generates it). */
export interface NewClient {
  client_id?: string;
  name: string;
  type: 'public' | 'confidential';
  scopes: string[];
  default_scopes?: string[];
  grant_types?: string[];
  organization?: string;
  poll_interval?: number;
  device_code_ttl?: number;
  access_token_ttl?: number;
  resource_server?: boolean;
}

export interface AuditFilters {
  type?: string;
  subject?: string;
  organization?: string;
  client?: string;
  since?: string;
  until?: string;
}

/** devicegate's own API (`/v1/…`), called with a device login's token. */
export class DevicegateApi {
  constructor(private readonly login: DeviceLogin) {}

  me(signal?: AbortSignal): Promise<Me> {
    return this.json<Me>('/v1/me', { signal });
  }

  async authorizations(signal?: AbortSignal): Promise<Authorization[]> {
    return (await this.json<{ authorizations: Authorization[] }>('/v1/oauth/authorizations', { signal })).authorizations;
  }

  /** Revokes one of the caller's own authorizations (404 `not_found` when it is not theirs or not live). */
  async revokeAuthorization(id: string, signal?: AbortSignal): Promise<void> {
    await this.json(`/v1/oauth/authorizations/${encodeURIComponent(id)}`, { method: 'DELETE', signal });
  }

  /** Every client, of the config file and of the database (needs `admin`, of no organization). */
  async clients(signal?: AbortSignal): Promise<ClientView[]> {
    return (await this.json<{ clients: ClientView[] }>('/v1/admin/clients', { signal })).clients;
  }

  /** Registers a database client; a confidential one comes back with its `client_secret`, shown this once. */
  createClient(client: NewClient, signal?: AbortSignal): Promise<ClientView & { client_secret?: string }> {
    return this.json('/v1/admin/clients', { method: 'POST', json: client, signal });
  }

  setClientEnabled(clientId: string, enabled: boolean, signal?: AbortSignal): Promise<ClientView> {
    return this.json(`/v1/admin/clients/${encodeURIComponent(clientId)}`, { method: 'PATCH', json: { enabled }, signal });
  }

  auditVerify(signal?: AbortSignal): Promise<AuditVerifyReport> {
    return this.json<AuditVerifyReport>('/v1/audit/verify', { signal });
  }

  /** The NDJSON stream of GET /v1/audit/events/export (needs `audit:read`). */
  async auditExport(filters: AuditFilters, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(filters)) if (value !== undefined) query.set(name, value);
    const search = query.toString();
    const response = await this.login.request(`/v1/audit/events/export${search ? `?${search}` : ''}`, { signal, accept: 'application/x-ndjson' });
    if (response.status !== 200) throw await this.failure(response, '/v1/audit/events/export');
    if (!response.body) throw new ProtocolError('The export answered without a body');
    return response.body;
  }

  private async json<T>(path: string, init: { method?: string; json?: unknown; signal?: AbortSignal }): Promise<T> {
    const response = await this.login.request(path, init);
    if (response.status === 204) return undefined as T;
    if (response.status !== 200 && response.status !== 201) throw await this.failure(response, path);
    try {
      return (await response.json()) as T;
    } catch (error) {
      if (error instanceof SyntaxError) throw new ProtocolError(`${path} answered with a body that is not JSON`);
      throw new NetworkError(`The answer of ${path} was cut off`, true, error);
    }
  }

  private async failure(response: Response, path: string): Promise<Error> {
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const error = oauthErrorFromResponse(response.status, body, response.headers);
    if (error instanceof InvalidToken) return new NotLoggedIn('revoked', `The server no longer accepts this login (${error.description ?? 'invalid_token'})`);
    // devicegate's answer for a route it does not have.
    if (error instanceof NotFound && error.description === 'No such endpoint') {
      return new NotAvailable(`${path.split('?')[0]} is not available on this server (an older devicegate?)`);
    }
    return error;
  }
}
