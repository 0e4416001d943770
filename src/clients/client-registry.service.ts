import { Injectable } from '@nestjs/common';
import type { AuditActor } from '../audit/audit-event';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { constantTimeEqual, sha256Hex } from '../common/crypto';
import { InvalidClient, InvalidRequest } from '../common/oauth-errors';
import type { RequestContext } from '../common/request-context';
import { AppConfig, type ClientDefinition } from '../config/app-config';
import { ClientsRepository } from './clients.repository';

/** How long a database client (or its absence) is trusted in process; a change takes at most this long to apply. */
export const CLIENT_CACHE_TTL_MS = 10_000;
const CLIENT_CACHE_MAX_ENTRIES = 10_000;
/** What `oauth_clients.client_id` (varchar(128) in Postgres, which refuses NUL) can hold at all. */
const STORABLE_CLIENT_ID = /^[^\p{Cc}]{1,128}$/u;

export interface ClientCredentials {
  /** The raw Authorization header, if any (client_secret_basic). */
  authorization?: string;
  clientId?: string;
  clientSecret?: string;
}

/**
 * The clients of the config file, then those of the database (cached
 * briefly so a poll never waits on Postgres), and RFC 6749 §2.3 client
 * authentication against them.
 */
@Injectable()
export class ClientRegistry {
  private readonly configured: Map<string, ClientDefinition>;
  private readonly cache = new Map<string, { client?: ClientDefinition; until: number }>();

  constructor(
    config: AppConfig,
    private readonly clients: ClientsRepository,
    private readonly clock: Clock,
    private readonly audit: AuditService,
  ) {
    this.configured = new Map(config.clients.map((client) => [client.clientId, client]));
  }

  async find(clientId: string): Promise<ClientDefinition | undefined> {
    const configured = this.configured.get(clientId);
    if (configured) return configured;
    if (!STORABLE_CLIENT_ID.test(clientId)) return undefined;
    const cached = this.freshEntry(clientId);
    if (cached) return cached.client;
    const now = this.clock.now();
    const client = await this.clients.find(clientId);
    if (this.cache.size >= CLIENT_CACHE_MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(clientId, { client, until: now + CLIENT_CACHE_TTL_MS });
    return client;
  }

  /** The client when it is known without a database read (the config file, a fresh cache entry); undefined otherwise. */
  known(clientId: string): ClientDefinition | undefined {
    return this.configured.get(clientId) ?? this.freshEntry(clientId)?.client;
  }

  private freshEntry(clientId: string): { client?: ClientDefinition } | undefined {
    const cached = this.cache.get(clientId);
    return cached && cached.until > this.clock.now() ? cached : undefined;
  }

  /** Every client: those of the config file, then those of the database. */
  async list(): Promise<{ client: ClientDefinition; source: 'config' | 'database' }[]> {
    const stored = await this.clients.list();
    return [
      ...[...this.configured.values()].map((client) => ({ client, source: 'config' as const })),
      ...stored.filter((client) => !this.configured.has(client.clientId)).map((client) => ({ client, source: 'database' as const })),
    ];
  }

  isConfigured(clientId: string): boolean {
    return this.configured.has(clientId);
  }

  /** Registers or changes a database client, with its audit event in the same transaction. */
  async save(context: RequestContext | null, client: ClientDefinition, actor: AuditActor = { type: 'system' }): Promise<void> {
    if (this.configured.has(client.clientId)) {
      throw new InvalidRequest(`Client ${client.clientId} comes from the config file and cannot be changed here`);
    }
    await this.audit.transaction(async (transaction) => {
      const created = await this.clients.save(client, transaction.manager);
      await transaction.record({
        origin: context,
        type: created ? 'client.created' : 'client.changed',
        outcome: 'success',
        actor,
        clientId: client.clientId,
        details: {
          name: client.name,
          type: client.type,
          enabled: client.enabled,
          grant_types: client.grantTypes,
          scopes: client.allowedScopes,
          default_scopes: client.defaultScopes,
          has_secret: Boolean(client.secretHash),
        },
      });
    });
    this.cache.delete(client.clientId);
  }

  /** RFC 6749 §2.3: client_secret_basic, client_secret_post, or client_id alone for a public client. */
  async authenticate(credentials: ClientCredentials): Promise<ClientDefinition> {
    const basic = credentials.authorization ? parseBasic(credentials.authorization) : undefined;
    if (basic && credentials.clientSecret !== undefined) {
      throw new InvalidRequest('Use one client authentication method, not both client_secret_basic and client_secret_post');
    }
    if (basic && credentials.clientId !== undefined && credentials.clientId !== basic.clientId) {
      throw new InvalidRequest('client_id in the body does not match the Authorization header');
    }
    const clientId = basic?.clientId ?? credentials.clientId;
    const secret = basic?.clientSecret ?? credentials.clientSecret;
    if (!clientId) throw new InvalidClient('client_id is missing', Boolean(credentials.authorization));

    const client = await this.find(clientId);
    if (!client || !client.enabled) throw new InvalidClient('Unknown or disabled client', Boolean(basic));
    if (client.type === 'public') {
      if (secret !== undefined) throw new InvalidClient('A public client has no secret to send', Boolean(basic));
      return client;
    }
    if (secret === undefined) throw new InvalidClient('This client must authenticate with its secret', true);
    if (!constantTimeEqual(sha256Hex(secret), client.secretHash ?? '')) {
      throw new InvalidClient('Client authentication failed', Boolean(basic));
    }
    return client;
  }
}

/** RFC 6749 §2.3.1: `Basic base64(urlencode(id):urlencode(secret))`; undefined when the header is another scheme. */
function parseBasic(header: string): { clientId: string; clientSecret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header);
  if (!match) {
    if (/^Basic\b/i.test(header)) throw new InvalidClient('Malformed Basic authorization header', true);
    return undefined;
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator < 0) throw new InvalidClient('Malformed Basic authorization header', true);
  try {
    return {
      clientId: decodeURIComponent(decoded.slice(0, separator).replace(/\+/g, ' ')),
      clientSecret: decodeURIComponent(decoded.slice(separator + 1).replace(/\+/g, ' ')),
    };
  } catch {
    throw new InvalidClient('Malformed Basic authorization header', true);
  }
}
