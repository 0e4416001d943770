import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { IdentityProviderUnavailable, SignInRejected } from '../../common/oauth-errors';
import { IdTokenSignatureVerifier, JWKS_COOLDOWN_MS } from './id-token-signature-verifier';

const CLIENT = { clientId: 'devicegate', clientSecret: 'client-secret-0123456789abcdefghijkl', allowHmacIdTokens: false };

/** An IdP's signing key, under its kid. */
async function signingKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } as JWK };
}

type Key = Awaited<ReturnType<typeof signingKey>>;

describe('IdTokenSignatureVerifier', () => {
  let server: Server;
  let issuer: string;
  let published: JWK[] = [];
  let fetches = 0;

  beforeAll(async () => {
    server = createServer((_request, response) => {
      fetches += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));
  afterEach(() => jest.useRealTimers());

  const verifier = (algs?: string[], client = CLIENT) =>
    new IdTokenSignatureVerifier({ issuer, jwks_uri: `${issuer}/jwks`, id_token_signing_alg_values_supported: algs }, client);

  const idToken = (key: Key, claims: Record<string, unknown> = {}) =>
    new SignJWT({ email: 'carol@acme.test', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .setIssuer(issuer)
      .setAudience(CLIENT.clientId)
      .setSubject('carol')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key.privateKey);

  const reason = (promise: Promise<unknown>) =>
    promise.then(
      () => 'accepted',
      (error: unknown) => (error instanceof SignInRejected ? error.reason : error),
    );

  it('follows a key rotation: an unknown kid fetches the JWKS again, once the cooldown has passed', async () => {
    // Only Date moves: jose's JWKS cache reads the clock, the HTTP requests need real timers.
    jest.useFakeTimers({ doNotFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'nextTick', 'queueMicrotask', 'performance', 'hrtime'] });
    const [old, rolled] = await Promise.all([signingKey('2026-11'), signingKey('2026-12')]);
    published = [old.jwk];
    fetches = 0;
    const subject = verifier(['RS256']);
    expect(await subject.verify(await idToken(old))).toMatchObject({ email: 'carol@acme.test' });
    expect(await subject.verify(await idToken(old))).toMatchObject({ sub: 'carol' });
    expect(fetches).toBe(1);

    published = [old.jwk, rolled.jwk];
    // Within the cooldown a kid never seen is refused without asking the IdP again.
    expect(await reason(subject.verify(await idToken(rolled)))).toBe('id_token_key_unknown');
    jest.setSystemTime(Date.now() + JWKS_COOLDOWN_MS + 1);
    expect(await subject.verify(await idToken(rolled))).toMatchObject({ sub: 'carol' });
    expect(fetches).toBe(2);
  });

  it('refuses another key under a known kid, an edited payload, alg none and HS256 unless allowed', async () => {
    const [genuine, other] = await Promise.all([signingKey('k1'), signingKey('k1')]);
    published = [genuine.jwk];
    const subject = verifier(['RS256', 'HS256']);
    expect(await reason(subject.verify(await idToken(other)))).toBe('id_token_signature_invalid');

    const [header, , signature] = (await idToken(genuine)).split('.');
    const edited = Buffer.from(JSON.stringify({ iss: issuer, aud: CLIENT.clientId, sub: 'ceo', exp: 9_999_999_999 })).toString('base64url');
    expect(await reason(subject.verify(`${header}.${edited}.${signature}`))).toBe('id_token_signature_invalid');

    const none = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    expect(await reason(subject.verify(`${none}.${edited}.`))).toBe('id_token_alg_refused');

    const hs256 = await new SignJWT({ sub: 'ceo' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(issuer)
      .setAudience(CLIENT.clientId)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(CLIENT.clientSecret));
    expect(await reason(subject.verify(hs256))).toBe('id_token_alg_refused');
    expect(await reason(verifier(['RS256', 'HS256'], { ...CLIENT, allowHmacIdTokens: true }).verify(hs256))).toBe('accepted');
    // Allowed by the connector but not announced by the IdP: still refused.
    expect(await reason(verifier(['RS256'], { ...CLIENT, allowHmacIdTokens: true }).verify(hs256))).toBe('id_token_alg_refused');
  });

  it('takes only what the IdP announces, RS256 when it announces nothing', () => {
    expect(verifier(['none', 'HS256', 'ES256', 'RS256']).algorithms).toEqual(['ES256', 'RS256']);
    expect(verifier(undefined).algorithms).toEqual(['RS256']);
  });

  it('calls a JWKS that cannot be fetched the IdP being unreachable', async () => {
    const key = await signingKey('k1');
    const unreachable = new IdTokenSignatureVerifier({ issuer, jwks_uri: 'http://127.0.0.1:9/jwks' }, CLIENT);
    await expect(unreachable.verify(await idToken(key))).rejects.toBeInstanceOf(IdentityProviderUnavailable);
  });
});
