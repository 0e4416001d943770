import { Injectable } from '@nestjs/common';
// node-saml's parser, so these checks read the document exactly as its signature checks did.
import { parseDomFromString, xpath } from '@node-saml/node-saml/lib/xml';
import { type CacheProvider, type Profile, SAML, type SamlConfig, SamlStatusError, ValidateInResponseTo } from '@node-saml/passport-saml';
import { Clock } from '../../common/clock';
import { isDependencyFailure } from '../../common/dependency-errors';
import { SignInRejected } from '../../common/oauth-errors';
import { AppConfig, type SamlConnectorSettings } from '../../config/app-config';
import { OnceStore, ValueStore } from '../../redis/once.store';
import { authenticateWith } from '../passport-sign-in';
import { firstString, looksLikeEmail, type VerifiedIdentity } from '../sso-identity';
import { SAML_STRATEGY, type SamlSignInRequest } from './saml.strategy';

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

const SAML_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const XMLDSIG = 'http://www.w3.org/2000/09/xmldsig#';
const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
/** rsa-sha1, dsa-sha1, ecdsa-sha1, hmac-sha1 signatures and sha1 digests. */
const SHA1_ALGORITHM = /[#-]sha1$/i;

/**
 * SAML 2.0 connectors on node-saml, with its strict defaults kept: signed
 * assertions (and responses unless the connector says otherwise), the
 * audience checked, no clock skew unless configured, `InResponseTo` always
 * checked against request ids kept in Redis. On top of node-saml, as
 * Shibboleth and Keycloak do: the assertion's Issuer must be the IdP's
 * entity id; every bearer SubjectConfirmationData names our ACS URL as its
 * Recipient and has a NotOnOrAfter; a Destination, present (and it must be
 * on a signed Response), is our ACS URL; a Response that is not a Success
 * carries no assertion we accept; a Response signature that is present is
 * verified even where it is not required; no SHA-1 unless the connector
 * allows it; and each assertion ID is remembered until it expires so it is
 * accepted once.
 */
@Injectable()
export class SamlConnectors {
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
    return new SAML(this.options(connector)).generateServiceProviderMetadata(null, null);
  }

  /** The person a SAMLResponse names, when it verifies and answers `requestId`; otherwise SignInRejected. */
  async verify(connector: SamlConnector, samlResponse: string | undefined, requestId: string | undefined): Promise<VerifiedIdentity> {
    if (!samlResponse) throw rejected('response_missing', 'The identity provider sent no SAML response');
    const envelope = await readEnvelope(samlResponse);
    // A Response signature that is there must verify, even on a connector that does not require one.
    const verifyResponseSignature = !connector.saml.wantResponseSigned && envelope?.signed === true;
    let profile: Profile | undefined;
    try {
      const options = this.options(connector);
      const request: SamlSignInRequest = {
        body: { SAMLResponse: samlResponse },
        samlOptions: verifyResponseSignature ? { ...options, wantAuthnResponseSigned: true } : options,
      };
      const outcome = await authenticateWith<Profile>(SAML_STRATEGY, request);
      profile = 'user' in outcome ? outcome.user : undefined;
    } catch (error) {
      // node-saml reads the request ids from Redis: an outage is a 503, not a forged response.
      if (isDependencyFailure(error)) throw error;
      if (verifyResponseSignature && (error as Error)?.message === 'Invalid document signature') {
        throw rejected('response_signature_invalid', NOT_VERIFIED);
      }
      throw toRejection(error);
    }
    if (!profile) throw rejected('idp_error', 'Your identity provider did not sign you in');
    const { saml } = connector;
    if (profile.issuer !== saml.idpIssuer) throw rejected('issuer_mismatch', 'The SAML assertion comes from another identity provider');
    if (!requestId || profile.inResponseTo !== requestId) {
      throw rejected('in_response_to_mismatch', 'The SAML response answers another sign-in than this one');
    }
    const assertion = readAssertion(profile);
    const acsUrl = this.acsUrl(connector.id);
    if (assertion.confirmations.some((confirmation) => confirmation.recipient !== undefined && confirmation.recipient !== acsUrl)) {
      throw rejected('recipient_mismatch', 'The SAML assertion was meant for another service');
    }
    if (assertion.confirmations.length === 0 || assertion.confirmations.some((confirmation) => confirmation.recipient === undefined)) {
      throw rejected('recipient_missing', NOT_VERIFIED);
    }
    if (assertion.confirmations.some((confirmation) => confirmation.notOnOrAfter === undefined)) {
      throw rejected('confirmation_expiry_missing', NOT_VERIFIED);
    }
    if (!envelope) throw rejected('response_invalid', NOT_VERIFIED);
    if (envelope.destination !== undefined && envelope.destination !== acsUrl) {
      throw rejected('destination_mismatch', 'The SAML response was meant for another service');
    }
    if (envelope.destination === undefined && envelope.signed) throw rejected('destination_missing', NOT_VERIFIED);
    if (envelope.status !== STATUS_SUCCESS) throw rejected('status_not_success', 'Your identity provider did not sign you in');
    if (!saml.allowSha1 && envelope.algorithms.some((algorithm) => SHA1_ALGORITHM.test(algorithm))) {
      throw rejected('sha1_refused', NOT_VERIFIED);
    }
    if (!assertion.id) throw rejected('assertion_invalid', 'The SAML assertion has no ID');
    const keepFor = (assertion.notOnOrAfter ?? this.clock.now() + this.config.ssoStateTtlSeconds * 1000) - this.clock.now() + saml.clockSkewMs;
    if (!(await this.once.consume(`saml-assertion:${connector.id}:${assertion.id}`, Math.max(60_000, keepFor)))) {
      throw rejected('assertion_replay', 'This SAML assertion was already used; sign in again');
    }
    return toIdentity(profile, saml);
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

const NOT_VERIFIED = 'The response of your identity provider could not be verified; sign in again';

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
  return rejected(reason, NOT_VERIFIED);
}

interface EnvelopeFacts {
  destination?: string;
  /** The top-level StatusCode. */
  status?: string;
  /** The Response itself carries a ds:Signature. */
  signed: boolean;
  /** Every SignatureMethod and DigestMethod algorithm of the document. */
  algorithms: string[];
}

/**
 * What node-saml leaves unchecked of the Response element, read with
 * node-saml's own parser; undefined when the document is not a Response.
 */
async function readEnvelope(samlResponse: string): Promise<EnvelopeFacts | undefined> {
  const doc = await parseDomFromString(Buffer.from(samlResponse, 'base64').toString('utf8')).catch(() => undefined);
  if (!doc) return undefined;
  const response = `/*[local-name()='Response' and namespace-uri()='${SAML_PROTOCOL}']`;
  const [root] = xpath.selectElements(doc, response);
  if (!root) return undefined;
  const protocol = (name: string) => `*[local-name()='${name}' and namespace-uri()='${SAML_PROTOCOL}']`;
  const dsig = (name: string) => `*[local-name()='${name}' and namespace-uri()='${XMLDSIG}']`;
  const [status] = xpath.selectAttributes(doc, `${response}/${protocol('Status')}/${protocol('StatusCode')}/@Value`);
  return {
    destination: root.getAttribute('Destination') || undefined,
    status: status?.value,
    signed: xpath.selectElements(doc, `${response}/${dsig('Signature')}`).length > 0,
    algorithms: xpath
      .selectAttributes(doc, `//${dsig('SignatureMethod')}/@Algorithm | //${dsig('DigestMethod')}/@Algorithm`)
      .map((attribute) => attribute.value),
  };
}

interface SubjectConfirmationFacts {
  recipient?: string;
  notOnOrAfter?: string;
}

interface AssertionFacts {
  id?: string;
  notOnOrAfter?: number;
  /** The bearer SubjectConfirmationData of the subject. */
  confirmations: SubjectConfirmationFacts[];
}

/** ID, expiry and recipient of the verified assertion (node-saml's xml2js shape, prefixes stripped). */
function readAssertion(profile: Profile): AssertionFacts {
  type Node = { $?: Record<string, string> } & Record<string, unknown>;
  const assertion = (profile.getAssertion?.() as { Assertion?: Node } | undefined)?.Assertion;
  const all = (node: Node | undefined, name: string) => (node?.[name] as Node[] | undefined) ?? [];
  const first = (node: Node | undefined, name: string) => all(node, name)[0];
  const confirmations = all(first(assertion, 'Subject'), 'SubjectConfirmation')
    .filter((confirmation) => confirmation.$?.Method === BEARER)
    .map((confirmation) => first(confirmation, 'SubjectConfirmationData')?.$ ?? {})
    .map((data) => ({ recipient: data.Recipient, notOnOrAfter: data.NotOnOrAfter }));
  const expiries = [first(assertion, 'Conditions')?.$?.NotOnOrAfter, ...confirmations.map((confirmation) => confirmation.notOnOrAfter)]
    .filter((value): value is string => typeof value === 'string')
    .map((value) => Date.parse(value));
  return {
    id: assertion?.$?.ID,
    notOnOrAfter: expiries.length > 0 ? Math.max(...expiries) : undefined,
    confirmations,
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
