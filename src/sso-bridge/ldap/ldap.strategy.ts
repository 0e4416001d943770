import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import LdapAuthStrategy from 'passport-ldapauth';
import type { LdapConnectorSettings } from '../../config/app-config';

export const LDAP_STRATEGY = 'ldap';

/** The request this strategy reads: the connector's settings travel with it, so one strategy serves every LDAP connector. */
export interface LdapSignInRequest {
  body: { username: string; password: string };
  settings: LdapConnectorSettings;
}

/** A directory entry as ldapjs gives it: the DN and the requested attributes (a list when multi-valued). */
export type LdapEntry = Record<string, unknown> & { dn: string };

/**
 * passport-ldapauth: binds as the service account, searches for the person
 * with the filter (the typed name escaped per RFC 4515), then binds as the
 * entry found with the typed password. A fresh connection per sign-in.
 */
@Injectable()
export class LdapStrategy extends PassportStrategy(LdapAuthStrategy, LDAP_STRATEGY) {
  constructor() {
    super((request: object, done: (error: Error | null, options: LdapAuthStrategy.Options) => void) =>
      done(null, ldapAuthOptions((request as LdapSignInRequest).settings)),
    );
  }

  validate(entry: LdapEntry): LdapEntry {
    return entry;
  }
}

function ldapAuthOptions(settings: LdapConnectorSettings): LdapAuthStrategy.Options {
  const tlsOptions = { minVersion: 'TLSv1.2' as const, ...(settings.caCerts.length > 0 ? { ca: settings.caCerts } : {}) };
  return {
    server: {
      url: settings.url,
      bindDN: settings.bindDn,
      bindCredentials: settings.bindPassword,
      searchBase: settings.searchBase,
      searchFilter: settings.searchFilter,
      searchAttributes: [...new Set([settings.emailAttribute, settings.nameAttribute, settings.idAttribute])],
      tlsOptions,
      timeout: settings.timeoutMs,
      connectTimeout: settings.timeoutMs,
      reconnect: false,
    },
    usernameField: 'username',
    passwordField: 'password',
    handleErrorsAsFailures: false,
  };
}
