import { Injectable, Logger } from '@nestjs/common';
import type { JWTPayload } from 'jose';
import * as client from 'openid-client';
import { IdentityProviderUnavailable, SignInRejected } from '../../common/oauth-errors';
import { AppConfig, type OidcConnectorSettings } from '../../config/app-config';
import { firstString, looksLikeEmail, type VerifiedIdentity } from '../sso-identity';
import { IdTokenSignatureVerifier } from './id-token-signature-verifier';

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

/**
 * OpenID Connect connectors on openid-client: the IdP's discovery document,
 * the authorization code flow with PKCE (S256), `state` (the envelope) and
 * `nonce`; the id_token's issuer, audience, nonce and expiry are checked by
 * openid-client, the RFC 9207 `iss` of the callback when the IdP sends it.
 * openid-client does not check the signature of an id_token that comes from
 * the token endpoint, so every one is checked by IdTokenSignatureVerifier.
 */
@Injectable()
export class OidcConnectors {
  private readonly logger = new Logger('OidcConnectors');
  private readonly configurations = new Map<string, Promise<client.Configuration>>();
  private readonly verifiers = new Map<string, IdTokenSignatureVerifier>();

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
  private verifySignature(connector: OidcConnector, configuration: client.Configuration, idToken: string): Promise<JWTPayload> {
    let verifier = this.verifiers.get(connector.id);
    if (!verifier) {
      verifier = new IdTokenSignatureVerifier(configuration.serverMetadata(), connector.oidc);
      this.verifiers.set(connector.id, verifier);
    }
    return verifier.verify(idToken);
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
