import { Injectable } from '@nestjs/common';
import { clientView, ClientsAdminService } from '../admin/clients-admin.service';
import { userActor } from '../audit/audit-event';
import { AuditService } from '../audit/audit.service';
import { ClientRegistry } from '../clients/client-registry.service';
import type { OAuthParams } from '../common/http';
import { ForeignOrganization, InvalidRequest, NotFound } from '../common/oauth-errors';
import { SubjectsRepository } from '../tokens/subjects.repository';
import { TokensService } from '../tokens/tokens.service';
import type { ConsoleSession } from './session/console-session.service';

/**
 * The admin view's work, scoped as the API scopes an admin token: an admin
 * of no organization manages every client and off-boards anyone; an admin
 * of an organization (signed in through its connector) sees, registers,
 * enables and disables that organization's clients only, and off-boards
 * people from that organization only. A client of another organization is
 * "no such client", so its existence shows nowhere.
 */
@Injectable()
export class ConsoleAdminService {
  constructor(
    private readonly registry: ClientRegistry,
    private readonly clients: ClientsAdminService,
    private readonly subjects: SubjectsRepository,
    private readonly tokens: TokensService,
    private readonly audit: AuditService,
  ) {}

  async list(session: ConsoleSession) {
    const organization = scopeOf(session);
    return (await this.registry.list())
      .filter(({ client }) => !organization || client.organizationId === organization)
      .map(({ client, source }) => clientView(client, source));
  }

  /** Registers a client from the form; an organization's admin registers into that organization, whatever the form says. */
  async register(session: ConsoleSession, params: OAuthParams) {
    const organization = scopeOf(session);
    const asked = params.optional('organization');
    if (organization && asked !== undefined && asked !== organization) {
      throw new ForeignOrganization(`You administer organization ${organization}; a client of ${asked.slice(0, 64)} is not yours to register`);
    }
    const clientId = params.optional('client_id');
    const owner = organization ?? asked;
    return this.clients.create(
      session.origin,
      {
        name: params.required('name'),
        type: params.required('type'),
        scopes: params.required('scopes').split(/[\s,]+/).filter(Boolean),
        ...(clientId ? { client_id: clientId } : {}),
        ...(owner ? { organization: owner } : {}),
      },
      userActor(session.person),
    );
  }

  async setEnabled(session: ConsoleSession, clientId: string, enabled: boolean) {
    const organization = scopeOf(session);
    if (organization && (await this.registry.find(clientId))?.organizationId !== organization) {
      throw new NotFound(`No client ${clientId.slice(0, 128)}`);
    }
    return this.clients.setEnabled(session.origin, clientId, enabled, userActor(session.person));
  }

  /** Every authorization of a person revoked (each one audited as token.revoked; of the admin's organization only, for an organization's admin), then the off-boarding itself with its reason. */
  async offboard(session: ConsoleSession, subject: string, reason: string): Promise<number> {
    if (reason.trim().length === 0 || reason.length > 500) throw new InvalidRequest('Give a reason of at most 500 characters');
    const organizationId = scopeOf(session);
    const actor = userActor(session.person);
    const offboarded: string[] = [];
    let revoked = 0;
    for (const { id } of await this.subjects.findByIdOrEmail(subject.trim())) {
      const closed = await this.tokens.revoke(session.origin, { kind: 'subject', subjectId: id, organizationId }, 'admin', actor);
      // An organization's admin learns only of the people it had something to take from.
      if (closed.length > 0 || !organizationId) offboarded.push(id);
      revoked += closed.length;
    }
    await this.audit.record({
      origin: session.origin,
      type: 'subject.offboarded',
      outcome: 'success',
      actor,
      organizationId,
      details: { subject: subject.trim().slice(0, 320), subjects: offboarded, reason: reason.trim(), revoked },
    });
    return revoked;
  }
}

/** The organization an admin's session is confined to; undefined for an admin of no organization. */
function scopeOf(session: ConsoleSession): string | undefined {
  return session.person.organizationId || undefined;
}
