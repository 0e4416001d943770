import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { MemoryAuditOutboxStore } from '../audit/memory-audit-outbox.store';
import { Clock } from '../common/clock';
import { ExpiringMap } from '../redis/expiring-map';
import {
  type Decision,
  type DecisionOutcome,
  type DeviceFlow,
  DeviceFlowStore,
  HELD,
  MAX_POLL_INTERVAL_SECONDS,
  POLL_TOLERANCE_MS,
  type PollOutcome,
  SLOW_DOWN_STEP_SECONDS,
  userCodeTtlMs,
} from './device-flow.store';

interface Entry {
  flow: DeviceFlow;
  lastPoll?: number;
  leaseUntil: number;
  attempt: number;
}

/** The in-process twin of RedisDeviceFlowStore for the embedded dev mode; same contract, same specs. */
@Injectable()
export class MemoryDeviceFlowStore extends DeviceFlowStore implements OnApplicationShutdown {
  private readonly flows: ExpiringMap<Entry>;
  private readonly userCodes: ExpiringMap<string>;

  constructor(
    clock: Clock,
    private readonly outbox = new MemoryAuditOutboxStore(clock),
  ) {
    super();
    this.flows = new ExpiringMap(clock);
    this.userCodes = new ExpiringMap(clock);
  }

  async create(flow: DeviceFlow, retainMs: number, auditEvent?: string): Promise<boolean> {
    if (!this.userCodes.setIfAbsent(flow.userCodeHash, flow.deviceCodeHash, userCodeTtlMs(flow))) {
      return false;
    }
    this.flows.set(flow.deviceCodeHash, { flow: structuredClone(flow), leaseUntil: 0, attempt: 0 }, retainMs);
    if (auditEvent !== undefined) this.outbox.append(auditEvent);
    return true;
  }

  async findByUserCode(userCodeHash: string): Promise<DeviceFlow | undefined> {
    const deviceCodeHash = this.userCodes.get(userCodeHash);
    return deviceCodeHash ? this.findByDeviceCode(deviceCodeHash) : undefined;
  }

  async findByDeviceCode(deviceCodeHash: string): Promise<DeviceFlow | undefined> {
    const entry = this.flows.get(deviceCodeHash);
    return entry ? structuredClone(entry.flow) : undefined;
  }

  async poll(deviceCodeHash: string, clientId: string, now: number, leaseMs: number): Promise<PollOutcome> {
    const entry = this.flows.get(deviceCodeHash);
    if (!entry) return { kind: 'unknown' };
    const { flow } = entry;
    if (flow.clientId !== clientId) return { kind: 'other_client' };
    if (flow.status === 'consumed') return { kind: 'consumed' };
    if (now >= flow.expiresAt) return { kind: 'expired' };
    const previous = entry.lastPoll;
    entry.lastPoll = now;
    if (previous !== undefined && now - previous < flow.interval * 1000 - POLL_TOLERANCE_MS) {
      flow.interval = Math.max(flow.interval, Math.min(flow.interval + SLOW_DOWN_STEP_SECONDS, MAX_POLL_INTERVAL_SECONDS));
      return { kind: 'slow_down', interval: flow.interval };
    }
    if (flow.status === 'pending' || flow.status === 'approving' || flow.status === 'denying') return { kind: 'pending' };
    if (flow.status === 'denied') return { kind: 'denied' };
    if (flow.status === 'delivering' && entry.leaseUntil > now) return { kind: 'pending' };
    entry.attempt += 1;
    entry.leaseUntil = now + leaseMs;
    flow.status = 'delivering';
    return { kind: 'claimed', attempt: entry.attempt, flow: structuredClone(flow) };
  }

  async completeDelivery(deviceCodeHash: string, attempt: number): Promise<boolean> {
    return this.endDelivery(deviceCodeHash, attempt, 'consumed');
  }

  async releaseDelivery(deviceCodeHash: string, attempt: number): Promise<void> {
    this.endDelivery(deviceCodeHash, attempt, 'approved');
  }

  async decide(deviceCodeHash: string, decision: Decision, now: number): Promise<DecisionOutcome> {
    const entry = this.flows.get(deviceCodeHash);
    if (!entry) return 'unknown';
    if (now >= entry.flow.expiresAt) return 'expired';
    if (entry.flow.status !== 'pending') return 'not_pending';
    entry.flow.status = HELD[decision.status];
    entry.flow.decidedAt = now;
    if (decision.status === 'approved') {
      entry.flow.approver = { ...decision.approver };
      entry.flow.approvalOrigin = { ...decision.origin };
    }
    return 'decided';
  }

  async confirmDecision(deviceCodeHash: string, status: Decision['status']): Promise<boolean> {
    const entry = this.flows.get(deviceCodeHash);
    if (!entry || entry.flow.status !== HELD[status]) return false;
    entry.flow.status = status;
    return true;
  }

  async undoDecision(deviceCodeHash: string, status: Decision['status']): Promise<boolean> {
    const entry = this.flows.get(deviceCodeHash);
    if (!entry || entry.flow.status !== HELD[status]) return false;
    entry.flow.status = 'pending';
    entry.flow.approver = undefined;
    entry.flow.approvalOrigin = undefined;
    entry.flow.decidedAt = undefined;
    return true;
  }

  onApplicationShutdown(): void {
    this.flows.close();
    this.userCodes.close();
  }

  private endDelivery(deviceCodeHash: string, attempt: number, next: 'consumed' | 'approved'): boolean {
    const entry = this.flows.get(deviceCodeHash);
    if (!entry || entry.flow.status !== 'delivering' || entry.attempt !== attempt) return false;
    entry.flow.status = next;
    entry.leaseUntil = 0;
    return true;
  }
}
