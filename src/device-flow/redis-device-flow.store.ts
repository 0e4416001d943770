import { Injectable } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { AUDIT_OUTBOX_KEY, auditOutboxShardKey } from '../audit/audit-outbox.store';
import { shardTagOf } from '../redis/cluster-shards';
import type { RedisConnection } from '../redis/redis-connection';
import { sendAtOnce, TurnBatch } from '../redis/turn-batch';
import {
  type Decision,
  type DecisionOutcome,
  type CountedCreate,
  type DeviceFlow,
  DeviceFlowStore,
  HELD,
  MAX_POLL_INTERVAL_SECONDS,
  POLL_TOLERANCE_MS,
  type PollOutcome,
  SLOW_DOWN_STEP_SECONDS,
  userCodeTtlMs,
} from './device-flow.store';
import { DECISION_FIELDS, flowFromFields, flowToFieldList } from './flow-fields';
import type { LimitCount } from '../rate-limit/device-code-limits';
import { COUNT_HIT_LUA, throttleKeys, toStorageRecord } from '../redis/redis-throttler.store';

// KEYS[1] flow, KEYS[2] audit outbox (both of one shard); ARGV retain_ms, event, field, value, field, value, ...
const CREATE_IN_SHARD = `
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if ARGV[2] ~= '' then redis.call('XADD', KEYS[2], '*', 'event', ARGV[2]) end`;

// KEYS[1] audit outbox, then for each flow: user code, flow, and the hits and block keys of each limit it counts.
// ARGV for each flow: device code hash, code ttl ms, retain ms, event, limit count, field count, window ms, limit
// and block ms of each limit, field, value, ... Returns for each flow, in order: 1 (created) or 0 (user code taken,
// or a limit exceeded), then hits, window left ms, blocked (0/1), block left ms of each limit. The limits are
// counted first, as a guard would count the request; a flow past one of them is not stored.
const CREATE_AUDITED = `${COUNT_HIT_LUA}
local results = {}
local key, at = 2, 1
while at <= #ARGV do
  local userCodeKey, flowKey = KEYS[key], KEYS[key + 1]
  local limitCount, fieldCount = tonumber(ARGV[at + 4]), tonumber(ARGV[at + 5])
  local result, limited = {0}, false
  for limit = 0, limitCount - 1 do
    local settings = at + 6 + limit * 3
    local counted = 1 + limit * 4
    result[counted + 1], result[counted + 2], result[counted + 3], result[counted + 4] = countHit(KEYS[key + 2 + limit * 2],
      KEYS[key + 3 + limit * 2], tonumber(ARGV[settings]), tonumber(ARGV[settings + 1]), tonumber(ARGV[settings + 2]))
    if result[counted + 3] == 1 then limited = true end
  end
  local fieldsAt = at + 6 + limitCount * 3
  if not limited and redis.call('SET', userCodeKey, ARGV[at], 'PX', ARGV[at + 1], 'NX') then
    redis.call('HSET', flowKey, unpack(ARGV, fieldsAt, fieldsAt + fieldCount - 1))
    redis.call('PEXPIRE', flowKey, ARGV[at + 2])
    if ARGV[at + 3] ~= '' then redis.call('XADD', KEYS[1], '*', 'event', ARGV[at + 3]) end
    result[1] = 1
  end
  results[#results + 1] = result
  key = key + 2 + limitCount * 2
  at = fieldsAt + fieldCount
end
return results`;

/** Flows one create script writes at most (its keys and arguments travel in one command). */
const MAX_CREATE_BATCH = 100;

interface NewFlow {
  flow: DeviceFlow;
  retainMs: number;
  auditEvent?: string;
  limits: LimitCount[];
}

// KEYS[1] flow; ARGV client_id, now, lease_ms, tolerance_ms, step_s, max_interval_s
const POLL = `
local f = redis.call('HMGET', KEYS[1], 'client_id', 'status', 'expires_at', 'interval', 'last_poll', 'lease_until')
if not f[1] then return {'unknown'} end
if f[1] ~= ARGV[1] then return {'other_client'} end
local status = f[2]
if status == 'consumed' then return {'consumed'} end
local now = tonumber(ARGV[2])
if now >= tonumber(f[3]) then return {'expired'} end
local interval = tonumber(f[4])
redis.call('HSET', KEYS[1], 'last_poll', ARGV[2])
if f[5] and now - tonumber(f[5]) < interval * 1000 - tonumber(ARGV[4]) then
  interval = math.max(interval, math.min(interval + tonumber(ARGV[5]), tonumber(ARGV[6])))
  redis.call('HSET', KEYS[1], 'interval', interval)
  return {'slow_down', interval}
end
if status == 'pending' or status == 'approving' or status == 'denying' then return {'pending'} end
if status == 'denied' then return {'denied'} end
if status == 'delivering' and tonumber(f[6]) > now then return {'pending'} end
local attempt = redis.call('HINCRBY', KEYS[1], 'attempt', 1)
redis.call('HSET', KEYS[1], 'status', 'delivering', 'lease_until', now + tonumber(ARGV[3]))
return {'claimed', attempt, redis.call('HGETALL', KEYS[1])}`;

