import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { type OidcIdp, signInAtIdp, startOidcIdp } from './oidc-idp';

const CLIENT_ID = 'devicegate-rp';
const CLIENT_SECRET = 'rp-secret';
const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const ALICE = { sub: 'u-alice', email: 'alice@example.com', name: 'Alice Example', groups: ['admins'] };

/** What the client keeps between the authorization request and the callback. */
interface PendingAuthorization {
  url: URL;
  pkceCodeVerifier: string;
  state: string;
  nonce: string;
}

/** The self-check of the IdP that specs use in place of a real OpenID provider, driven by openid-client v6. */
describe('oidc-idp (oidc-provider in a child process)', () => {
  let idp: OidcIdp;
  let config: client.Configuration;

  beforeAll(async () => {
    idp = await startOidcIdp({
      clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [REDIRECT_URI] }],
      accounts: { alice: ALICE },
    });
    config = await client.discovery(new URL(idp.issuer), CLIENT_ID, CLIENT_SECRET, undefined, {
      execute: [client.allowInsecureRequests],
    });
  });

  afterAll(() => idp?.stop());

  /** An authorization request with PKCE (S256), state and nonce. */
  async function authorize(): Promise<PendingAuthorization> {
    const pkceCodeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email profile groups',
      code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url, pkceCodeVerifier, state, nonce };
  }

  /** Redeems the callback with the checks of the pending authorization. */
  function redeem(callbackUrl: string, pending: PendingAuthorization) {
    return client.authorizationCodeGrant(config, new URL(callbackUrl), {
      pkceCodeVerifier: pending.pkceCodeVerifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
  }

  it('advertises the code flow with S256 PKCE and RFC 9207 iss', () => {
    const metadata = config.serverMetadata();

    expect(metadata.issuer).toBe(idp.issuer);
    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
    expect(metadata.id_token_signing_alg_values_supported).toContain('RS256');
  });

  it('runs the authorization code flow with PKCE and nonce, and puts email and name in the ID Token', async () => {
    const pending = await authorize();

    const callback = new URL(await signInAtIdp(pending.url.href, 'alice'));
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe(pending.state);
    expect(callback.searchParams.get('iss')).toBe(idp.issuer);
    expect(callback.searchParams.get('code')).toEqual(expect.any(String));

    const tokens = await redeem(callback.href, pending);
    expect(tokens.claims()).toMatchObject({
      iss: idp.issuer,
      aud: CLIENT_ID,
      sub: ALICE.sub,
      email: ALICE.email,
      name: ALICE.name,
      groups: ALICE.groups,
      nonce: pending.nonce,
    });
  });

  it('rejects an ID Token whose nonce was tampered with in the authorization URL', async () => {
    const pending = await authorize();
    pending.url.searchParams.set('nonce', 'tampered-nonce');

    const callbackUrl = await signInAtIdp(pending.url.href, 'alice');

    const error = await redeem(callbackUrl, pending).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(client.ClientError);
    expect(error).toMatchObject({
      message: 'unexpected JWT claim value encountered',
      code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
      cause: { message: 'unexpected ID Token "nonce" claim value' },
    });
  });

  it('rejects a callback whose iss was tampered with', async () => {
    const pending = await authorize();
    const callback = new URL(await signInAtIdp(pending.url.href, 'alice'));
    callback.searchParams.set('iss', 'http://127.0.0.1:1/evil');

    const error = await redeem(callback.href, pending).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(client.ClientError);
    expect(error).toMatchObject({
      message: 'invalid response encountered',
      code: 'OAUTH_INVALID_RESPONSE',
      cause: { message: 'unexpected "iss" (issuer) response parameter value' },
    });
  });

  it('rejects a callback whose state does not match', async () => {
    const pending = await authorize();
    const callbackUrl = await signInAtIdp(pending.url.href, 'alice');

    const error = await redeem(callbackUrl, { ...pending, state: client.randomState() }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(client.ClientError);
    expect(error).toMatchObject({
      message: 'invalid response encountered',
      code: 'OAUTH_INVALID_RESPONSE',
      cause: { message: 'unexpected "state" response parameter value' },
    });
  });

  it('requires PKCE in the authorization request', async () => {
    const pending = await authorize();
    pending.url.searchParams.delete('code_challenge');
    pending.url.searchParams.delete('code_challenge_method');

    const callback = new URL(await signInAtIdp(pending.url.href, 'alice'));
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toMatch(/requires PKCE/);
  });

  it('refuses to redeem the code without code_verifier (invalid_grant)', async () => {
    const pending = await authorize();
    const callbackUrl = await signInAtIdp(pending.url.href, 'alice');

    const error = await client
      .authorizationCodeGrant(config, new URL(callbackUrl), { expectedState: pending.state, expectedNonce: pending.nonce })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(client.ResponseBodyError);
    expect(error).toMatchObject({ code: 'OAUTH_RESPONSE_BODY_ERROR', status: 400, error: 'invalid_grant' });
  });

  it('sends access_denied back to the client when the person cancels at the IdP', async () => {
    const pending = await authorize();

    const callback = new URL(await signInAtIdp(pending.url.href, 'alice', { abort: true }));
    expect(Object.fromEntries(callback.searchParams)).toEqual({
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
      state: pending.state,
      iss: idp.issuer,
    });

    const error = await redeem(callback.href, pending).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(client.AuthorizationResponseError);
    expect(error).toMatchObject({
      code: 'OAUTH_AUTHORIZATION_RESPONSE_ERROR',
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    });
  });

  it('re-renders the login form with 400 for an unknown login', async () => {
    const pending = await authorize();

    await expect(signInAtIdp(pending.url.href, 'mallory')).rejects.toThrow(/signing in as mallory: 400 at \S+\/login\n[\s\S]*Unknown login: mallory/);
  });
  describe('forging the next id_token of the token endpoint', () => {
    /** A code redeemed at the token endpoint by hand (openid-client would refuse some forgeries): the raw id_token. */
    async function rawIdToken(): Promise<string> {
      const pending = await authorize();
      const callback = new URL(await signInAtIdp(pending.url.href, 'alice'));
      const response = await fetch(`${idp.issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: callback.searchParams.get('code') as string,
          redirect_uri: REDIRECT_URI,
          code_verifier: pending.pkceCodeVerifier,
        }),
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { id_token: string }).id_token;
    }

    let jwks: JSONWebKeySet;
    beforeAll(async () => {
      jwks = (await (await fetch(config.serverMetadata().jwks_uri as string)).json()) as JSONWebKeySet;
    });
    const verifiesWithJwks = (token: string) => jwtVerify(token, createLocalJWKSet(jwks)).then(() => true, () => false);
    const CEO = { email: 'ceo@example.com' };

    it('answers genuinely when nothing is armed, and only the next exchange is forged', async () => {
      expect(await verifiesWithJwks(await rawIdToken())).toBe(true);
      await idp.forgeNextIdToken('edited', CEO);
      expect(decodeJwt(await rawIdToken())).toMatchObject(CEO);
      expect(await verifiesWithJwks(await rawIdToken())).toBe(true);
    });

    it('other-key: another key under the kid of the JWKS', async () => {
      await idp.forgeNextIdToken('other-key', CEO);
      const token = await rawIdToken();
      expect(jwks.keys.map((key) => key.kid)).toContain(decodeProtectedHeader(token).kid);
      expect(decodeJwt(token)).toMatchObject(CEO);
      expect(await verifiesWithJwks(token)).toBe(false);
    });

    it('unknown-kid: a kid the JWKS does not hold', async () => {
      await idp.forgeNextIdToken('unknown-kid', CEO);
      const token = await rawIdToken();
      expect(jwks.keys.map((key) => key.kid)).not.toContain(decodeProtectedHeader(token).kid);
    });

    it('edited: the genuine signature over an edited payload, which openid-client takes as it is', async () => {
      await idp.forgeNextIdToken('edited', CEO);
      const pending = await authorize();
      const tokens = await redeem(await signInAtIdp(pending.url.href, 'alice'), pending);
      expect(tokens.claims()).toMatchObject(CEO);
      expect(await verifiesWithJwks(tokens.id_token as string)).toBe(false);
    });

    it('alg-none: an unsecured JWS', async () => {
      await idp.forgeNextIdToken('alg-none', CEO);
      const token = await rawIdToken();
      expect(decodeProtectedHeader(token).alg).toBe('none');
      expect(token.endsWith('.')).toBe(true);
    });

    it('hs256: HS256 keyed with the client secret', async () => {
      await idp.forgeNextIdToken('hs256', CEO);
      const { payload, protectedHeader } = await jwtVerify(await rawIdToken(), new TextEncoder().encode(CLIENT_SECRET));
      expect(protectedHeader.alg).toBe('HS256');
      expect(payload).toMatchObject(CEO);
    });
  });
});
