import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { randomToken } from '../common/crypto';
import { SignInRejected } from '../common/oauth-errors';
import { isExpired, SignedJwt } from '../common/signed-jwt';
import { AppConfig } from '../config/app-config';
import { ValueStore } from '../redis/once.store';

const AUDIENCE = 'state';
const TYPE = 'sso-state+jwt';

/** What the trip to the IdP must come back to: kept server-side, handed over once. */
export interface SsoTransaction {
  userCode: string;
  connectorId: string;
  /** OIDC: the PKCE verifier and the id_token nonce; never sent to the browser. */
  codeVerifier?: string;
  oidcNonce?: string;
  /** SAML: the AuthnRequest ID the response must answer. */
  samlRequestId?: string;
}

/**
 * The state envelope of a trip to an identity provider: a JWS (audience
 * "state") naming the user code and the connector, carried as OIDC `state` or
 * SAML RelayState, that lives no longer than the code. Its `jti` keys the
 * server-side transaction, which `finish` takes exactly once, so an envelope
 * is good for one sign-in.
 */
@Injectable()
export class SsoStateService {
  private readonly jwt: SignedJwt;

  constructor(
    private readonly config: AppConfig,
    private readonly values: ValueStore,
    private readonly clock: Clock,
  ) {
    this.jwt = new SignedJwt(config.secretKeys, 'sso-state', config.publicUrl);
  }

  async begin(transaction: SsoTransaction, codeExpiresAt: number): Promise<string> {
    const now = this.clock.now();
    const expiresAt = Math.min(now + this.config.ssoStateTtlSeconds * 1000, codeExpiresAt);
    const nonce = randomToken(16);
    await this.values.put(transactionKey(nonce), JSON.stringify(transaction), expiresAt - now + 1000);
    return this.jwt.sign(
      { user_code: transaction.userCode, connector: transaction.connectorId },
      { audience: AUDIENCE, type: TYPE, jti: nonce, now, expiresAt },
    );
  }

  /** The transaction behind an envelope that verifies, names this connector and was not used yet; it is used up. */
  async finish(envelope: string | undefined, connectorId: string): Promise<SsoTransaction> {
    if (!envelope) throw new SignInRejected('state_missing', 'The sign-in came back without its state; start again from the device page');
    const payload = await this.jwt
      .verify(envelope, { audience: AUDIENCE, type: TYPE, now: this.clock.now(), requiredClaims: ['exp', 'jti'] })
      .catch((error: unknown) => {
        throw isExpired(error)
          ? new SignInRejected('state_expired', 'The sign-in took too long; start again from the device page')
          : new SignInRejected('state_invalid', 'The sign-in came back with a state that is not valid; start again from the device page');
      });
    if (payload.connector !== connectorId) {
      throw new SignInRejected('state_connector_mismatch', 'The sign-in came back to another connector than it started at');
    }
    const stored = await this.values.take(transactionKey(String(payload.jti)));
    if (!stored) throw new SignInRejected('state_replay', 'This sign-in was already used; start again from the device page');
    const transaction = JSON.parse(stored) as SsoTransaction;
    if (transaction.userCode !== payload.user_code || transaction.connectorId !== connectorId) {
      throw new SignInRejected('state_invalid', 'The sign-in came back with a state that is not valid; start again from the device page');
    }
    return transaction;
  }
}

function transactionKey(nonce: string): string {
  return `sso-transaction:${nonce}`;
}
