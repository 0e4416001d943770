import { errors as joseErrors, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import type { SecretKey } from '../config/app-config';
import { deriveKey } from './crypto';

export interface SignOptions {
  audience: string;
  /** The `typ` header: keeps one kind of token from being accepted as another. */
  type: string;
  subject?: string;
  jti: string;
  now: number;
  expiresAt: number;
}

export interface VerifyOptions {
  audience: string;
  type: string;
  now: number;
  requiredClaims: string[];
}

/**
 * Short-lived HS256 JWS of devicegate's own (the approval-grant cookie, the
 * SSO state envelope). Each purpose has its own key derived from every
 * SECRET_KEYS entry; the first entry signs and names itself in `kid`, all of
 * them verify, so keys rotate without breaking what is in flight.
 */
export class SignedJwt {
  private readonly keys: Map<string, Uint8Array>;
  private readonly signingKeyId: string;

  constructor(
    secretKeys: SecretKey[],
    purpose: string,
    private readonly issuer: string,
  ) {
    this.keys = new Map(secretKeys.map((key) => [key.id, deriveKey(key.secret, purpose)]));
    this.signingKeyId = secretKeys[0].id;
  }

  sign(claims: JWTPayload, options: SignOptions): Promise<string> {
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: this.signingKeyId, typ: options.type })
      .setIssuer(this.issuer)
      .setAudience(options.audience)
      .setJti(options.jti)
      .setIssuedAt(Math.floor(options.now / 1000))
      .setExpirationTime(Math.floor(options.expiresAt / 1000));
    if (options.subject) jwt.setSubject(options.subject);
    return jwt.sign(this.keys.get(this.signingKeyId) as Uint8Array);
  }

  /** The payload when signature, issuer, audience, type and lifetime hold; otherwise jose's error (`JWTExpired` for a late one). */
  async verify(jws: string, options: VerifyOptions): Promise<JWTPayload> {
    const { payload } = await jwtVerify(
      jws,
      (header) => {
        const key = header.kid ? this.keys.get(header.kid) : undefined;
        if (!key) throw new joseErrors.JWKSNoMatchingKey();
        return key;
      },
      {
        algorithms: ['HS256'],
        issuer: this.issuer,
        audience: options.audience,
        typ: options.type,
        currentDate: new Date(options.now),
        requiredClaims: options.requiredClaims,
      },
    );
    return payload;
  }
}

/** True for the error `SignedJwt.verify` throws for a token past its `exp`. */
export function isExpired(error: unknown): boolean {
  return error instanceof joseErrors.JWTExpired;
}
