import type { ApprovalOrigin } from '../common/browser-id';
import type { LimitCount } from '../rate-limit/device-code-limits';
import type { ThrottlerStorageRecord } from '../redis/redis-throttler.store';
import type { Approver } from '../tokens/approver';

/**
 * Storage port of the device flow: one record per device authorization,
 * keyed by the hash of its device code, found again by the hash of its user
 * code. Every transition of the state machine
 *
 *   pending → approving | denying → approved | denied;  approved → delivering → consumed
 *
 * is one atomic step of the store. A decision is held (approving, denying:
 * a poll still hears pending) until its audit event is committed, then
 * confirmed, or undone if the event could not be written; so no token is
 * minted for an approval the trail does not hold. Plaintext codes and tokens
 * never reach the store.
 */

export type FlowStatus = 'pending' | 'approving' | 'denying' | 'approved' | 'denied' | 'delivering' | 'consumed';

export interface DeviceFlow {
  deviceCodeHash: string;
  userCodeHash: string;
  clientId: string;
  scopes: string[];
  deviceLabel: string;
  status: FlowStatus;
  /** Epoch milliseconds. */
  createdAt: number;
  expiresAt: number;
  /** Current polling interval in seconds (grows by 5 with every slow_down). */
  interval: number;
  requestIp: string;
  userAgent: string;
  approver?: Approver;
  /** Of an approval: the approving browser, for the person's device inventory. */
  approvalOrigin?: ApprovalOrigin;
  decidedAt?: number;
}

export type PollOutcome =
  | { kind: 'unknown' }
  | { kind: 'other_client' }
  | { kind: 'consumed' }
  | { kind: 'expired' }
  | { kind: 'slow_down'; interval: number }
  | { kind: 'pending' }
  | { kind: 'denied' }
  /** This poll holds the delivery lease for `attempt`; it mints, then calls completeDelivery. */
  | { kind: 'claimed'; attempt: number; flow: DeviceFlow };

export type Decision = { status: 'approved'; approver: Approver; origin: ApprovalOrigin } | { status: 'denied' };

/** The status a decision is held in until its audit event is committed. */
export const HELD = { approved: 'approving', denied: 'denying' } as const satisfies Record<Decision['status'], FlowStatus>;

export type DecisionOutcome = 'decided' | 'not_pending' | 'expired' | 'unknown';

/** What `createCounted` did: stored the flow or not, and what counting each limit gave. */
export interface CountedCreate {
  created: boolean;
  tallies: ThrottlerStorageRecord[];
}

export abstract class DeviceFlowStore {
  /**
   * Stores a new flow; false when the user code collides with a live one
   * (draw another), and then nothing is written. `auditEvent` (an outbox
   * entry) enters the audit outbox with the flow, atomically: no flow
   * without its event, no event without its flow.
   */
  abstract create(flow: DeviceFlow, retainMs: number, auditEvent?: string): Promise<boolean>;

  /** Whether `createCounted` can count a device authorization's rate limits with its flow; when not, they are counted before. */
  readonly countsLimits: boolean = false;

  /**
   * Like `create`, counting the request's rate limits first, in the same
   * atomic step: a flow past one of them is not stored (and `created` is
   * false). The tallies come in the order of `limits`.
   */
  async createCounted(_flow: DeviceFlow, _retainMs: number, _auditEvent: string, _limits: LimitCount[]): Promise<CountedCreate> {
    throw new Error('This flow store does not count rate limits');
  }

  abstract findByUserCode(userCodeHash: string): Promise<DeviceFlow | undefined>;

  abstract findByDeviceCode(deviceCodeHash: string): Promise<DeviceFlow | undefined>;

  /**
   * One token-endpoint poll, atomically: client check, expiry, interval
   * (slow_down), state, and — for an approved flow — the delivery lease.
   */
  abstract poll(deviceCodeHash: string, clientId: string, now: number, leaseMs: number): Promise<PollOutcome>;

  /** Marks the flow consumed if `attempt` still holds the lease; only then may the token be delivered. */
  abstract completeDelivery(deviceCodeHash: string, attempt: number): Promise<boolean>;

  /** Hands the lease back after a failed mint so the next poll retries at once. */
  abstract releaseDelivery(deviceCodeHash: string, attempt: number): Promise<void>;

  /** pending → approving | denying, once: the decision is held, and polls still hear pending. */
  abstract decide(deviceCodeHash: string, decision: Decision, now: number): Promise<DecisionOutcome>;

  /** approving → approved, denying → denied: the decision's audit event is committed, polls may act on it. */
  abstract confirmDecision(deviceCodeHash: string, status: Decision['status']): Promise<boolean>;

  /**
   * approving | denying → pending again, with nothing of the decision or its
   * approver left (its audit event could not be written).
   */
  abstract undoDecision(deviceCodeHash: string, status: Decision['status']): Promise<boolean>;
}

/** How far a poll may be early before it counts as too fast (clock and network jitter). */
export const POLL_TOLERANCE_MS = 250;
export const SLOW_DOWN_STEP_SECONDS = 5;
/**
 * slow_down stops growing the interval here, so a burst of concurrent polls
 * cannot push it past the code's lifetime and lock an obedient client out.
 */
export const MAX_POLL_INTERVAL_SECONDS = 60;

/** How long a flow's user code stays claimed: the code's lifetime, at least 1 ms. */
export function userCodeTtlMs(flow: Pick<DeviceFlow, 'createdAt' | 'expiresAt'>): number {
  return Math.max(1, flow.expiresAt - flow.createdAt);
}
