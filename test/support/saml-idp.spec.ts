import { X509Certificate, createPrivateKey } from 'node:crypto';
import { DOMParser, XMLSerializer, type Element } from '@xmldom/xmldom';
import { SAML, SamlStatusError, ValidateInResponseTo, type CacheItem, type CacheProvider, type Profile, type SamlConfig } from '@node-saml/passport-saml';
import { SignedXml } from 'xml-crypto';
import { buildSamlResponse, createSamlTestKey, parseAuthnRequest, type ParsedAuthnRequest, type SamlResponseOptions, type SamlTestKey } from './saml-idp';

const SP_ENTITY_ID = 'https://sp.test/saml/metadata';
const ACS_URL = 'https://sp.test/saml/acs';
const IDP_ENTITY_ID = 'https://idp.test/metadata';
const ENTRY_POINT = 'https://idp.test/sso';
const USER = 'alice@example.com';
const ATTACKER = 'mallory@evil.test';
const DS_NS = 'http://www.w3.org/2000/09/xmldsig#';
const SAML_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
const STATUS = 'urn:oasis:names:tc:SAML:2.0:status:';

/** node-saml's request-id store: InResponseTo is valid while its AuthnRequest id is here. */
class MemoryCacheProvider implements CacheProvider {
  private readonly items = new Map<string, CacheItem>();

  async saveAsync(key: string, value: string): Promise<CacheItem | null> {
    if (this.items.has(key)) return null;
    const item = { value, createdAt: Date.now() };
    this.items.set(key, item);
    return item;
  }

  async getAsync(key: string): Promise<string | null> {
    return this.items.get(key)?.value ?? null;
  }

  async removeAsync(key: string | null): Promise<string | null> {
    if (key === null || !this.items.delete(key)) return null;
    return key;
  }

  has(key: string): boolean {
    return this.items.has(key);
  }
}

let idpKey: SamlTestKey;
let otherKey: SamlTestKey;

beforeAll(async () => {
  [idpKey, otherKey] = await Promise.all([createSamlTestKey('idp.test'), createSamlTestKey('attacker.test')]);
});

/** A strict SP as our ACS configures it; `overrides` relax or change single settings. */
function createSp(overrides: Partial<SamlConfig> = {}) {
  const cache = new MemoryCacheProvider();
  const saml = new SAML({
    callbackUrl: ACS_URL,
    entryPoint: ENTRY_POINT,
    issuer: SP_ENTITY_ID,
    audience: SP_ENTITY_ID,
    idpCert: idpKey.certificate,
    idpIssuer: IDP_ENTITY_ID,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: true,
    validateInResponseTo: ValidateInResponseTo.always,
    cacheProvider: cache,
    acceptedClockSkewMs: 0,
    ...overrides,
  });
  return { saml, cache };
}

async function startLogin(saml: SAML): Promise<ParsedAuthnRequest> {
  return parseAuthnRequest(await saml.getAuthorizeUrlAsync('relay-1', 'sp.test', {}));
}

/** A good response to `request`; `overrides` turn it into the case under test. */
function respond(request: ParsedAuthnRequest, overrides: Partial<SamlResponseOptions> = {}): string {
  return buildSamlResponse({
    key: idpKey,
    issuer: IDP_ENTITY_ID,
    audience: SP_ENTITY_ID,
    acsUrl: request.acsUrl ?? ACS_URL,
    inResponseTo: request.id,
    nameId: USER,
    attributes: { email: USER, name: 'Alice Example' },
    ...overrides,
  });
}

async function validProfile(saml: SAML, samlResponse: string): Promise<Profile> {
  const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: samlResponse });
  if (!profile) throw new Error('no profile');
  return profile;
}

function decode(samlResponse: string): string {
  return Buffer.from(samlResponse, 'base64').toString('utf8');
}

function elements(xml: string, namespace: string, localName: string): Element[] {
  return Array.from(new DOMParser().parseFromString(xml, 'text/xml').getElementsByTagNameNS(namespace, localName));
}

/** What a naive verifier sees: does the (only) signature verify, and which XML did it sign? */
function naiveVerify(xml: string, certificate: string): { valid: boolean; signedXml: string } {
  const [signature] = elements(xml, DS_NS, 'Signature');
  const verifier = new SignedXml({ publicCert: certificate });
  verifier.loadSignature(new XMLSerializer().serializeToString(signature));
  const valid = verifier.checkSignature(xml);
  return { valid, signedXml: verifier.getSignedReferences()[0] ?? '' };
}

