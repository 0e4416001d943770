import { Injectable } from '@nestjs/common';
import { type CacheProvider, type Profile, SAML, type SamlConfig, SamlStatusError, ValidateInResponseTo } from '@node-saml/passport-saml';
import { Clock } from '../../common/clock';
import { isDependencyFailure } from '../../common/dependency-errors';
import { SignInRejected } from '../../common/oauth-errors';
import { AppConfig, type SamlConnectorSettings } from '../../config/app-config';
import { OnceStore, ValueStore } from '../../redis/once.store';
import { firstString, looksLikeEmail, type VerifiedIdentity } from '../sso-identity';

export interface SamlConnector {
  id: string;
  saml: SamlConnectorSettings;
}

const EMAIL_ATTRIBUTES = [
  'email',
  'mail',
  'emailAddress',
  'urn:oid:0.9.2342.19200300.100.1.3',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
];
const NAME_ATTRIBUTES = [
  'name',
  'displayName',
  'urn:oid:2.16.840.1.113730.3.1.241',
  'http://schemas.microsoft.com/identity/claims/displayname',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
];

/**
 * SAML 2.0 connectors on node-saml, with its strict defaults kept: signed
 * assertions (and responses unless the connector says otherwise), the
 * audience checked, no clock skew unless configured, `InResponseTo` always
 * checked against request ids kept in Redis. On top of node-saml: the
 * assertion's Issuer must be the IdP's entity id, its Recipient our ACS URL,
 * and each assertion ID is remembered until it expires so it is accepted once.
 */
@Injectable()
export class SamlConnectors {
  private readonly validators = new Map<string, SAML>();

  constructor(
    private readonly config: AppConfig,
    private readonly values: ValueStore,
    private readonly once: OnceStore,
    private readonly clock: Clock,
  ) {}

  acsUrl(connectorId: string): string {
    return `${this.config.publicUrl}/oauth/device/sso/saml/${connectorId}/acs`;
  }

  /** The HTTP-Redirect URL of an AuthnRequest with the given ID, carrying the state envelope as RelayState. */
  async authorizeUrl(connector: SamlConnector, requestId: string, relayState: string): Promise<string> {
    const saml = new SAML(this.options(connector, () => requestId));
    return saml.getAuthorizeUrlAsync(relayState, undefined, {});
  }

  metadata(connector: SamlConnector): string {
    return this.validator(connector).generateServiceProviderMetadata(null, null);
  }

  /** The person a SAMLResponse names, when it verifies and answers `requestId`; otherwise SignInRejected. */
  async verify(connector: SamlConnector, samlResponse: string | undefined, requestId: string | undefined): Promise<VerifiedIdentity> {
    if (!samlResponse) throw rejected('response_missing', 'The identity provider sent no SAML response');
    let profile: Profile | null;
    try {
      ({ profile } = await this.validator(connector).validatePostResponseAsync({ SAMLResponse: samlResponse }));
    } catch (error) {
      // node-saml reads the request ids from Redis: an outage is a 503, not a forged response.
      if (isDependencyFailure(error)) throw error;
      throw toRejection(error);
    }
    if (!profile) throw rejected('idp_error', 'Your identity provider did not sign you in');
    const { saml } = connector;
    if (profile.issuer !== saml.idpIssuer) throw rejected('issuer_mismatch', 'The SAML assertion comes from another identity provider');
    if (!requestId || profile.inResponseTo !== requestId) {
      throw rejected('in_response_to_mismatch', 'The SAML response answers another sign-in than this one');
    }
    const assertion = readAssertion(profile);
    if (assertion.recipient !== undefined && assertion.recipient !== this.acsUrl(connector.id)) {
      throw rejected('recipient_mismatch', 'The SAML assertion was meant for another service');
    }
    if (!assertion.id) throw rejected('assertion_invalid', 'The SAML assertion has no ID');
    const keepFor = (assertion.notOnOrAfter ?? this.clock.now() + this.config.ssoStateTtlSeconds * 1000) - this.clock.now() + saml.clockSkewMs;
    if (!(await this.once.consume(`saml-assertion:${connector.id}:${assertion.id}`, Math.max(60_000, keepFor)))) {
      throw rejected('assertion_replay', 'This SAML assertion was already used; sign in again');
    }
    return toIdentity(profile, saml);
  }

  private validator(connector: SamlConnector): SAML {
    let saml = this.validators.get(connector.id);
    if (!saml) {
      saml = new SAML(this.options(connector));
      this.validators.set(connector.id, saml);
    }
    return saml;
  }

