import { Injectable } from '@nestjs/common';
import { type AuditEvent, userActor } from '../audit/audit-event';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { deriveKey, hmacSha256, randomToken, sha256 } from '../common/crypto';
import { Metrics } from '../common/metrics';
import {
  AccessDenied,
  AuthorizationPending,
  ExpiredToken,
  InvalidGrant,
  InvalidRequest,
  InvalidScope,
  InvalidUserCode,
  SlowDown,
  TooManyRequests,
  UnauthorizedClient,
} from '../common/oauth-errors';
import { ClientRegistry } from '../clients/client-registry.service';
import { AppConfig, type ClientDefinition, DEVICE_CODE_GRANT } from '../config/app-config';
import { CounterStore } from '../redis/once.store';
import type { ApprovalOrigin } from '../common/browser-id';
import type { RequestContext } from '../common/request-context';
import type { Approver } from '../tokens/approver';
import { DeviceCodeLimits, type RequestLimits } from '../rate-limit/device-code-limits';
import { TokensService } from '../tokens/tokens.service';
import { type DeviceFlow, DeviceFlowStore } from './device-flow.store';
import { formatUserCode, generateUserCode, normalizeUserCode } from './user-code';

/** How long one poll may take to mint and deliver before another poll may retry the delivery. */
const DELIVERY_LEASE_MS = 10_000;
/** How long a flow is remembered past its lifetime, so a late poll hears expired_token rather than invalid_grant. */
const RETAIN_AFTER_EXPIRY_MS = 10 * 60_000;
const FAILED_USER_CODES = 'failed-user-codes';
const DEVICE_LABEL = /^[^\p{C}]{1,64}$/u;
/** 32 random bytes, base64url: anything else cannot be one of ours. */
const DEVICE_CODE = /^[A-Za-z0-9_-]{43}$/;

export interface DeviceAuthorizationRequest {
  client: ClientDefinition;
  scope?: string;
  deviceLabel?: string;
  /** The request asking: its address and user agent are kept with the flow and shown to the approver. */
  origin: RequestContext;
  /** Its rate limits, when they are still to be counted: with the flow if the store can. */
  limits?: RequestLimits;
}

/** RFC 8628 §3.2 */
export interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** RFC 6749 §5.1 */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

interface LookupMiss {
  reason: 'malformed' | 'unknown' | 'used' | 'expired' | 'client_disabled';
  flow?: DeviceFlow;
}

/** A live, pending flow as the approving browser may see it. */
export interface PendingFlow {
  userCode: string;
  flow: DeviceFlow;
  client: ClientDefinition;
}

/**
 * The RFC 8628 state machine: issues codes, answers polls, and applies the
 * approving person's decision. It never knows how that person signed in.
 */
@Injectable()
export class DeviceFlowService {
  private readonly userCodeKeys: Buffer[];

  constructor(
    private readonly config: AppConfig,
    private readonly store: DeviceFlowStore,
    private readonly clients: ClientRegistry,
    private readonly tokens: TokensService,
    private readonly counters: CounterStore,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly audit: AuditService,
    private readonly limits: DeviceCodeLimits,
  ) {
    this.userCodeKeys = config.secretKeys.map((key) => deriveKey(key.secret, 'user-code'));
  }

