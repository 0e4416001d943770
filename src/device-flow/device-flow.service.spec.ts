import type { AuditService } from '../audit/audit.service';
import type { ClientRegistry } from '../clients/client-registry.service';
import { Clock } from '../common/clock';
import { Metrics } from '../common/metrics';
import { type AppConfig, type ClientDefinition, DEVICE_CODE_GRANT } from '../config/app-config';
import type { CounterStore } from '../redis/once.store';
import type { DeviceCodeLimits } from '../rate-limit/device-code-limits';
import type { TokensService } from '../tokens/tokens.service';
import { DeviceFlowService } from './device-flow.service';
import type { DeviceFlowStore } from './device-flow.store';

/** The request on whose behalf the service works. */
const CALLER = { requestId: 'req-1', ip: '203.0.113.5', userAgent: 'cli/1.0' };

/** The issued event enters the audit outbox with the flow: no Postgres write on the request path. */
describe('DeviceFlowService.authorize', () => {
  const client = {
    clientId: 'cli',
    grantTypes: [DEVICE_CODE_GRANT],
    allowedScopes: ['read'],
    defaultScopes: ['read'],
    enabled: true,
  } as unknown as ClientDefinition;
  const config = {
    secretKeys: [{ id: 'k1', secret: Buffer.from('a-secret-key-for-unit-specs-0123456789') }],
    deviceCodeTtlSeconds: 600,
    pollIntervalSeconds: 5,
    publicUrl: 'https://login.example.com',
  } as unknown as AppConfig;
  const outboxService = (store: object, audit: object) =>
    new DeviceFlowService(
      config,
      store as DeviceFlowStore,
      {} as ClientRegistry,
      {} as TokensService,
      {} as CounterStore,
      new Clock(),
      new Metrics(),
      audit as AuditService,
      {} as DeviceCodeLimits,
    );

  it('hands the event to the store with the flow, the same entry on every draw, and starts a drain', async () => {
    const store = { create: jest.fn().mockResolvedValueOnce(false).mockResolvedValue(true) };
    const audit = { record: jest.fn(), toOutbox: jest.fn().mockReturnValue('{"type":"device_code.issued"}'), outboxWritten: jest.fn() };
    const service = outboxService(store, audit);
    await service.authorize({ client, origin: CALLER });
    expect(audit.record).not.toHaveBeenCalled();
    expect(audit.toOutbox).toHaveBeenCalledWith(
      expect.objectContaining({ type: 'device_code.issued', outcome: 'success', clientId: 'cli', origin: expect.objectContaining({ requestId: 'req-1' }) }),
    );
    expect(store.create.mock.calls.map((call) => call[2])).toEqual(['{"type":"device_code.issued"}', '{"type":"device_code.issued"}']);
    expect(audit.outboxWritten).toHaveBeenCalledTimes(1);
  });

  it('starts no drain and hands out nothing when the store fails', async () => {
    const store = { create: jest.fn().mockRejectedValue(new Error('redis down')) };
    const audit = { record: jest.fn(), toOutbox: jest.fn().mockReturnValue('{}'), outboxWritten: jest.fn() };
    const service = outboxService(store, audit);
    await expect(service.authorize({ client, origin: CALLER })).rejects.toThrow('redis down');
    expect(audit.outboxWritten).not.toHaveBeenCalled();
    expect(audit.record).not.toHaveBeenCalled();
  });
});

/** A decision is held in the store until its audit event is committed, so no token is minted for an approval the trail does not hold. */
describe('DeviceFlowService.decide', () => {
  const client = { clientId: 'cli', organizationId: undefined } as unknown as ClientDefinition;
  const approver = { subjectId: 's', issuer: 'i', externalId: 'e', email: 'a@example.com', name: 'A' };
  const flow = {
    deviceCodeHash: 'hash',
    userCodeHash: 'user',
    clientId: 'cli',
    scopes: ['read'],
    deviceLabel: '',
    status: 'pending' as const,
    createdAt: 0,
    expiresAt: Date.now() + 60_000,
    interval: 5,
    requestIp: '203.0.113.5',
    userAgent: 'cli/1.0',
  };

  function subject(recordOrUndo: jest.Mock) {
    const steps: string[] = [];
    const store = {
      decide: jest.fn(async () => {
        steps.push('decide');
        return 'decided';
      }),
      confirmDecision: jest.fn(async () => {
        steps.push('confirm');
        return true;
      }),
      undoDecision: jest.fn(async () => {
        steps.push('undo');
        return true;
      }),
    };
    const audit = {
      recordOrUndo: jest.fn(async (event: unknown, undo: () => Promise<unknown>) => {
        steps.push('record');
        return recordOrUndo(event, undo);
      }),
    };
    const service = new DeviceFlowService(
      { secretKeys: [{ id: 'k1', secret: Buffer.from('a-secret-key-for-unit-specs-0123456789') }] } as unknown as AppConfig,
      store as unknown as DeviceFlowStore,
      {} as ClientRegistry,
      {} as TokensService,
      {} as CounterStore,
      new Clock(),
      new Metrics(),
      audit as unknown as AuditService,
      {} as DeviceCodeLimits,
    );
    return { service, steps };
  }

  it('holds the decision, records it, and only then confirms it', async () => {
    const { service, steps } = subject(jest.fn().mockResolvedValue(undefined));
    await service.decide(CALLER, { userCode: 'BCDFGHJK', flow, client }, approver, true, { ip: '198.51.100.7', userAgent: 'Firefox' });
    expect(steps).toEqual(['decide', 'record', 'confirm']);
  });

  it('undoes the held decision and never confirms it when its event cannot be written', async () => {
    const failing = jest.fn(async (_event: unknown, undo: () => Promise<unknown>) => {
      await undo();
      throw new Error('audit down');
    });
    const { service, steps } = subject(failing);
    await expect(service.decide(CALLER, { userCode: 'BCDFGHJK', flow, client }, approver, false, { ip: '198.51.100.7', userAgent: 'Firefox' })).rejects.toThrow('audit down');
    expect(steps).toEqual(['decide', 'record', 'undo']);
  });
});
