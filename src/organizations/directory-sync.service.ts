import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { X509Certificate } from 'node:crypto';
import { AuditService } from '../audit/audit.service';
import { AppConfig, type ConnectorDefinition } from '../config/app-config';
import { DirectoryRepository } from './directory.repository';

/**
 * At boot, writes the config file's organizations and connectors to Postgres
 * (so operators and auditors can see them beside the subjects and tokens that
 * refer to them), each change with its audit event. Idempotent, so every
 * instance may run it.
 */
@Injectable()
export class DirectorySyncService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Directory');

  constructor(
    private readonly config: AppConfig,
    private readonly directory: DirectoryRepository,
    private readonly audit: AuditService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const changes = await this.audit.transaction(async (transaction) => {
      const made = await this.directory.sync(
        this.config.organizations,
        this.config.connectors.map((definition) => ({ definition, settings: publicSettings(definition) })),
        transaction.manager,
      );
      for (const change of made) {
        await transaction.record({
          origin: null,
          type: change.kind === 'organization' ? 'organization.changed' : 'connector.changed',
          outcome: 'success',
          actor: { type: 'system' },
          organizationId: change.organizationId ?? undefined,
          details: { id: change.id, change: change.change, source: 'config' },
        });
      }
      return made;
    });
    if (changes.length > 0) this.logger.log({ msg: 'organizations and connectors updated from the config file', changes: changes.length });
  }
}

/** What may be stored and shown of a connector's settings: never the OIDC client secret; certificates by fingerprint. */
function publicSettings(connector: ConnectorDefinition): Record<string, unknown> {
  if (connector.type === 'saml') {
    const { idpCerts, ...rest } = connector.saml;
    return { ...rest, idpCertFingerprints: idpCerts.map(fingerprint) };
  }
  if (connector.type === 'oidc') {
    const { clientSecret, ...rest } = connector.oidc;
    return { ...rest, clientAuthentication: clientSecret ? 'client_secret_basic' : 'none' };
  }
  if (connector.type === 'ldap') {
    const { bindPassword, caCerts, ...rest } = connector.ldap;
    return { ...rest, caCertFingerprints: caCerts.map(fingerprint) };
  }
  return {};
}

/** The configuration refused to start with a certificate that does not parse, so this one does. */
function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}
