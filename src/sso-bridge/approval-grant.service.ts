import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { randomToken } from '../common/crypto';
import { type ResponseHeaders, serializeCookie } from '../common/http';
import { LoginRequired } from '../common/oauth-errors';
import { isExpired, SignedJwt } from '../common/signed-jwt';
import { AppConfig } from '../config/app-config';
import { OnceStore } from '../redis/once.store';
import type { Approver } from '../tokens/approver';

export const APPROVAL_GRANT_COOKIE = 'devicegate_approval';
const COOKIE_PATH = '/oauth/device';
const AUDIENCE = 'devicegate:approval-grant';
const TYPE = 'approval-grant+jwt';

/** Why an approval grant was not accepted; each reason is audited as approval_grant.refused. */
export type RefusalReason =
  | 'missing'
  | 'invalid'
  | 'expired'
  | 'replay'
  | 'csrf_mismatch'
  | 'code_mismatch'
  | 'organization_mismatch';

/** A grant that is missing, forged, expired or used: the person must sign in again. */
export class ApprovalGrantRefused extends LoginRequired {
  constructor(
    readonly reason: RefusalReason,
    description: string,
    /** The grant, when it could be read: who tried. */
    readonly grant?: ApprovalGrant,
  ) {
    super(description);
  }
}

export interface ApprovalGrant {
  approver: Approver;
  userCode: string;
  csrfToken: string;
  nonce: string;
  expiresAt: number;
}

/**
 * The approval-grant cookie: proof, for a few minutes and one decision, that
 * a person signed in (by any connector) for one user code. A JWS signed with
 * the current SECRET_KEYS key (its id in `kid`, so keys rotate), carrying a
 * CSRF token the page must echo and a nonce that is consumed on use.
 */
@Injectable()
export class ApprovalGrantService {
  private readonly jwt: SignedJwt;
  private readonly secureCookie: boolean;

  constructor(
    private readonly config: AppConfig,
    private readonly once: OnceStore,
    private readonly clock: Clock,
  ) {
    this.jwt = new SignedJwt(config.secretKeys, 'approval-grant', config.publicUrl);
    this.secureCookie = config.publicUrl.startsWith('https://');
  }

  /** Signs a grant for `userCode` that lives no longer than the code itself, and sets it as the cookie. */
  async issue(approver: Approver, userCode: string, codeExpiresAt: number, headers: ResponseHeaders): Promise<void> {
    const now = this.clock.now();
    const expiresAt = Math.min(now + this.config.approvalGrantTtlSeconds * 1000, codeExpiresAt);
    const jws = await this.jwt.sign(
      {
        sub_iss: approver.issuer,
        sub_ext: approver.externalId,
        email: approver.email,
        name: approver.name,
        org: approver.organizationId,
        user_code: userCode,
        csrf: randomToken(24),
      },
      { audience: AUDIENCE, type: TYPE, subject: approver.subjectId, jti: randomToken(16), now, expiresAt },
    );
    headers.append('Set-Cookie', this.cookie(jws, (expiresAt - now) / 1000));
  }

  /** The grant in the cookie, if its signature, issuer, audience and lifetime hold and it was not used yet. */
  async read(cookie: string | undefined): Promise<ApprovalGrant> {
    if (!cookie) throw new ApprovalGrantRefused('missing', 'Sign in to approve or deny this device');
    const payload = await this.jwt
      .verify(cookie, { audience: AUDIENCE, type: TYPE, now: this.clock.now(), requiredClaims: ['exp', 'jti', 'sub'] })
      .catch((error: unknown) => {
        throw new ApprovalGrantRefused(
          isExpired(error) ? 'expired' : 'invalid',
          'Your sign-in has expired or is not valid; sign in again',
        );
      });
    const grant: ApprovalGrant = {
      approver: {
        subjectId: String(payload.sub),
        issuer: String(payload.sub_iss),
        externalId: String(payload.sub_ext),
        email: String(payload.email),
        name: String(payload.name),
        organizationId: typeof payload.org === 'string' ? payload.org : undefined,
      },
      userCode: String(payload.user_code),
      csrfToken: String(payload.csrf),
      nonce: String(payload.jti),
      expiresAt: Number(payload.exp) * 1000,
    };
    if (await this.once.isConsumed(this.nonceKey(grant))) {
      throw new ApprovalGrantRefused('replay', 'This sign-in was already used; sign in again', grant);
    }
    return grant;
  }

  /** Uses the grant up, once; a second use is refused as a replay. */
  async consume(grant: ApprovalGrant): Promise<void> {
    if (!(await this.once.consume(this.nonceKey(grant), Math.max(1000, grant.expiresAt - this.clock.now() + 1000)))) {
      throw new ApprovalGrantRefused('replay', 'This sign-in was already used; sign in again', grant);
    }
  }

  clear(headers: ResponseHeaders): void {
    headers.append('Set-Cookie', this.cookie('', 0));
  }

  private cookie(value: string, maxAgeSeconds: number): string {
    return serializeCookie(APPROVAL_GRANT_COOKIE, value, {
      path: COOKIE_PATH,
      maxAgeSeconds,
      secure: this.secureCookie,
      sameSite: 'Lax',
    });
  }

  private nonceKey(grant: ApprovalGrant): string {
    return `approval-grant:${grant.nonce}`;
  }
}
