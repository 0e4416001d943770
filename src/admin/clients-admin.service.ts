import { Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { AuditActor } from '../audit/audit-event';
import { ClientRegistry } from '../clients/client-registry.service';
import { randomToken } from '../common/crypto';
import { InvalidRequest, NotFound } from '../common/oauth-errors';
import type { RequestContext } from '../common/request-context';
import { AppConfig, type ClientDefinition } from '../config/app-config';
import { ClientEntry } from '../config/config-file.dto';
import { describeValidationErrors } from '../config/config-validation';
import { clientFromEntry } from '../config/load-config';

/** A client as the admin API shows it: never a secret or its hash. */
export function clientView(client: ClientDefinition, source: 'config' | 'database') {
  return {
    client_id: client.clientId,
    name: client.name,
    type: client.type,
    source,
    enabled: client.enabled,
    grant_types: client.grantTypes,
    scopes: client.allowedScopes,
    default_scopes: client.defaultScopes,
    organization: client.organizationId ?? null,
    resource_server: client.resourceServer ?? false,
  };
}

/**
 * Registers and changes database clients for the admin API, with the same
 * rules as the config file; the secret of a confidential client is generated
 * here and shown once.
 */
@Injectable()
export class ClientsAdminService {
  private readonly scopes: Set<string>;
  private readonly organizations: Set<string>;

  constructor(
    private readonly config: AppConfig,
    private readonly registry: ClientRegistry,
  ) {
    this.scopes = new Set(config.scopes.map((scope) => scope.name));
    this.organizations = new Set(config.organizations.map((organization) => organization.id));
  }

  async create(context: RequestContext | null, body: unknown, actor: AuditActor) {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidRequest('Send the client as a JSON object');
    const fields = body as Record<string, unknown>;
    if ('client_secret' in fields || 'client_secret_sha256' in fields) {
      throw new InvalidRequest('devicegate generates the secret of a confidential client; do not send one');
    }
    const clientId = typeof fields.client_id === 'string' ? fields.client_id : `dgc_${randomToken(12)}`;
    const secret = fields.type === 'confidential' ? randomToken(32) : undefined;
    const client = this.validate({ ...fields, client_id: clientId, client_secret: secret });
    if (await this.registry.find(client.clientId)) throw new InvalidRequest(`A client ${client.clientId} exists already`);
    await this.registry.save(context, client, actor);
    return { ...clientView(client, 'database'), ...(secret ? { client_secret: secret } : {}) };
  }

  /** Turns a database client on or off; a client of the config file is changed in the file. */
  async setEnabled(context: RequestContext | null, clientId: string, enabled: boolean, actor: AuditActor) {
    if (this.registry.isConfigured(clientId)) {
      throw new InvalidRequest(`Client ${clientId} comes from the config file; change it there`);
    }
    const client = await this.registry.find(clientId);
    if (!client) throw new NotFound(`No client ${clientId.slice(0, 128)}`);
    const changed = { ...client, enabled };
    await this.registry.save(context, changed, actor);
    return clientView(changed, 'database');
  }

  private validate(fields: Record<string, unknown>): ClientDefinition {
    const entry = plainToInstance(ClientEntry, fields);
    const problems = describeValidationErrors(validateSync(entry, { whitelist: true, forbidNonWhitelisted: true }));
    if (problems.length === 0) {
      const client = clientFromEntry(entry, 'client', this.config.env === 'production', problems);
      for (const scope of client.allowedScopes) if (!this.scopes.has(scope)) problems.push(`scope ${scope} is not in the scope catalog`);
      for (const scope of client.defaultScopes) {
        if (!client.allowedScopes.includes(scope)) problems.push(`default scope ${scope} is not among the client's scopes`);
      }
      if (client.organizationId && !this.organizations.has(client.organizationId)) {
        problems.push(`organization ${client.organizationId} is not declared`);
      }
      if (problems.length === 0) return client;
    }
    throw new InvalidRequest(`The client is not valid: ${problems.join('; ')}`);
  }
}
