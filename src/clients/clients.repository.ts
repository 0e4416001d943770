import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import type { ClientDefinition } from '../config/app-config';
import { ClientEntity } from './client.entity';

@Injectable()
export class ClientsRepository {
  private readonly clients: Repository<ClientEntity>;

  constructor(dataSource: DataSource) {
    this.clients = dataSource.getRepository(ClientEntity);
  }

  async find(clientId: string): Promise<ClientDefinition | undefined> {
    const row = await this.clients.findOneBy({ clientId });
    return row ? toDefinition(row) : undefined;
  }

  async list(): Promise<ClientDefinition[]> {
    return (await this.clients.find({ order: { clientId: 'ASC' } })).map(toDefinition);
  }

  /** Inserts or updates; true when the client is new. */
  async save(client: ClientDefinition, manager: EntityManager): Promise<boolean> {
    const [row]: { created: boolean }[] = await manager.query(
      `INSERT INTO oauth_clients (client_id, name, type, secret_hash, grant_types, allowed_scopes, default_scopes,
                                  device_code_ttl, poll_interval, access_token_ttl, enabled, organization_id, resource_server,
                                  refresh_token_idle_ttl, refresh_token_absolute_ttl)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
       ON CONFLICT (client_id) DO UPDATE
          SET name = EXCLUDED.name, type = EXCLUDED.type, secret_hash = EXCLUDED.secret_hash,
              grant_types = EXCLUDED.grant_types, allowed_scopes = EXCLUDED.allowed_scopes,
              default_scopes = EXCLUDED.default_scopes, device_code_ttl = EXCLUDED.device_code_ttl,
              poll_interval = EXCLUDED.poll_interval, access_token_ttl = EXCLUDED.access_token_ttl,
              enabled = EXCLUDED.enabled, organization_id = EXCLUDED.organization_id,
              resource_server = EXCLUDED.resource_server, refresh_token_idle_ttl = EXCLUDED.refresh_token_idle_ttl,
              refresh_token_absolute_ttl = EXCLUDED.refresh_token_absolute_ttl, updated_at = now()
       RETURNING (xmax = 0) AS created`,
      [
        client.clientId,
        client.name,
        client.type,
        client.secretHash ?? null,
        client.grantTypes,
        client.allowedScopes,
        client.defaultScopes,
        client.deviceCodeTtlSeconds ?? null,
        client.pollIntervalSeconds ?? null,
        client.accessTokenTtlSeconds ?? null,
        client.enabled,
        client.organizationId ?? null,
        client.resourceServer ?? false,
        client.refreshTokenIdleTtlSeconds ?? null,
        client.refreshTokenAbsoluteTtlSeconds ?? null,
      ],
    );
    return row.created;
  }
}

function toDefinition(row: ClientEntity): ClientDefinition {
  return {
    clientId: row.clientId,
    name: row.name,
    type: row.type,
    secretHash: row.secretHash ?? undefined,
    grantTypes: row.grantTypes,
    allowedScopes: row.allowedScopes,
    defaultScopes: row.defaultScopes,
    deviceCodeTtlSeconds: row.deviceCodeTtl ?? undefined,
    pollIntervalSeconds: row.pollInterval ?? undefined,
    accessTokenTtlSeconds: row.accessTokenTtl ?? undefined,
    enabled: row.enabled,
    organizationId: row.organizationId ?? undefined,
    resourceServer: row.resourceServer,
    refreshTokenIdleTtlSeconds: row.refreshTokenIdleTtl ?? undefined,
    refreshTokenAbsoluteTtlSeconds: row.refreshTokenAbsoluteTtl ?? undefined,
  };
}
