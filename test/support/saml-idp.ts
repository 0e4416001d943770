/**
 * A test-only SAML 2.0 identity provider: self-signed keys, real signed HTTP-POST responses
 * (optionally turned into XML signature wrapping attacks) and a decoder for the SP's
 * HTTP-Redirect AuthnRequests. Nothing here is meant for production use.
 */
import { randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { DOMParser, XMLSerializer, onErrorStopParsing, type Document, type Element } from '@xmldom/xmldom';
import { generate } from 'selfsigned';
import { SignedXml } from 'xml-crypto';

/** An RSA key pair with its self-signed X.509 certificate, both PEM encoded. */
export interface SamlTestKey {
  privateKey: string;
  certificate: string;
}

export interface SamlResponseOptions {
  /** Signs the assertion and/or the response. */
  key: SamlTestKey;
  /** IdP entity id: the Issuer of the Response and of the Assertion. */
  issuer: string;
  /** SP entity id, put in the AudienceRestriction. */
  audience: string;
  /** Response@Destination and SubjectConfirmationData@Recipient, unless these are given. */
  acsUrl: string;
  /** Response@Destination; default acsUrl, null leaves it out. */
  destination?: string | null;
  /** SubjectConfirmationData@Recipient; default acsUrl, null leaves it out. */
  recipient?: string | null;
  /** SubjectConfirmationData@NotOnOrAfter; default the assertion's NotOnOrAfter, null leaves it out. */
  confirmationNotOnOrAfter?: Date | null;
  /** Keep the assertion even when `status` is not Success (a confused or hostile IdP). */
  assertionDespiteStatus?: boolean;
  /** Sign with rsa-sha1 and sha1 digests (old ADFS) instead of rsa-sha256 / sha256. */
  sha1?: boolean;
  /** After signing, change one character of the Response's SignatureValue so it no longer verifies. */
  breakResponseSignature?: boolean;
  /** Response@InResponseTo and SubjectConfirmationData@InResponseTo; omitted when undefined. */
  inResponseTo?: string;
  nameId: string;
  /** One saml:Attribute per entry, Name = key, a single xs:string AttributeValue. */
  attributes?: Record<string, string>;
  /** Conditions@NotBefore; default now - 1 min. */
  notBefore?: Date;
  /** Conditions@NotOnOrAfter and SubjectConfirmationData@NotOnOrAfter; default now + 5 min. */
  notOnOrAfter?: Date;
  /** IssueInstant of Response and Assertion, AuthnInstant; default now. */
  issueInstant?: Date;
  /** Default: '_' + random hex. */
  assertionId?: string;
  /** Default: '_' + random hex. */
  responseId?: string;
  /** Enveloped rsa-sha256 / exc-c14n signature inside the Assertion, after its Issuer; default true. */
  signAssertion?: boolean;
  /** Enveloped signature of the whole Response, after the Response's Issuer; default true. */
  signResponse?: boolean;
  /** Embed ds:KeyInfo/ds:X509Data/ds:X509Certificate of the signing key; default false. */
  keyInfo?: boolean;
  /**
   * Turn the signed response into an XML signature wrapping attack (applied after signing,
   * so an outer Response signature, if any, no longer matches, as it would for a real attacker):
   * - 'second-unsigned-assertion': an unsigned assertion for `attackerNameId` (fresh ID) is
   *   inserted before the intact signed one.
   * - 'moved-signed-assertion': an unsigned assertion for `attackerNameId` (fresh ID) takes the
   *   signed assertion's place and carries its ds:Signature; the original assertion, without that
   *   signature, sits in the signature's ds:Object, so the signature still verifies cryptographically
   *   (the Reference points at the moved original). Requires signAssertion.
   */
  wrap?: 'second-unsigned-assertion' | 'moved-signed-assertion';
  /** The name id the wrapping attack tries to sneak in; default 'attacker@evil.test'. */
  attackerNameId?: string;
  /**
   * Top-level status code; default Success. Any other value yields an IdP error response without
   * an assertion; a second-level code (e.g. ...:status:AuthnFailed) is nested under Responder.
   */
  status?: string;
}

/** What an SP put into its HTTP-Redirect AuthnRequest. */
export interface ParsedAuthnRequest {
  id: string;
  issuer: string;
  acsUrl: string | undefined;
  destination: string | undefined;
  relayState: string | null;
  /** The redirect URL without its query string. */
  entryPoint: string;
}

const NS = {
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xs: 'http://www.w3.org/2001/XMLSchema',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
} as const;

const STATUS_PREFIX = 'urn:oasis:names:tc:SAML:2.0:status:';
const STATUS_SUCCESS = `${STATUS_PREFIX}Success`;
const STATUS_RESPONDER = `${STATUS_PREFIX}Responder`;
const TOP_LEVEL_STATUSES = new Set(['Success', 'Requester', 'Responder', 'VersionMismatch'].map((code) => STATUS_PREFIX + code));

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

const RESPONSE_XPATH = "/*[local-name()='Response']";
const ASSERTION_XPATH = `${RESPONSE_XPATH}/*[local-name()='Assertion']`;

const DEFAULT_ATTACKER_NAME_ID = 'attacker@evil.test';
const keyCache = new Map<string, Promise<SamlTestKey>>();

/** RSA 2048 key with a self-signed sha256 certificate; generated once per commonName per process. */
export function createSamlTestKey(commonName: string): Promise<SamlTestKey> {
  let key = keyCache.get(commonName);
  if (!key) {
    key = generateKey(commonName);
    keyCache.set(commonName, key);
    key.catch(() => keyCache.delete(commonName));
  }
  return key;
}

async function generateKey(commonName: string): Promise<SamlTestKey> {
  const pems = await generate([{ name: 'commonName', value: commonName }], { keyType: 'rsa', keySize: 2048, algorithm: 'sha256' });
  return { privateKey: pems.private, certificate: pems.cert };
}

/** Builds, signs and optionally attacks a SAML Response; returns it base64 encoded (the SAMLResponse form field). */
export function buildSamlResponse(options: SamlResponseOptions): string {
  const signed = signResponseXml(responseXml(options), options);
  const broken = options.breakResponseSignature ? breakResponseSignature(signed) : signed;
  const xml = options.wrap ? applyWrap(broken, options) : broken;
  return Buffer.from(xml, 'utf8').toString('base64');
}

/** Decodes an HTTP-Redirect binding URL carrying a deflated, base64 encoded AuthnRequest. */
export function parseAuthnRequest(redirectUrl: string): ParsedAuthnRequest {
  const url = new URL(redirectUrl);
  const encoded = url.searchParams.get('SAMLRequest');
  if (!encoded) throw new Error(`no SAMLRequest in ${redirectUrl}`);
  const request = parseXml(inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8')).documentElement;
  if (!request || request.localName !== 'AuthnRequest' || request.namespaceURI !== NS.samlp) {
    throw new Error('SAMLRequest is not a samlp:AuthnRequest');
  }
  return {
    id: requiredAttribute(request, 'ID'),
    issuer: childElement(request, NS.saml, 'Issuer')?.textContent ?? '',
    acsUrl: request.getAttribute('AssertionConsumerServiceURL') ?? undefined,
    destination: request.getAttribute('Destination') ?? undefined,
    relayState: url.searchParams.get('RelayState'),
    entryPoint: `${url.origin}${url.pathname}`,
  };
}

function randomId(): string {
  return `_${randomBytes(20).toString('hex')}`;
}

function instant(date: Date): string {
  return date.toISOString();
}

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Serializes one element; undefined attributes are left out, children are already XML. */
function element(name: string, attributes: Record<string, string | undefined>, ...children: string[]): string {
  const attrs = Object.entries(attributes)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([attr, value]) => ` ${attr}="${escapeXml(value)}"`)
    .join('');
  return children.length ? `<${name}${attrs}>${children.join('')}</${name}>` : `<${name}${attrs}/>`;
}

function text(name: string, attributes: Record<string, string | undefined>, value: string): string {
  return element(name, attributes, escapeXml(value));
}

function issuerXml(issuer: string): string {
  return text('saml:Issuer', { Format: 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity' }, issuer);
}

function statusXml(status: string): string {
  if (TOP_LEVEL_STATUSES.has(status)) return element('samlp:Status', {}, element('samlp:StatusCode', { Value: status }));
  return element('samlp:Status', {}, element('samlp:StatusCode', { Value: STATUS_RESPONDER }, element('samlp:StatusCode', { Value: status })));
}

function responseXml(options: SamlResponseOptions): string {
  const status = options.status ?? STATUS_SUCCESS;
  const issueInstant = options.issueInstant ?? new Date();
  const attributes = {
    'xmlns:samlp': NS.samlp,
    'xmlns:saml': NS.saml,
    ID: options.responseId ?? randomId(),
    Version: '2.0',
    IssueInstant: instant(issueInstant),
    Destination: options.destination === null ? undefined : (options.destination ?? options.acsUrl),
    InResponseTo: options.inResponseTo,
  };
  const assertion = hasAssertion(options) ? assertionXml(options, issueInstant) : '';
  return element('samlp:Response', attributes, issuerXml(options.issuer), statusXml(status), assertion);
}

function assertionXml(options: SamlResponseOptions, issueInstant: Date): string {
  const notBefore = options.notBefore ?? new Date(issueInstant.getTime() - 60_000);
  const notOnOrAfter = options.notOnOrAfter ?? new Date(issueInstant.getTime() + 5 * 60_000);
  const attributes = {
    'xmlns:saml': NS.saml,
    'xmlns:xs': NS.xs,
    'xmlns:xsi': NS.xsi,
    ID: options.assertionId ?? randomId(),
    Version: '2.0',
    IssueInstant: instant(issueInstant),
  };
  return element(
    'saml:Assertion',
    attributes,
    issuerXml(options.issuer),
    subjectXml(options, notOnOrAfter),
    conditionsXml(options.audience, notBefore, notOnOrAfter),
    authnStatementXml(issueInstant),
    attributeStatementXml(options.attributes ?? {}),
  );
}

function subjectXml(options: SamlResponseOptions, notOnOrAfter: Date): string {
  const confirmationNotOnOrAfter = options.confirmationNotOnOrAfter === undefined ? notOnOrAfter : options.confirmationNotOnOrAfter;
  const confirmationData = element('saml:SubjectConfirmationData', {
    InResponseTo: options.inResponseTo,
    NotOnOrAfter: confirmationNotOnOrAfter === null ? undefined : instant(confirmationNotOnOrAfter),
    Recipient: options.recipient === null ? undefined : (options.recipient ?? options.acsUrl),
  });
  return element(
    'saml:Subject',
    {},
    text('saml:NameID', { Format: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified' }, options.nameId),
    element('saml:SubjectConfirmation', { Method: 'urn:oasis:names:tc:SAML:2.0:cm:bearer' }, confirmationData),
  );
}

function conditionsXml(audience: string, notBefore: Date, notOnOrAfter: Date): string {
  const restriction = element('saml:AudienceRestriction', {}, text('saml:Audience', {}, audience));
  return element('saml:Conditions', { NotBefore: instant(notBefore), NotOnOrAfter: instant(notOnOrAfter) }, restriction);
}

function authnStatementXml(authnInstant: Date): string {
  const context = element(
    'saml:AuthnContext',
    {},
    text('saml:AuthnContextClassRef', {}, 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'),
  );
  return element('saml:AuthnStatement', { AuthnInstant: instant(authnInstant), SessionIndex: randomId() }, context);
}

function attributeStatementXml(attributes: Record<string, string>): string {
  const entries = Object.entries(attributes);
  if (!entries.length) return '';
  const attributeXml = ([name, value]: [string, string]) =>
    element(
      'saml:Attribute',
      { Name: name, NameFormat: 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic' },
      text('saml:AttributeValue', { 'xsi:type': 'xs:string' }, value),
    );
  return element('saml:AttributeStatement', {}, ...entries.map(attributeXml));
}

/** Signs the assertion first, then the response, so the response signature covers the assertion's. */
function hasAssertion(options: SamlResponseOptions): boolean {
  return (options.status ?? STATUS_SUCCESS) === STATUS_SUCCESS || options.assertionDespiteStatus === true;
}

function signResponseXml(xml: string, options: SamlResponseOptions): string {
  let signed = xml;
  if (hasAssertion(options) && options.signAssertion !== false) signed = signEnveloped(signed, ASSERTION_XPATH, options);
  if (options.signResponse !== false) signed = signEnveloped(signed, RESPONSE_XPATH, options);
  return signed;
}

/** Adds an enveloped signature of the element at `xpath`, placed right after that element's Issuer. */
function signEnveloped(xml: string, xpath: string, options: SamlResponseOptions): string {
  const signer = new SignedXml({
    privateKey: options.key.privateKey,
    publicCert: options.keyInfo ? options.key.certificate : undefined,
    signatureAlgorithm: options.sha1 ? RSA_SHA1 : RSA_SHA256,
    canonicalizationAlgorithm: EXC_C14N,
  });
  signer.addReference({ xpath, transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: options.sha1 ? SHA1 : SHA256 });
  signer.computeSignature(xml, { prefix: 'ds', location: { reference: `${xpath}/*[local-name()='Issuer']`, action: 'after' } });
  return signer.getSignedXml();
}

function breakResponseSignature(xml: string): string {
  const doc = parseXml(xml);
  const value = childElement(childElement(doc.documentElement ?? undefined, NS.ds, 'Signature'), NS.ds, 'SignatureValue');
  if (!value?.textContent) throw new Error('breakResponseSignature needs a signed response (signResponse must not be false)');
  const text = value.textContent.trim();
  value.textContent = (text[0] === 'A' ? 'B' : 'A') + text.slice(1);
  return new XMLSerializer().serializeToString(doc);
}

function applyWrap(xml: string, options: SamlResponseOptions): string {
  const doc = parseXml(xml);
  const response = doc.documentElement;
  const signed = response && childElement(response, NS.saml, 'Assertion');
  if (!response || !signed) throw new Error('a wrapping attack needs a response with an assertion');
  const evil = forgedAssertion(signed, options.attackerNameId ?? DEFAULT_ATTACKER_NAME_ID);
  if (options.wrap === 'second-unsigned-assertion') response.insertBefore(evil, signed);
  else moveSignedAssertion(doc, response, signed, evil);
  return new XMLSerializer().serializeToString(doc);
}

/** A copy of the signed assertion with a fresh ID, no signature and the attacker's NameID. */
function forgedAssertion(signed: Element, attackerNameId: string): Element {
  const evil = signed.cloneNode(true) as Element;
  evil.setAttribute('ID', randomId());
  const signature = childElement(evil, NS.ds, 'Signature');
  if (signature) evil.removeChild(signature);
  const nameId = childElement(childElement(evil, NS.saml, 'Subject'), NS.saml, 'NameID');
  if (!nameId) throw new Error('assertion has no NameID');
  nameId.textContent = attackerNameId;
  return evil;
}

/** The evil assertion replaces the signed one and carries its signature; the original hides in ds:Object. */
function moveSignedAssertion(doc: Document, response: Element, signed: Element, evil: Element): void {
  const signature = childElement(signed, NS.ds, 'Signature');
  if (!signature) throw new Error("'moved-signed-assertion' needs a signed assertion (signAssertion must not be false)");
  response.replaceChild(evil, signed);
  signed.removeChild(signature);
  const object = doc.createElementNS(NS.ds, 'ds:Object');
  object.appendChild(signed);
  signature.appendChild(object);
  const evilIssuer = childElement(evil, NS.saml, 'Issuer');
  evil.insertBefore(signature, evilIssuer ? evilIssuer.nextSibling : evil.firstChild);
}

function parseXml(xml: string): Document {
  return new DOMParser({ onError: onErrorStopParsing }).parseFromString(xml, 'text/xml');
}

function childElement(parent: Element | undefined, namespace: string, localName: string): Element | undefined {
  if (!parent) return undefined;
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === node.ELEMENT_NODE) {
      const child = node as Element;
      if (child.namespaceURI === namespace && child.localName === localName) return child;
    }
  }
  return undefined;
}

function requiredAttribute(node: Element, name: string): string {
  const value = node.getAttribute(name);
  if (!value) throw new Error(`${node.tagName} has no ${name}`);
  return value;
}
