import { Injectable, Logger } from '@nestjs/common';
import { createRemoteJWKSet, errors as joseErrors, type JWTPayload, jwtVerify, type JWTVerifyGetKey } from 'jose';
import * as client from 'openid-client';
import { IdentityProviderUnavailable, SignInRejected } from '../../common/oauth-errors';
import { AppConfig, type OidcConnectorSettings } from '../../config/app-config';
import { firstString, looksLikeEmail, type VerifiedIdentity } from '../sso-identity';

export interface OidcConnector {
  id: string;
  oidc: OidcConnectorSettings;
}

export interface OidcChecks {
  state: string;
  codeVerifier: string;
  nonce: string;
}

const DISCOVERY_TIMEOUT_SECONDS = 10;
const JWKS_TIMEOUT_MS = 10_000;
/** How long the IdP's keys are trusted without asking again; an unknown `kid` asks at once (at most every 30 s). */
const JWKS_MAX_AGE_MS = 10 * 60_000;
const JWKS_COOLDOWN_MS = 30_000;
const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const HMAC_ALGS = ['HS256', 'HS384', 'HS512'];

interface IdTokenVerifier {
  algorithms: string[];
  key: JWTVerifyGetKey;
}

/**
 * OpenID Connect connectors on openid-client: the IdP's discovery document,
 * the authorization code flow with PKCE (S256), `state` (the envelope) and
 * `nonce`; the id_token's issuer, audience, nonce and expiry are checked by
 * openid-client, the RFC 9207 `iss` of the callback when the IdP sends it.
 * openid-client does not check the signature of an id_token that comes from
 * the token endpoint, so every one is verified here against the IdP's JWKS
 * (cached, fetched again for an unknown `kid`), with the algorithms the IdP
 * announces in `id_token_signing_alg_values_supported`; never `none`, and
 * HS* (keyed with the client secret) only on a connector that allows it.
 */
@Injectable()
export class OidcConnectors {
  private readonly logger = new Logger('OidcConnectors');
  private readonly configurations = new Map<string, Promise<client.Configuration>>();
  private readonly verifiers = new Map<string, IdTokenVerifier>();

  constructor(private readonly config: AppConfig) {}

  redirectUri(connectorId: string): string {
    return `${this.config.publicUrl}/oauth/device/sso/oidc/${connectorId}/callback`;
  }

  async authorizeUrl(connector: OidcConnector, checks: OidcChecks): Promise<string> {
    const configuration = await this.configuration(connector);
    return client
      .buildAuthorizationUrl(configuration, {
        redirect_uri: this.redirectUri(connector.id),
        scope: connector.oidc.scopes.join(' '),
        code_challenge: await client.calculatePKCECodeChallenge(checks.codeVerifier),
        code_challenge_method: 'S256',
        state: checks.state,
        nonce: checks.nonce,
      })
      .toString();
  }

