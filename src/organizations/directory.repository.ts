import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ConnectorDefinition, OrganizationDefinition } from '../config/app-config';

export interface DirectoryChange {
  kind: 'organization' | 'connector';
  id: string;
  change: 'created' | 'changed' | 'disabled';
  organizationId: string | null;
}

/** The transaction-scoped advisory lock instances take to sync the directory: 'dgdr' in ASCII. */
export const DIRECTORY_SYNC_LOCK = 0x64676472;

/** Keeps the `organizations` and `sso_connectors` tables in step with the config file. */
@Injectable()
export class DirectoryRepository {
  /**
   * Upserts what the config declares and disables connectors it no longer
   * declares; returns what changed. Must run in a transaction: it holds the
   * sync lock until that transaction ends.
   */
  async sync(
    organizations: OrganizationDefinition[],
    connectors: { definition: ConnectorDefinition; settings: Record<string, unknown> }[],
    manager: EntityManager,
  ): Promise<DirectoryChange[]> {
    // Instances booting at the same moment take turns, so the later one sees the
    // rows the first committed. Without it both insert the same organization:
    // ON CONFLICT (id) settles the id, but the slug's unique index is not its
    // arbiter, so the second insert fails and that instance does not start.
    await manager.query('SELECT pg_advisory_xact_lock($1)', [DIRECTORY_SYNC_LOCK]);
    const changes: DirectoryChange[] = [];
    for (const organization of organizations) {
      const rows: { created: boolean }[] = await manager.query(
        `INSERT INTO organizations (id, slug, name, email_domains) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE
            SET slug = EXCLUDED.slug, name = EXCLUDED.name, email_domains = EXCLUDED.email_domains, updated_at = now()
          WHERE (organizations.slug, organizations.name, organizations.email_domains)
                IS DISTINCT FROM (EXCLUDED.slug, EXCLUDED.name, EXCLUDED.email_domains)
         RETURNING (xmax = 0) AS created`,
        [organization.id, organization.slug, organization.name, organization.emailDomains],
      );
      for (const row of rows) {
        changes.push({ kind: 'organization', id: organization.id, change: row.created ? 'created' : 'changed', organizationId: organization.id });
      }
    }
    for (const { definition, settings } of connectors) {
      const rows: { created: boolean }[] = await manager.query(
        `INSERT INTO sso_connectors (id, organization_id, type, display_name, settings) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE
            SET organization_id = EXCLUDED.organization_id, type = EXCLUDED.type, display_name = EXCLUDED.display_name,
                settings = EXCLUDED.settings, enabled = true, updated_at = now()
          WHERE (sso_connectors.organization_id, sso_connectors.type, sso_connectors.display_name, sso_connectors.settings, sso_connectors.enabled)
                IS DISTINCT FROM (EXCLUDED.organization_id, EXCLUDED.type, EXCLUDED.display_name, EXCLUDED.settings, true)
         RETURNING (xmax = 0) AS created`,
        [definition.id, definition.organizationId ?? null, definition.type, definition.displayName, settings],
      );
      for (const row of rows) {
        changes.push({
          kind: 'connector',
          id: definition.id,
          change: row.created ? 'created' : 'changed',
          organizationId: definition.organizationId ?? null,
        });
      }
    }
    const disabled: { id: string; organization_id: string | null }[] = await manager.query(
      // A CTE, so the driver answers with the rows (a bare UPDATE answers [rows, count]).
      `WITH disabled AS (
         UPDATE sso_connectors SET enabled = false, updated_at = now()
          WHERE enabled AND NOT (id = ANY($1)) RETURNING id, organization_id
       )
       SELECT id, organization_id FROM disabled`,
      [connectors.map(({ definition }) => definition.id)],
    );
    for (const row of disabled) {
      changes.push({ kind: 'connector', id: row.id, change: 'disabled', organizationId: row.organization_id });
    }
    return changes;
  }
}