// KEYS[1] flow; ARGV attempt, next status
const END_DELIVERY = `
local f = redis.call('HMGET', KEYS[1], 'status', 'attempt')
if f[1] ~= 'delivering' or f[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'lease_until', 0)
return 1`;

// KEYS[1] flow; ARGV held status, next status
const CONFIRM_DECISION = `
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2])
return 1`;

// KEYS[1] flow; ARGV held status, field to clear, field to clear, ...
const UNDO_DECISION = `
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], unpack(ARGV, 2))
redis.call('HSET', KEYS[1], 'status', 'pending')
return 1`;

// KEYS[1] flow; ARGV now, field, value, field, value, ...
const DECIDE = `
local f = redis.call('HMGET', KEYS[1], 'status', 'expires_at')
if not f[1] then return 'unknown' end
if tonumber(ARGV[1]) >= tonumber(f[2]) then return 'expired' end
if f[1] ~= 'pending' then return 'not_pending' end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 'decided'`;

type ScriptedRedis = RedisConnection & {
  deviceFlowCreateInShard(flowKey: string, outboxKey: string, retainMs: number, auditEvent: string, ...fields: string[]): Promise<null>;
  deviceFlowCreateAudited(keyCount: number, ...keysThenArgs: (string | number)[]): Promise<number[][]>;
  deviceFlowPoll(key: string, ...args: (string | number)[]): Promise<[string, number?, string[]?]>;
  deviceFlowEndDelivery(key: string, attempt: number, next: string): Promise<number>;
  deviceFlowDecide(key: string, ...args: (string | number)[]): Promise<DecisionOutcome>;
  deviceFlowConfirmDecision(key: string, held: string, next: string): Promise<number>;
  deviceFlowUndoDecision(key: string, held: string, ...fields: string[]): Promise<number>;
};

@Injectable()
export class RedisDeviceFlowStore extends DeviceFlowStore {
  private readonly redis: ScriptedRedis;
  /**
   * On a Redis Cluster a flow lives in the slot of its shard (the hash tag
   * of its device-code hash), beside that shard's outbox stream; its user
   * code, found before the device code is known, lives in a slot of its own.
   */
  private readonly sharded: boolean;
  /** Off a Cluster: the flows issued in one event-loop turn are written by one script call. */
  private readonly createBatch?: TurnBatch<NewFlow, number[]>;
  override readonly countsLimits: boolean;

  constructor(redis: RedisConnection) {
    super();
    this.sharded = redis instanceof Cluster;
    redis.defineCommand('deviceFlowCreateInShard', { numberOfKeys: 2, lua: CREATE_IN_SHARD });
    redis.defineCommand('deviceFlowCreateAudited', { lua: CREATE_AUDITED });
    redis.defineCommand('deviceFlowPoll', { numberOfKeys: 1, lua: POLL });
    redis.defineCommand('deviceFlowEndDelivery', { numberOfKeys: 1, lua: END_DELIVERY });
    redis.defineCommand('deviceFlowDecide', { numberOfKeys: 1, lua: DECIDE });
    redis.defineCommand('deviceFlowConfirmDecision', { numberOfKeys: 1, lua: CONFIRM_DECISION });
    redis.defineCommand('deviceFlowUndoDecision', { numberOfKeys: 1, lua: UNDO_DECISION });
    this.redis = redis as ScriptedRedis;
    if (!this.sharded) {
      this.createBatch = new TurnBatch((flows) => this.createAudited(flows), MAX_CREATE_BATCH);
      sendAtOnce(redis, 'deviceFlowCreateAudited');
    }
    // On a Cluster the counts live in slots of their own.
    this.countsLimits = !this.sharded;
  }

  /**
   * One script claims the user code, writes the flow and appends its audit
   * event, for every flow issued in the same event-loop turn. On a Redis
   * Cluster, where the user code has a slot of its own, the claim goes first
   * and the flow with its event second; if the second step fails the claim
   * is taken back, and a claim left behind (that failed too) points at no
   * flow and expires with the code.
   */
  async create(flow: DeviceFlow, retainMs: number, auditEvent?: string): Promise<boolean> {
    if (this.createBatch) return (await this.createBatch.call({ flow, retainMs, auditEvent, limits: [] }))[0] === 1;
    const claim = userCodeKey(flow.userCodeHash);
    if ((await this.redis.set(claim, flow.deviceCodeHash, 'PX', userCodeTtlMs(flow), 'NX')) !== 'OK') return false;
    const tag = shardTagOf(flow.deviceCodeHash);
    try {
      await this.redis.deviceFlowCreateInShard(
        this.flowKey(flow.deviceCodeHash),
        auditOutboxShardKey(tag),
        retainMs,
        auditEvent ?? '',
        ...flowToFieldList(flow),
      );
    } catch (error) {
      await this.redis.del(claim).catch(() => undefined);
      throw error;
    }
    return true;
  }