  /** The person the IdP's id_token names, when the callback, the code exchange and the id_token all verify. */
  async verify(connector: OidcConnector, callbackUrl: URL, checks: OidcChecks): Promise<VerifiedIdentity> {
    const configuration = await this.configuration(connector);
    let idToken: string | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(
        configuration,
        callbackUrl,
        { pkceCodeVerifier: checks.codeVerifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true },
        undefined,
        { redirectUri: this.redirectUri(connector.id) } as client.AuthorizationCodeGrantOptions,
      );
      idToken = tokens.id_token;
    } catch (error) {
      throw this.toRejection(error);
    }
    if (!idToken) throw new SignInRejected('id_token_missing', 'Your identity provider sent no ID token');
    const claims = await this.verifySignature(connector, configuration, idToken);
    return toIdentity(claims, connector.oidc);
  }

  /** The id_token's claims when its signature verifies with a key and an algorithm the IdP's metadata allow. */
  private async verifySignature(connector: OidcConnector, configuration: client.Configuration, idToken: string): Promise<JWTPayload> {
    const metadata = configuration.serverMetadata();
    const verifier = this.verifier(connector, metadata);
    try {
      const { payload } = await jwtVerify(idToken, verifier.key, {
        algorithms: verifier.algorithms,
        issuer: metadata.issuer,
        audience: connector.oidc.clientId,
      });
      return payload;
    } catch (error) {
      throw this.toSignatureRejection(connector, error);
    }
  }

  private verifier(connector: OidcConnector, metadata: client.ServerMetadata): IdTokenVerifier {
    let verifier = this.verifiers.get(connector.id);
    if (!verifier) {
      const { oidc } = connector;
      const announced = metadata.id_token_signing_alg_values_supported ?? ['RS256'];
      const allowed = [...ASYMMETRIC_ALGS, ...(oidc.allowHmacIdTokens ? HMAC_ALGS : [])];
      const algorithms = announced.filter((alg) => allowed.includes(alg));
      const jwks = metadata.jwks_uri
        ? createRemoteJWKSet(new URL(metadata.jwks_uri), {
            timeoutDuration: JWKS_TIMEOUT_MS,
            cacheMaxAge: JWKS_MAX_AGE_MS,
            cooldownDuration: JWKS_COOLDOWN_MS,
          })
        : undefined;
      const secret = oidc.clientSecret ? new TextEncoder().encode(oidc.clientSecret) : undefined;
      verifier = {
        algorithms,
        key: (header, token) => {
          if (HMAC_ALGS.includes(header.alg) && secret) return secret;
          if (!jwks) throw new joseErrors.JWKSNoMatchingKey();
          return jwks(header, token);
        },
      };
      this.verifiers.set(connector.id, verifier);
    }
    return verifier;
  }

  /** jose's failures, named for the audit trail; a JWKS that cannot be fetched is the IdP being down. */
  private toSignatureRejection(connector: OidcConnector, error: unknown): SignInRejected | IdentityProviderUnavailable {
    const refused = (reason: string) =>
      new SignInRejected(reason, 'The answer of your identity provider could not be verified; sign in again');
    if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported) return refused('id_token_alg_refused');
    if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) {
      return refused('id_token_key_unknown');
    }
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) return refused('id_token_signature_invalid');
    if (error instanceof joseErrors.JWTClaimValidationFailed || error instanceof joseErrors.JWTExpired) return refused('id_token_claims_invalid');
    if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) return refused('id_token_malformed');
    this.logger.warn({ msg: 'OIDC JWKS could not be read', connector: connector.id, error: (error as Error)?.message });
    return new IdentityProviderUnavailable();
  }

  /** The IdP's discovered metadata, fetched once per connector; a failed discovery is tried again next time. */
  private configuration(connector: OidcConnector): Promise<client.Configuration> {
    let configuration = this.configurations.get(connector.id);
    if (!configuration) {
      const { oidc } = connector;
      configuration = client
        .discovery(
          new URL(oidc.issuer),
          oidc.clientId,
          undefined,
          oidc.clientSecret ? client.ClientSecretBasic(oidc.clientSecret) : client.None(),
          { execute: oidc.allowInsecureHttp ? [client.allowInsecureRequests] : [], timeout: DISCOVERY_TIMEOUT_SECONDS },
        )
        .catch((error: unknown) => {
          this.configurations.delete(connector.id);
          this.logger.warn({ msg: 'OIDC discovery failed', connector: connector.id, error: (error as Error).message });
          throw new IdentityProviderUnavailable();
        });
      this.configurations.set(connector.id, configuration);
    }
    return configuration;
  }

  /** openid-client's errors, named for the audit trail. */
  private toRejection(error: unknown): SignInRejected | IdentityProviderUnavailable {
    if (error instanceof client.AuthorizationResponseError) {
      return new SignInRejected(`idp_error:${error.error}`.slice(0, 64), 'Your identity provider did not sign you in');
    }
    if (error instanceof client.ResponseBodyError) {
      return new SignInRejected('code_exchange_failed', 'Your identity provider refused to complete the sign-in; sign in again');
    }
    const cause = [(error as Error)?.message, ((error as Error)?.cause as Error | undefined)?.message].join(' ');
    const checks: [RegExp, string][] = [
      [/"alg"|JWS algorithm/, 'id_token_alg_refused'],
      [/"nonce"/, 'nonce_mismatch'],
      [/"iss"|issuer/, 'iss_mismatch'],
      [/"state"/, 'state_mismatch'],
      [/"aud"|audience/, 'audience_mismatch'],
      [/"exp"|expired|timestamp/, 'id_token_expired'],
    ];
    const reason = checks.find(([pattern]) => pattern.test(cause))?.[1];
    if (reason) return new SignInRejected(reason, 'The answer of your identity provider could not be verified; sign in again');
    if (error instanceof client.ClientError) {
      return new SignInRejected('response_invalid', 'The answer of your identity provider could not be verified; sign in again');
    }
    this.logger.warn({ msg: 'OIDC code exchange failed', error: (error as Error)?.message });
    return new IdentityProviderUnavailable();
  }
}

function toIdentity(claims: JWTPayload, oidc: OidcConnectorSettings): VerifiedIdentity {
  const source = claims as Record<string, unknown>;
  const email = firstString(source, [oidc.emailClaim]);
  if (!looksLikeEmail(email)) throw new SignInRejected('email_missing', 'Your identity provider did not send an email address');
  // Only the JSON boolean true: a missing claim or the string "true" is no statement that the address was verified.
  if (oidc.requireVerifiedEmail && source.email_verified !== true) {
    throw new SignInRejected('email_unverified', 'Your identity provider did not confirm that your email address is verified');
  }
  const name = firstString(source, [oidc.nameClaim, 'name', 'preferred_username']) ?? email;
  return { issuer: String(claims.iss), externalId: String(claims.sub), email: email.toLowerCase(), name: name.slice(0, 200) };
}
