import { MultiSamlStrategy } from '@node-saml/passport-saml';
import passport from 'passport';
import LdapAuthStrategy from 'passport-ldapauth';
import { Strategy as PassportLocalStrategy } from 'passport-local';
import { LdapStrategy, LDAP_STRATEGY } from './ldap/ldap.strategy';
import type { LocalUsersService } from './local/local-users.service';
import { LOCAL_STRATEGY, LocalStrategy } from './local/local.strategy';
import type { OidcConnectors } from './oidc/oidc-connectors.service';
import { OIDC_STRATEGY, OidcStrategy } from './oidc/oidc.strategy';
import { VerifiedAnswerStrategy } from './passport-sign-in';
import { SAML_STRATEGY, SamlStrategy } from './saml/saml.strategy';

/** Every connector type signs people in through a passport strategy registered under its name. */
describe('sign-in strategies', () => {
  const registered = (name: string) => (passport as unknown as { _strategy(name: string): unknown })._strategy(name);

  it.each([
    [LOCAL_STRATEGY, () => new LocalStrategy({} as LocalUsersService), PassportLocalStrategy],
    [SAML_STRATEGY, () => new SamlStrategy(), MultiSamlStrategy],
    [OIDC_STRATEGY, () => new OidcStrategy({} as OidcConnectors), VerifiedAnswerStrategy],
    [LDAP_STRATEGY, () => new LdapStrategy(), LdapAuthStrategy],
  ] as const)('%s is a passport strategy of its library', (name, create, library) => {
    const strategy = create();
    expect(strategy).toBeInstanceOf(library);
    expect(registered(name)).toBe(strategy);
  });
});