  override async createCounted(flow: DeviceFlow, retainMs: number, auditEvent: string, limits: LimitCount[]): Promise<CountedCreate> {
    if (!this.createBatch) return super.createCounted(flow, retainMs, auditEvent, limits);
    const [created, ...counts] = await this.createBatch.call({ flow, retainMs, auditEvent, limits });
    return { created: created === 1, tallies: limits.map((_, index) => toStorageRecord(counts.slice(index * 4, index * 4 + 4))) };
  }

  async findByUserCode(userCodeHash: string): Promise<DeviceFlow | undefined> {
    const deviceCodeHash = await this.redis.get(userCodeKey(userCodeHash));
    return deviceCodeHash ? this.findByDeviceCode(deviceCodeHash) : undefined;
  }

  async findByDeviceCode(deviceCodeHash: string): Promise<DeviceFlow | undefined> {
    const fields = await this.redis.hgetall(this.flowKey(deviceCodeHash));
    return fields.client_id ? flowFromFields(deviceCodeHash, fields) : undefined;
  }

  async poll(deviceCodeHash: string, clientId: string, now: number, leaseMs: number): Promise<PollOutcome> {
    const [kind, value, fields] = await this.redis.deviceFlowPoll(
      this.flowKey(deviceCodeHash),
      clientId,
      now,
      leaseMs,
      POLL_TOLERANCE_MS,
      SLOW_DOWN_STEP_SECONDS,
      MAX_POLL_INTERVAL_SECONDS,
    );
    if (kind === 'slow_down') return { kind, interval: Number(value) };
    if (kind === 'claimed') {
      return { kind, attempt: Number(value), flow: flowFromFields(deviceCodeHash, pairsToRecord(fields ?? [])) };
    }
    return { kind } as PollOutcome;
  }

  async completeDelivery(deviceCodeHash: string, attempt: number): Promise<boolean> {
    return (await this.redis.deviceFlowEndDelivery(this.flowKey(deviceCodeHash), attempt, 'consumed')) === 1;
  }

  async releaseDelivery(deviceCodeHash: string, attempt: number): Promise<void> {
    await this.redis.deviceFlowEndDelivery(this.flowKey(deviceCodeHash), attempt, 'approved');
  }

  async decide(deviceCodeHash: string, decision: Decision, now: number): Promise<DecisionOutcome> {
    const fields = flowToFieldList({
      status: HELD[decision.status],
      decidedAt: now,
      approver: decision.status === 'approved' ? decision.approver : undefined,
      approvalOrigin: decision.status === 'approved' ? decision.origin : undefined,
    });
    return this.redis.deviceFlowDecide(this.flowKey(deviceCodeHash), now, ...fields);
  }

  async confirmDecision(deviceCodeHash: string, status: Decision['status']): Promise<boolean> {
    return (await this.redis.deviceFlowConfirmDecision(this.flowKey(deviceCodeHash), HELD[status], status)) === 1;
  }

  async undoDecision(deviceCodeHash: string, status: Decision['status']): Promise<boolean> {
    return (await this.redis.deviceFlowUndoDecision(this.flowKey(deviceCodeHash), HELD[status], ...DECISION_FIELDS)) === 1;
  }

  private async createAudited(flows: NewFlow[]): Promise<number[][]> {
    const keys: string[] = [AUDIT_OUTBOX_KEY];
    const args: (string | number)[] = [];
    for (const { flow, retainMs, auditEvent, limits } of flows) {
      const fields = flowToFieldList(flow);
      keys.push(userCodeKey(flow.userCodeHash), this.flowKey(flow.deviceCodeHash));
      args.push(flow.deviceCodeHash, userCodeTtlMs(flow), retainMs, auditEvent ?? '', limits.length, fields.length);
      for (const limit of limits) {
        keys.push(...throttleKeys(limit.key, limit.name));
        args.push(limit.windowMs, limit.limit, limit.blockMs);
      }
      args.push(...fields);
    }
    return this.redis.deviceFlowCreateAudited(keys.length, ...keys, ...args);
  }

  private flowKey(deviceCodeHash: string): string {
    return this.sharded ? `flow:${shardTagOf(deviceCodeHash)}:${deviceCodeHash}` : `flow:${deviceCodeHash}`;
  }
}


function userCodeKey(userCodeHash: string): string {
  return `user-code:${userCodeHash}`;
}

function pairsToRecord(pairs: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i < pairs.length; i += 2) record[pairs[i]] = pairs[i + 1];
  return record;
}