function child(parent: Element, localName: string): Element {
  const found = Array.from(parent.childNodes).find((node) => (node as Element).localName === localName);
  if (!found) throw new Error(`no ${localName} in ${parent.tagName}`);
  return found as Element;
}

/** The NameID a careless SP reads: Response/Assertion[1]/Subject/NameID. */
function firstAssertionNameId(xml: string): string | null {
  const [response] = elements(xml, 'urn:oasis:names:tc:SAML:2.0:protocol', 'Response');
  return child(child(child(response, 'Assertion'), 'Subject'), 'NameID').textContent;
}

describe('createSamlTestKey', () => {
  it('makes a cached RSA 2048 key with a matching self-signed certificate', async () => {
    expect(await createSamlTestKey('idp.test')).toBe(idpKey);
    const certificate = new X509Certificate(idpKey.certificate);
    expect(certificate.subject).toContain('CN=idp.test');
    expect(certificate.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(certificate.checkPrivateKey(createPrivateKey(idpKey.privateKey))).toBe(true);
    expect(certificate.verify(certificate.publicKey)).toBe(true);
  });
});

describe('parseAuthnRequest', () => {
  it('decodes the SP redirect', async () => {
    const { saml, cache } = createSp();
    const request = await startLogin(saml);
    expect(request).toEqual({
      id: expect.stringMatching(/^_/),
      issuer: SP_ENTITY_ID,
      acsUrl: ACS_URL,
      destination: ENTRY_POINT,
      relayState: 'relay-1',
      entryPoint: ENTRY_POINT,
    });
    expect(cache.has(request.id)).toBe(true);
  });
});

describe('strict SP: response and assertion signed', () => {
  it('accepts a good response and exposes name id, attributes and assertion details', async () => {
    const { saml, cache } = createSp();
    const request = await startLogin(saml);
    const notOnOrAfter = new Date(Date.now() + 120_000);
    const profile = await validProfile(saml, respond(request, { assertionId: '_assertion-1', notOnOrAfter }));
    expect(profile).toMatchObject({ issuer: IDP_ENTITY_ID, nameID: USER, inResponseTo: request.id, email: USER });
    expect(profile.attributes).toEqual({ email: USER, name: 'Alice Example' });
    expect(profile.ID).toBeUndefined();
    const assertion = profile.getAssertion?.() as { Assertion: { $: { ID: string }; Conditions: Array<{ $: { NotOnOrAfter: string } }> } };
    expect(assertion.Assertion.$.ID).toBe('_assertion-1');
    expect(assertion.Assertion.Conditions[0].$.NotOnOrAfter).toBe(notOnOrAfter.toISOString());
    expect(profile.getAssertionXml?.()).toContain('ID="_assertion-1"');
    expect(cache.has(request.id)).toBe(false);
  });

  it('accepts an embedded KeyInfo of the configured key', async () => {
    const { saml } = createSp();
    const profile = await validProfile(saml, respond(await startLogin(saml), { keyInfo: true }));
    expect(profile.nameID).toBe(USER);
  });

  const rejections: Array<[string, () => Partial<SamlResponseOptions>, string | RegExp]> = [
    ['an unsigned response', () => ({ signResponse: false }), /^Invalid document signature$/],
    ['an unsigned assertion', () => ({ signAssertion: false }), /^Invalid signature$/],
    ['a response signed by another key', () => ({ key: otherKey }), /^Invalid document signature$/],
    ['another key with its certificate in KeyInfo', () => ({ key: otherKey, keyInfo: true }), /^Invalid document signature$/],
    ['a second unsigned assertion', () => ({ wrap: 'second-unsigned-assertion', attackerNameId: ATTACKER }), /^Invalid document signature$/],
    ['a moved signed assertion', () => ({ wrap: 'moved-signed-assertion', attackerNameId: ATTACKER }), /^Invalid document signature$/],
    ['a wrong audience', () => ({ audience: 'https://other-sp.test' }), `SAML assertion audience mismatch. Expected: ${SP_ENTITY_ID} Received: https://other-sp.test`],
    ['an expired assertion', () => ({ notOnOrAfter: new Date(Date.now() - 1000) }), /^No valid subject confirmation found among those available/],
    ['a not yet valid assertion', () => ({ notBefore: new Date(Date.now() + 60_000) }), /^SAML assertion not yet valid$/],
    ['an unknown InResponseTo', () => ({ inResponseTo: '_unknown' }), /^InResponseTo is not valid$/],
    ['a missing InResponseTo', () => ({ inResponseTo: undefined }), /^InResponseTo is missing from response$/],
    ['an unsigned IdP error response', () => ({ status: `${STATUS}AuthnFailed`, signResponse: false }), /^Invalid document signature$/],
  ];

  it.each(rejections)('rejects %s', async (_name, overrides, message) => {
    const { saml } = createSp();
    const samlResponse = respond(await startLogin(saml), overrides());
    await expect(saml.validatePostResponseAsync({ SAMLResponse: samlResponse })).rejects.toThrow(message);
  });

  it('rejects a non-success status with a SamlStatusError', async () => {
    const { saml } = createSp();
    const samlResponse = respond(await startLogin(saml), { status: `${STATUS}AuthnFailed` });
    const error = await saml.validatePostResponseAsync({ SAMLResponse: samlResponse }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SamlStatusError);
    expect((error as Error).message).toBe('SAML provider returned Responder error: AuthnFailed');
  });

  it('resolves a signed NoPassive status with a null profile instead of rejecting', async () => {
    const { saml } = createSp();
    const samlResponse = respond(await startLogin(saml), { status: `${STATUS}NoPassive` });
    await expect(saml.validatePostResponseAsync({ SAMLResponse: samlResponse })).resolves.toEqual({ profile: null, loggedOut: false });
  });

  it('rejects the same response the second time', async () => {
    const { saml } = createSp();
    const samlResponse = respond(await startLogin(saml));
    await validProfile(saml, samlResponse);
    await expect(saml.validatePostResponseAsync({ SAMLResponse: samlResponse })).rejects.toThrow(/^InResponseTo is not valid$/);
  });

  it('burns the request id on any rejection, so a later good response fails too', async () => {
    const { saml } = createSp();
    const request = await startLogin(saml);
    await expect(saml.validatePostResponseAsync({ SAMLResponse: respond(request, { key: otherKey }) })).rejects.toThrow();
    await expect(saml.validatePostResponseAsync({ SAMLResponse: respond(request) })).rejects.toThrow(/^InResponseTo is not valid$/);
  });

  it('does not check the issuer of a login response: idpIssuer only applies to logout messages', async () => {
    const { saml } = createSp();
    const profile = await validProfile(saml, respond(await startLogin(saml), { issuer: 'https://evil-idp.test' }));
    expect(profile.issuer).toBe('https://evil-idp.test');
  });

  it('does not check Destination or Recipient', async () => {
    const { saml } = createSp();
    const profile = await validProfile(saml, respond(await startLogin(saml), { acsUrl: 'https://elsewhere.test/acs' }));
    expect(profile.nameID).toBe(USER);
  });
});

describe('SP with wantAuthnResponseSigned false: assertion signature only', () => {
  const unsignedResponse = { signResponse: false };

  it('accepts a response with only the assertion signed', async () => {
    const { saml } = createSp({ wantAuthnResponseSigned: false });
    const profile = await validProfile(saml, respond(await startLogin(saml), unsignedResponse));
    expect(profile.nameID).toBe(USER);
  });

  it.each<[string, Partial<SamlResponseOptions>, RegExp]>([
    ['an unsigned assertion', { signAssertion: false }, /^Invalid signature$/],
    ['a second unsigned assertion', { wrap: 'second-unsigned-assertion', attackerNameId: ATTACKER }, /^Invalid signature: multiple assertions$/],
    ['a moved signed assertion', { wrap: 'moved-signed-assertion', attackerNameId: ATTACKER }, /^Invalid signature: Referenced node does not refer to it's parent/],
  ])('rejects %s', async (_name, overrides, message) => {
    const { saml } = createSp({ wantAuthnResponseSigned: false });
    const samlResponse = respond(await startLogin(saml), { ...unsignedResponse, ...overrides });
    await expect(saml.validatePostResponseAsync({ SAMLResponse: samlResponse })).rejects.toThrow(message);
  });
});

describe('wrapping attacks keep a cryptographically valid signature', () => {
  const request = { id: '_req', issuer: SP_ENTITY_ID, acsUrl: ACS_URL, destination: ENTRY_POINT, relayState: null, entryPoint: ENTRY_POINT };
  const wraps = ['second-unsigned-assertion', 'moved-signed-assertion'] as const;

  it.each(wraps)("%s: the signature verifies naively, the first assertion is the attacker's", (wrap) => {
    const xml = decode(respond(request, { signResponse: false, wrap, attackerNameId: ATTACKER }));
    const { valid, signedXml } = naiveVerify(xml, idpKey.certificate);
    expect(valid).toBe(true);
    expect(signedXml).toContain(`>${USER}</saml:NameID>`);
    expect(firstAssertionNameId(xml)).toBe(ATTACKER);
    expect(elements(xml, SAML_NS, 'Assertion')).toHaveLength(2);
  });
});
