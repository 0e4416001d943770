import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { constantTimeEqual, deriveKey, hmacSha256, randomToken } from '../common/crypto';
import { SignInRejected } from '../common/oauth-errors';
import { AppConfig } from '../config/app-config';
import { ValueStore } from '../redis/once.store';

/** What a sign-in is for: approving one user code's device, or opening a console session. */
export type SignInPurpose = 'approval' | 'console';

/** What the trip to the IdP must come back to: kept server-side, handed over once. */
export interface SsoTransaction {
  purpose: SignInPurpose;
  /** The code being approved; only for the approval purpose. */
  userCode?: string;
  connectorId: string;
  /** OIDC: the PKCE verifier and the id_token nonce; never sent to the browser. */
  codeVerifier?: string;
  oidcNonce?: string;
  /** SAML: the AuthnRequest ID the response must answer. */
  samlRequestId?: string;
}

interface StoredTransaction extends SsoTransaction {
  expiresAt: number;
}

const ENVELOPE = /^([\w-]{22,64})\.([\w-]{43})$/;

/**
 * The state envelope of a trip to an identity provider, carried as OIDC
 * `state` or SAML RelayState: `<nonce>.<mac>`, opaque to the IdP and to
 * the browser. The nonce keys the server-side transaction (user code,
 * connector, PKCE verifier, request id, expiry), which `finish` takes
 * exactly once; the MAC (HMAC-SHA256 with a key derived from each
 * SECRET_KEYS entry, the first one signing) tells a forged envelope from a
 * used one.
 */
@Injectable()
export class SsoStateService {
  private readonly keys: Buffer[];

  constructor(
    private readonly config: AppConfig,
    private readonly values: ValueStore,
    private readonly clock: Clock,
  ) {
    this.keys = config.secretKeys.map((key) => deriveKey(key.secret, 'sso-state'));
  }

  /** `codeExpiresAt` bounds the trip by the code it approves; a console sign-in has none (Infinity). */
  async begin(transaction: SsoTransaction, codeExpiresAt: number): Promise<string> {
    const now = this.clock.now();
    const expiresAt = Math.min(now + this.config.ssoStateTtlSeconds * 1000, codeExpiresAt);
    const nonce = randomToken(24);
    const stored: StoredTransaction = { ...transaction, expiresAt };
    await this.values.put(transactionKey(nonce), JSON.stringify(stored), expiresAt - now + 1000);
    return `${nonce}.${hmacSha256(this.keys[0], nonce)}`;
  }

  /** The transaction behind an envelope that verifies, names this connector, is in time and was not used yet; it is used up. */
  async finish(envelope: string | undefined, connectorId: string): Promise<SsoTransaction> {
    if (!envelope) throw new SignInRejected('state_missing', 'The sign-in came back without its state; start again from the device page');
    const match = ENVELOPE.exec(envelope);
    if (!match || !this.keys.some((key) => constantTimeEqual(hmacSha256(key, match[1]), match[2]))) {
      throw new SignInRejected('state_invalid', 'The sign-in came back with a state that is not valid; start again from the device page');
    }
    const stored = await this.values.take(transactionKey(match[1]));
    if (!stored) throw new SignInRejected('state_replay', 'This sign-in was already used; start again from the device page');
    const { expiresAt, ...transaction } = JSON.parse(stored) as StoredTransaction;
    // A transaction begun before trips carried a purpose was an approval.
    transaction.purpose ??= 'approval';
    if (expiresAt <= this.clock.now()) {
      throw new SignInRejected('state_expired', 'The sign-in took too long; start again from the device page');
    }
    if (transaction.connectorId !== connectorId) {
      throw new SignInRejected('state_connector_mismatch', 'The sign-in came back to another connector than it started at');
    }
    return transaction;
  }
}

function transactionKey(nonce: string): string {
  return `sso-transaction:${nonce}`;
}
