import type { RequestContext } from '../../common/request-context';
import { Injectable, Logger } from '@nestjs/common';
import { DirectoryUnavailable, InvalidCredentials, SignInRejected } from '../../common/oauth-errors';
import type { ConnectorDefinition } from '../../config/app-config';
import type { PendingFlow } from '../../device-flow/device-flow.service';
import { authenticateWith } from '../passport-sign-in';
import { SignInService } from '../sign-in.service';
import { firstString, looksLikeEmail, type VerifiedIdentity } from '../sso-identity';
import { LDAP_STRATEGY, type LdapEntry, type LdapSignInRequest } from './ldap.strategy';

export type LdapConnector = Extract<ConnectorDefinition, { type: 'ldap' }>;

/** Subjects of an LDAP connector carry this issuer and the connector's id: the directory has no issuer of its own. */
export const ldapIssuer = (connector: LdapConnector) => `urn:devicegate:ldap:${connector.id}`;

/** A person's name and password checked against the organization's directory through passport-ldapauth. */
@Injectable()
export class LdapConnectors {
  private readonly logger = new Logger(LdapConnectors.name);

  constructor(private readonly signIn: SignInService) {}

  /** The verified identity, or a refusal that is already audited. */
  async authenticate(origin: RequestContext, connector: LdapConnector, credentials: LdapSignInRequest['body'], pending?: PendingFlow): Promise<VerifiedIdentity> {
    const request: LdapSignInRequest = { body: credentials, settings: connector.ldap };
    const outcome = await authenticateWith<LdapEntry>(LDAP_STRATEGY, request).catch(async (error: unknown) => {
      this.logger.warn({ msg: 'LDAP directory unreachable', connector: connector.id, error: (error as Error)?.message });
      await this.signIn.reject(origin, connector.id, 'directory_unavailable', pending);
      throw new DirectoryUnavailable();
    });
    if ('failure' in outcome) {
      await this.signIn.reject(origin, connector.id, 'invalid_credentials', pending);
      throw new InvalidCredentials();
    }
    const entry = outcome.user;
    const email = firstString(entry, [connector.ldap.emailAttribute])?.toLowerCase();
    if (!looksLikeEmail(email)) {
      await this.signIn.reject(origin, connector.id, 'email_missing', pending, { dn: entry.dn.slice(0, 256) });
      throw new SignInRejected('email_missing', 'Your directory entry has no email address; ask your administrator');
    }
    return {
      issuer: ldapIssuer(connector),
      externalId: firstString(entry, [connector.ldap.idAttribute]) ?? entry.dn,
      email,
      name: firstString(entry, [connector.ldap.nameAttribute]) ?? email,
    };
  }
}
