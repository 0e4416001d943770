import { Injectable } from '@nestjs/common';
import { ClientRegistry } from '../clients/client-registry.service';
import { Clock } from '../common/clock';
import { LastUsedService } from './last-used.service';
import { TokensRepository } from './tokens.repository';

/** One live device authorization of a person, as the API and the console show it. */
export interface AuthorizationEntry {
  id: string;
  client: { id: string; name: string };
  deviceLabel: string | null;
  scopes: string[];
  organizationId: string | null;
  createdAt: Date;
  lastUsed: { at: Date; ip: string | null } | null;
  expiresAt: Date;
  refreshable: boolean;
  /** The browser that approved it: address, software, and the hash of its browser id (never shown); null when not recorded. */
  approvedFrom: { ip: string; userAgent: string; browserHash: string | null } | null;
}

/** A person's live authorizations, with last use taken from what is not yet flushed to Postgres when that is newer. */
@Injectable()
export class AuthorizationInventoryService {
  constructor(
    private readonly repository: TokensRepository,
    private readonly clients: ClientRegistry,
    private readonly lastUsed: LastUsedService,
    private readonly clock: Clock,
  ) {}

  async list(subjectId: string): Promise<AuthorizationEntry[]> {
    const rows = await this.repository.listLive(subjectId, new Date(this.clock.now()));
    return Promise.all(
      rows.map(async (row) => {
        const unwritten = this.lastUsed.unwritten(row.id);
        const lastUsedAt = unwritten && (!row.lastUsedAt || unwritten.at > row.lastUsedAt) ? unwritten.at : row.lastUsedAt;
        const lastUsedIp = unwritten && lastUsedAt === unwritten.at ? (unwritten.ip ?? row.lastUsedIp) : row.lastUsedIp;
        const client = await this.clients.find(row.clientId);
        return {
          id: row.id,
          client: { id: row.clientId, name: client?.name ?? row.clientId },
          deviceLabel: row.deviceLabel || null,
          scopes: row.scopes,
          organizationId: row.organizationId,
          createdAt: row.createdAt,
          lastUsed: lastUsedAt ? { at: lastUsedAt, ip: lastUsedIp } : null,
          expiresAt: row.expiresAt,
          refreshable: row.refreshable,
          approvedFrom: row.approvedIp === null ? null : { ip: row.approvedIp, userAgent: row.approvedUserAgent ?? '', browserHash: row.approvedBrowserHash },
        };
      }),
    );
  }
}