  private options(connector: SamlConnector, generateUniqueId?: () => string): SamlConfig {
    const { saml } = connector;
    return {
      callbackUrl: this.acsUrl(connector.id),
      entryPoint: saml.entryPoint,
      issuer: saml.spEntityId,
      audience: saml.spEntityId,
      idpIssuer: saml.idpIssuer,
      idpCert: saml.idpCerts,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: saml.wantResponseSigned,
      acceptedClockSkewMs: saml.clockSkewMs,
      validateInResponseTo: ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: this.config.ssoStateTtlSeconds * 1000,
      cacheProvider: this.requestIds(connector.id),
      // Asking for a password AuthnContext breaks IdPs that sign people in with MFA or passkeys.
      disableRequestedAuthnContext: true,
      signatureAlgorithm: 'sha256',
      ...(generateUniqueId ? { generateUniqueId } : {}),
    };
  }

  /** node-saml's request-id cache, in Redis so that any instance can receive the response. */
  private requestIds(connectorId: string): CacheProvider {
    const key = (id: string) => `saml-request:${connectorId}:${id}`;
    const ttl = this.config.ssoStateTtlSeconds * 1000;
    return {
      saveAsync: async (id, value) => {
        await this.values.put(key(id), value, ttl);
        return { value, createdAt: this.clock.now() };
      },
      getAsync: async (id) => (await this.values.get(key(id))) ?? null,
      removeAsync: async (id) => (id === null ? null : ((await this.values.take(key(id))) ?? null)),
    };
  }
}

function rejected(reason: string, description: string): SignInRejected {
  return new SignInRejected(reason, description);
}

/** node-saml's errors, named for the audit trail; the person sees one plain sentence. */
function toRejection(error: unknown): SignInRejected {
  if (error instanceof SamlStatusError) return rejected('idp_error', 'Your identity provider did not sign you in');
  const message = error instanceof Error ? error.message : String(error);
  const reasons: [RegExp, string][] = [
    [/signature/i, 'invalid_signature'],
    [/audience/i, 'audience_mismatch'],
    [/InResponseTo/, 'in_response_to_invalid'],
    [/subject confirmation|not yet valid|expired|NotOnOrAfter/i, 'expired'],
    [/issuer/i, 'issuer_mismatch'],
  ];
  const reason = reasons.find(([pattern]) => pattern.test(message))?.[1] ?? 'response_invalid';
  return rejected(reason, 'The response of your identity provider could not be verified; sign in again');
}

interface AssertionFacts {
  id?: string;
  notOnOrAfter?: number;
  recipient?: string;
}

/** ID, expiry and recipient of the verified assertion (node-saml's xml2js shape, prefixes stripped). */
function readAssertion(profile: Profile): AssertionFacts {
  type Node = { $?: Record<string, string> } & Record<string, unknown>;
  const assertion = (profile.getAssertion?.() as { Assertion?: Node } | undefined)?.Assertion;
  const first = (node: Node | undefined, name: string) => (node?.[name] as Node[] | undefined)?.[0];
  const confirmation = first(first(first(assertion, 'Subject'), 'SubjectConfirmation'), 'SubjectConfirmationData');
  const expiries = [first(assertion, 'Conditions')?.$?.NotOnOrAfter, confirmation?.$?.NotOnOrAfter]
    .filter((value): value is string => typeof value === 'string')
    .map((value) => Date.parse(value));
  return {
    id: assertion?.$?.ID,
    notOnOrAfter: expiries.length > 0 ? Math.max(...expiries) : undefined,
    recipient: confirmation?.$?.Recipient,
  };
}

function toIdentity(profile: Profile, saml: SamlConnectorSettings): VerifiedIdentity {
  const attributes = { ...(profile.attributes as Record<string, unknown> | undefined), ...profile };
  const email = firstString(attributes, [saml.emailAttribute, ...EMAIL_ATTRIBUTES]) ?? (looksLikeEmail(profile.nameID) ? profile.nameID : undefined);
  if (!looksLikeEmail(email)) throw rejected('email_missing', 'Your identity provider did not send an email address');
  const given = firstString(attributes, ['givenName', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname']);
  const family = firstString(attributes, ['sn', 'surname', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname']);
  const name = firstString(attributes, [saml.nameAttribute, ...NAME_ATTRIBUTES]) ?? ([given, family].filter(Boolean).join(' ') || email);
  return { issuer: saml.idpIssuer, externalId: profile.nameID, email: email.toLowerCase(), name: name.slice(0, 200) };
}
