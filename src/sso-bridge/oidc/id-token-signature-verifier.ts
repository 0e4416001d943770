import { Logger } from '@nestjs/common';
import { createRemoteJWKSet, errors as joseErrors, type JWTPayload, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { IdentityProviderUnavailable, SignInRejected } from '../../common/oauth-errors';

const JWKS_TIMEOUT_MS = 10_000;
/** How long the IdP's keys are trusted without asking again. */
const JWKS_MAX_AGE_MS = 10 * 60_000;
/** An unknown `kid` asks the IdP again at once, but not more often than this (Keycloak's minTimeBetweenJwksRequests). */
export const JWKS_COOLDOWN_MS = 10_000;
const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const HMAC_ALGS = ['HS256', 'HS384', 'HS512'];

export interface IdpSigningMetadata {
  issuer: string;
  jwks_uri?: string;
  id_token_signing_alg_values_supported?: string[];
}

export interface IdTokenClient {
  clientId: string;
  clientSecret?: string;
  allowHmacIdTokens: boolean;
}

/**
 * The signature check of one connector's id_tokens, which openid-client
 * skips for an id_token from the token endpoint: the IdP's JWKS (cached,
 * fetched again for an unknown `kid`, so the IdP can rotate keys), the
 * algorithms the IdP announces in `id_token_signing_alg_values_supported`
 * (RS256 if it names none), never `none`, and HS* (keyed with the client
 * secret) only when the connector allows it. Failures are named for the
 * audit trail; a JWKS that cannot be fetched is the IdP being unreachable.
 */
export class IdTokenSignatureVerifier {
  private readonly logger = new Logger('OidcConnectors');
  readonly algorithms: string[];
  private readonly key: JWTVerifyGetKey;

  constructor(
    private readonly metadata: IdpSigningMetadata,
    private readonly client: IdTokenClient,
  ) {
    const allowed = [...ASYMMETRIC_ALGS, ...(client.allowHmacIdTokens ? HMAC_ALGS : [])];
    this.algorithms = (metadata.id_token_signing_alg_values_supported ?? ['RS256']).filter((alg) => allowed.includes(alg));
    const jwks = metadata.jwks_uri
      ? createRemoteJWKSet(new URL(metadata.jwks_uri), {
          timeoutDuration: JWKS_TIMEOUT_MS,
          cacheMaxAge: JWKS_MAX_AGE_MS,
          cooldownDuration: JWKS_COOLDOWN_MS,
        })
      : undefined;
    const secret = client.clientSecret ? new TextEncoder().encode(client.clientSecret) : undefined;
    this.key = (header, token) => {
      if (HMAC_ALGS.includes(header.alg) && secret) return secret;
      if (!jwks) throw new joseErrors.JWKSNoMatchingKey();
      return jwks(header, token);
    };
  }

  /** The claims, when signature, algorithm, issuer and audience hold; otherwise SignInRejected or IdentityProviderUnavailable. */
  async verify(idToken: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(idToken, this.key, {
        algorithms: this.algorithms,
        issuer: this.metadata.issuer,
        audience: this.client.clientId,
      });
      return payload;
    } catch (error) {
      const rejection = toRejection(error);
      if (!rejection) this.logger.warn({ msg: 'OIDC JWKS could not be read', jwks_uri: this.metadata.jwks_uri, error: (error as Error)?.message });
      throw rejection ?? new IdentityProviderUnavailable();
    }
  }
}

/** jose's failures, named for the audit trail; undefined for anything else (the JWKS could not be fetched). */
function toRejection(error: unknown): SignInRejected | undefined {
  const refused = (reason: string) => new SignInRejected(reason, 'The answer of your identity provider could not be verified; sign in again');
  if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported) return refused('id_token_alg_refused');
  if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) return refused('id_token_key_unknown');
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return refused('id_token_signature_invalid');
  if (error instanceof joseErrors.JWTClaimValidationFailed || error instanceof joseErrors.JWTExpired) return refused('id_token_claims_invalid');
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) return refused('id_token_malformed');
  return undefined;
}
