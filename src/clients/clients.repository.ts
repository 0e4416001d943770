import { Injectable } from '@nestjs/common';
import { DataSource, type Repository } from 'typeorm';
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

  async save(client: ClientDefinition): Promise<void> {
    await this.clients.save({
      clientId: client.clientId,
      name: client.name,
      type: client.type,
      secretHash: client.secretHash ?? null,
      grantTypes: client.grantTypes,
      allowedScopes: client.allowedScopes,
      defaultScopes: client.defaultScopes,
      deviceCodeTtl: client.deviceCodeTtlSeconds ?? null,
      pollInterval: client.pollIntervalSeconds ?? null,
      accessTokenTtl: client.accessTokenTtlSeconds ?? null,
      enabled: client.enabled,
      updatedAt: new Date(),
    });
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
  };
}