  /** RFC 8628 §3.1–3.2 */
  async authorize(request: DeviceAuthorizationRequest): Promise<DeviceAuthorizationResponse> {
    const { client } = request;
    if (!client.grantTypes.includes(DEVICE_CODE_GRANT)) {
      throw new UnauthorizedClient('This client may not use the device authorization grant');
    }
    const scopes = resolveScopes(client, request.scope);
    const deviceLabel = request.deviceLabel?.trim() ?? '';
    if (request.deviceLabel !== undefined && !DEVICE_LABEL.test(deviceLabel)) {
      throw new InvalidRequest('device_label must be 1 to 64 printable characters');
    }
    const expiresIn = client.deviceCodeTtlSeconds ?? this.config.deviceCodeTtlSeconds;
    const interval = client.pollIntervalSeconds ?? this.config.pollIntervalSeconds;
    const deviceCode = randomToken(32);
    const deviceCodeHash = sha256(deviceCode);
    const now = this.clock.now();

    const issued: AuditEvent = {
      origin: request.origin,
      type: 'device_code.issued',
      outcome: 'success',
      actor: { type: 'client' },
      clientId: client.clientId,
      deviceLabel,
      details: { scopes, expires_in: expiresIn, interval },
    };
    const flow = {
      deviceCodeHash,
      clientId: client.clientId,
      scopes,
      deviceLabel,
      status: 'pending' as const,
      createdAt: now,
      expiresAt: now + expiresIn * 1000,
      interval,
      requestIp: request.origin.ip,
      userAgent: request.origin.userAgent,
    };
    const retainMs = expiresIn * 1000 + RETAIN_AFTER_EXPIRY_MS;
    // The event enters the audit outbox in the same atomic step as the flow: no Postgres commit on this path.
    const userCode = await this.storeFlow(flow, retainMs, this.audit.toOutbox(issued), request.limits);
    this.audit.outboxWritten();
    this.metrics.deviceAuthorizations.inc({ client_id: client.clientId });
    const verificationUri = `${this.config.publicUrl}/device`;
    return {
      device_code: deviceCode,
      user_code: formatUserCode(userCode),
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${formatUserCode(userCode)}`,
      expires_in: expiresIn,
      interval,
    };
  }

  /**
   * Stores the flow under a freshly drawn user code that no live flow holds;
   * returns that code. The request's limits are counted with the first draw
   * when the store can, else before it.
   */
  private async storeFlow(flow: Omit<DeviceFlow, 'userCodeHash'>, retainMs: number, auditEvent: string, limits?: RequestLimits): Promise<string> {
    if (limits && !this.store.countsLimits) await this.limits.count(limits);
    for (let draw = 0; draw < 5; draw++) {
      const userCode = generateUserCode();
      const drawn = { ...flow, userCodeHash: this.userCodeHash(userCode, this.userCodeKeys[0]) };
      if (limits && !limits.counted) {
        const { created, tallies } = await this.store.createCounted(drawn, retainMs, auditEvent, limits.counts);
        this.limits.settle(limits, tallies);
        if (created) return userCode;
      } else if (await this.store.create(drawn, retainMs, auditEvent)) {
        return userCode;
      }
    }
    // 20^8 codes: five collisions in a row means the store is not behaving.
    throw new Error('Could not draw a free user code');
  }

  /** RFC 8628 §3.4–3.5: one poll of the device. */
  async poll(context: RequestContext, client: ClientDefinition, deviceCode: string): Promise<TokenResponse> {
    if (!DEVICE_CODE.test(deviceCode)) throw new InvalidGrant('The device code is unknown or belongs to another client');
    const deviceCodeHash = sha256(deviceCode);
    const outcome = await this.store.poll(deviceCodeHash, client.clientId, this.clock.now(), DELIVERY_LEASE_MS);
    this.metrics.polls.inc({ outcome: outcome.kind });
    switch (outcome.kind) {
      case 'unknown':
      case 'other_client':
        throw new InvalidGrant('The device code is unknown or belongs to another client');
      case 'consumed':
        await this.tokens.revokeReplayedGrant(context, deviceCodeHash, client.clientId);
        throw new InvalidGrant('The device code was already used');
      case 'expired':
        throw new ExpiredToken('The device code has expired; start again');
      case 'slow_down':
        throw new SlowDown(`Polling too fast; wait at least ${outcome.interval} seconds between requests`, outcome.interval);
      case 'pending':
        throw new AuthorizationPending('The user has not yet approved or denied this device');
      case 'denied':
        throw new AccessDenied('The user denied this device');
      case 'claimed':
        return this.deliver(context, client, outcome.flow, outcome.attempt);
    }
  }

  /**
   * The pending flow behind a code a person typed (unauthenticated entry:
   * the lookup, the start of a sign-in). Every bad code gets the same answer,
   * is audited, and spends the global wrong-code budget; once the budget is
   * spent, typed codes are refused until the window ends.
   */
  async findPendingChargingBudget(context: RequestContext, input: unknown, stage: 'lookup' | 'sign_in'): Promise<PendingFlow> {
    const budget = this.config.rateLimits.failedUserCodes;
    const spent = await this.counters.read(FAILED_USER_CODES);
    if (spent.count >= budget.limit) {
      throw new TooManyRequests('Too many wrong codes were entered recently; try again in a few minutes', spent.resetInMs / 1000);
    }
    const userCode = normalizeUserCode(input);
    const found = await this.lookUp(userCode);
    if ('reason' in found) {
      this.metrics.userCodeFailures.inc();
      await Promise.all([
        this.counters.increment(FAILED_USER_CODES, budget.windowSeconds * 1000),
        this.recordLookupFailure(context, found, stage),
      ]);
      throw new InvalidUserCode();
    }
    return found;
  }

  /**
   * The pending flow of a code that a signed artefact (the state envelope
   * back from the IdP, the approval grant) names: it was entered and checked
   * before, so a miss (the code expired or was used meanwhile) is audited but
   * neither checks nor spends the wrong-code budget.
   */
  async findPendingOfVerifiedCode(context: RequestContext, userCode: string, stage: 'sign_in' | 'approval'): Promise<PendingFlow> {
    const found = await this.lookUp(normalizeUserCode(userCode));
    if ('reason' in found) {
      await this.recordLookupFailure(context, found, stage);
      throw new InvalidUserCode();
    }
    return found;
  }

  /** The pending flow of a user code already known to be genuine (an envelope named it), without counting a miss. */
  async peekPending(userCode: string): Promise<PendingFlow | undefined> {
    const flow = await this.findByUserCode(userCode);
    const client = await this.clientOfPending(flow);
    return flow && client ? { userCode, flow, client } : undefined;
  }

  private async lookUp(userCode: string | undefined): Promise<PendingFlow | LookupMiss> {
    const flow = userCode ? await this.findByUserCode(userCode) : undefined;
    const client = await this.clientOfPending(flow);
    if (userCode && flow && client) return { userCode, flow, client };
    const reason = !userCode
      ? 'malformed'
      : !flow
        ? 'unknown'
        : flow.status !== 'pending'
          ? 'used'
          : flow.expiresAt <= this.clock.now()
            ? 'expired'
            : 'client_disabled';
    return { reason, flow };
  }

  private recordLookupFailure(context: RequestContext, miss: LookupMiss, stage: 'lookup' | 'sign_in' | 'approval'): Promise<void> {
    return this.audit.record({
      origin: context,
      type: 'user_code.lookup_failed',
      outcome: 'failure',
      clientId: miss.flow?.clientId,
      details: { stage, reason: miss.reason },
    });
  }

  /**
   * Applies the approving person's decision to a pending flow, once. The
   * decision is held (a poll still hears authorization_pending) until its
   * audit event is committed, and undone if the event cannot be written: a
   * device never acts on a decision the trail does not hold.
   */
  async decide(context: RequestContext, pending: PendingFlow, approver: Approver, approve: boolean, origin: ApprovalOrigin): Promise<void> {
    const { flow } = pending;
    const status = approve ? 'approved' : 'denied';
    const outcome = await this.store.decide(
      flow.deviceCodeHash,
      approve ? { status: 'approved', approver, origin } : { status: 'denied' },
      this.clock.now(),
    );
    if (outcome !== 'decided') throw new InvalidUserCode();
    await this.audit.recordOrUndo(
      {
        origin: context,
        type: approve ? 'device.approved' : 'device.denied',
        outcome: 'success',
        actor: userActor(approver),
        organizationId: pending.client.organizationId ?? approver.organizationId,
        clientId: flow.clientId,
        deviceLabel: flow.deviceLabel,
        details: { scopes: flow.scopes, requesting_ip: flow.requestIp, requested_at: new Date(flow.createdAt).toISOString() },
      },
      () => this.store.undoDecision(flow.deviceCodeHash, status),
    );
    await this.store.confirmDecision(flow.deviceCodeHash, status);
    this.metrics.decisions.inc({ decision: status });
  }

  private async deliver(context: RequestContext, client: ClientDefinition, flow: DeviceFlow, attempt: number): Promise<TokenResponse> {
    let minted;
    try {
      minted = await this.tokens.mint({
        grantId: flow.deviceCodeHash,
        attempt,
        approver: flow.approver as Approver,
        client,
        deviceLabel: flow.deviceLabel,
        scopes: flow.scopes,
        ttlSeconds: client.accessTokenTtlSeconds ?? this.config.accessTokenTtlSeconds,
        organizationId: client.organizationId ?? flow.approver?.organizationId,
        approvalOrigin: flow.approvalOrigin,
        origin: context,
        requestIp: flow.requestIp,
      });
    } catch (error) {
      await this.store.releaseDelivery(flow.deviceCodeHash, attempt).catch(() => undefined);
      throw error;
    }
    if (!minted || !(await this.store.completeDelivery(flow.deviceCodeHash, attempt))) {
      throw new InvalidGrant('The device code was already used');
    }
    this.metrics.tokensMinted.inc({ rotated: String(minted.rotated) });
    return {
      access_token: minted.accessToken,
      token_type: 'Bearer',
      expires_in: minted.expiresIn,
      scope: minted.scopes.join(' '),
      ...(minted.refreshToken ? { refresh_token: minted.refreshToken } : {}),
    };
  }

  private async findByUserCode(userCode: string): Promise<DeviceFlow | undefined> {
    for (const key of this.userCodeKeys) {
      const flow = await this.store.findByUserCode(this.userCodeHash(userCode, key));
      if (flow) return flow;
    }
    return undefined;
  }

  /** The enabled client of a flow that is still pending and unexpired. */
  private async clientOfPending(flow: DeviceFlow | undefined): Promise<ClientDefinition | undefined> {
    if (!flow || flow.status !== 'pending' || flow.expiresAt <= this.clock.now()) return undefined;
    const client = await this.clients.find(flow.clientId);
    return client?.enabled ? client : undefined;
  }

  /** A keyed hash: 20^8 codes are too few for a plain hash to hide them. */
  private userCodeHash(userCode: string, key: Buffer): string {
    return hmacSha256(key, userCode);
  }
}

/** RFC 6749 §3.3: the requested scopes, or the client's defaults; each one must be allowed to the client. */
export function resolveScopes(client: ClientDefinition, scope: string | undefined): string[] {
  if (scope === undefined || scope.trim() === '') return [...client.defaultScopes];
  const requested = [...new Set(scope.trim().split(/ +/))];
  const refused = requested.filter((name) => !client.allowedScopes.includes(name));
  if (refused.length > 0) throw new InvalidScope(`Scope not allowed for this client: ${refused.join(' ')}`);
  return requested;
}
