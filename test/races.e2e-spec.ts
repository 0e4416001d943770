import { AuditService } from '../src/audit/audit.service';
import { ClientRegistry } from '../src/clients/client-registry.service';
import { Clock } from '../src/common/clock';
import { sha256, sha256Hex } from '../src/common/crypto';
import { Metrics } from '../src/common/metrics';
import { AuthorizationPending, InvalidGrant, SlowDown } from '../src/common/oauth-errors';
import { AppConfig, type ClientDefinition } from '../src/config/app-config';
import { DeviceFlowService } from '../src/device-flow/device-flow.service';
import { DeviceFlowStore } from '../src/device-flow/device-flow.store';
import { DeviceCodeLimits } from '../src/rate-limit/device-code-limits';
import { CounterStore } from '../src/redis/once.store';
import type { Approver } from '../src/tokens/approver';
import { TokensService } from '../src/tokens/tokens.service';
import { queryDatabase } from './support/database';
import { DeviceGateHttp, type Reply } from './support/http';
import { CLIENTS, startTestApp, type TestApp, USERS } from './support/test-app';

const DELIVERY_LEASE_MS = 10_000;
const POLL_ERRORS = ['slow_down', 'authorization_pending', 'invalid_grant'];

/** Hands every call of now() the next of the given instants: many polls, each at its own moment. */
class ScriptedClock extends Clock {
  private readonly instants: number[];

  constructor(instants: number[]) {
    super();
    this.instants = [...instants];
  }

  override now(): number {
    const instant = this.instants.shift();
    if (instant === undefined) throw new Error('ScriptedClock ran out of instants');
    return instant;
  }
}

/** Invariant 2: one approval yields exactly one delivered token. */
describe('races around one approval', () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;
  let store: DeviceFlowStore;

  beforeAll(async () => {
    testApp = await startTestApp();
    http = new DeviceGateHttp(testApp.baseUrl);
    store = testApp.app.get(DeviceFlowStore);
  });

  afterAll(() => testApp.close());

  async function start(deviceLabel: string, clientId: string = CLIENTS.cli) {
    const reply = await http.deviceCode(clientId, { device_label: deviceLabel });
    expect(reply.status).toBe(200);
    const { device_code: deviceCode, user_code: userCode } = reply.body as { device_code: string; user_code: string };
    return { deviceCode, userCode, grantId: sha256(deviceCode) };
  }

  function liveTokens(grantId: string) {
    return queryDatabase<{ id: string; token_hash: string; delivery_attempt: number }>(
      'SELECT id, token_hash, delivery_attempt FROM access_tokens WHERE grant_id = $1 AND revoked_at IS NULL',
      [grantId],
    );
  }

  function grantTokens(grantId: string) {
    return queryDatabase<{ token_hash: string; revoked_reason: string | null }>(
      'SELECT token_hash, revoked_reason FROM access_tokens WHERE grant_id = $1',
      [grantId],
    );
  }

  async function signedIn(userCode: string, user: (typeof USERS)[keyof typeof USERS]) {
    const cookie = await http.signIn(userCode, user);
    const context = await http.approvalContext(cookie);
    expect(context.status).toBe(200);
    return { user, cookie, csrfToken: context.body.csrf_token as string };
  }

  function delivered(replies: Reply[]): string[] {
    return replies.filter((reply) => reply.status === 200).map((reply) => reply.body.access_token as string);
  }

  describe('concurrent polls', () => {
    it('50 concurrent HTTP polls after one approval deliver exactly one token', async () => {
      const flow = await start('race-http-polls');
      await http.approveAs(flow.userCode, USERS.alice);

      const replies = await Promise.all(Array.from({ length: 50 }, () => http.poll(CLIENTS.cli, flow.deviceCode)));

      const tokens = delivered(replies);
      expect(tokens).toHaveLength(1);
      for (const reply of replies.filter((candidate) => candidate.status !== 200)) {
        expect(reply.status).toBe(400);
        expect(POLL_ERRORS).toContain(reply.body.error);
      }
      const rows = await grantTokens(flow.grantId);
      expect(rows).toHaveLength(1);
      expect(rows[0].token_hash).toBe(sha256Hex(tokens[0]));
      // A poll that reached the store after the delivery presented a used device code: that is a replay
      // (RFC 6749 §4.1.2), which revokes the one token delivered. Either none did and the token validates,
      // or some did and it is revoked as a replay.
      const replays = replies.filter((reply) => reply.body.error_description === 'The device code was already used').length;
      expect({ status: (await http.me(tokens[0])).status, revoked: rows[0].revoked_reason }).toEqual(
        replays === 0 ? { status: 200, revoked: null } : { status: 401, revoked: 'device_code_replay' },
      );
    });

    it('50 concurrent service polls, each at its own instant past the interval, deliver exactly one token', async () => {
      const flow = await start('race-service-polls');
      await http.approveAs(flow.userCode, USERS.alice);
      const client = (await testApp.app.get(ClientRegistry).find(CLIENTS.cli)) as ClientDefinition;
      const interval = client.pollIntervalSeconds ?? testApp.config.pollIntervalSeconds;
      // Every poll is a full interval after the one before, so none is too fast; every other one
      // finds the previous delivery lease expired and claims a new one.
      const base = testApp.clock.now();
      const instants = Array.from({ length: 50 }, (_, index) => base + index * interval * 1000);
      const service = new DeviceFlowService(
        testApp.app.get(AppConfig),
        store,
        testApp.app.get(ClientRegistry),
        testApp.app.get(TokensService),
        testApp.app.get(CounterStore),
        new ScriptedClock(instants),
        testApp.app.get(Metrics),
        testApp.app.get(AuditService),
        testApp.app.get(DeviceCodeLimits),
      );
      const claimedBefore = await http.metric('devicegate_token_polls_total', { outcome: 'claimed' });
      const mintedBefore = await http.metric('devicegate_tokens_minted_total', { rotated: 'false' });

      const results = await Promise.allSettled(instants.map(() => service.poll({ requestId: '', ip: '203.0.113.50', userAgent: '' }, client, flow.deviceCode)));

      const fulfilled = results.filter((result) => result.status === 'fulfilled');
      expect(fulfilled).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') {
          expect([InvalidGrant, AuthorizationPending, SlowDown].some((kind) => result.reason instanceof kind)).toBe(true);
        }
      }
      // Several polls held a delivery lease and minted; only one of them got to deliver.
      expect(await http.metric('devicegate_token_polls_total', { outcome: 'claimed' })).toBeGreaterThan(claimedBefore + 1);
      expect(await http.metric('devicegate_tokens_minted_total', { rotated: 'false' })).toBe(mintedBefore + 1);

      const token = fulfilled[0].value.access_token;
      expect((await http.me(token)).status).toBe(200);
      const rows = await liveTokens(flow.grantId);
      expect(rows).toHaveLength(1);
      expect(rows[0].token_hash).toBe(sha256Hex(token));

      const again = await http.poll(CLIENTS.cli, flow.deviceCode);
      expect(again.body).toEqual({ error: 'invalid_grant', error_description: 'The device code was already used' });
    });
  });

  describe('concurrent approvals', () => {
    it('20 concurrent approve POSTs with one sign-in succeed exactly once', async () => {
      const flow = await start('race-same-cookie');
      const { cookie, csrfToken } = await signedIn(flow.userCode, USERS.alice);

      const replies = await Promise.all(
        Array.from({ length: 20 }, () => http.decide('approve', cookie, csrfToken, flow.userCode)),
      );

      expect(replies.filter((reply) => reply.status === 200)).toHaveLength(1);
      for (const reply of replies.filter((candidate) => candidate.status !== 200)) {
        expect({ status: reply.status, error: reply.body.error }).toEqual({ status: 401, error: 'login_required' });
      }
      const poll = await http.poll(CLIENTS.cli, flow.deviceCode);
      expect(poll.status).toBe(200);
      expect((await http.me(poll.body.access_token)).body.email).toBe(USERS.alice.email);
    });

    it('20 different sign-ins approving one code concurrently: one wins, the token is the winner’s', async () => {
      const flow = await start('race-many-sign-ins');
      const people = await Promise.all(
        Array.from({ length: 20 }, (_, index) => signedIn(flow.userCode, index % 2 === 0 ? USERS.alice : USERS.bob)),
      );

      const replies = await Promise.all(
        people.map((person) => http.decide('approve', person.cookie, person.csrfToken, flow.userCode)),
      );

      const winners = people.filter((_, index) => replies[index].status === 200);
      expect(winners).toHaveLength(1);
      for (const reply of replies.filter((candidate) => candidate.status !== 200)) {
        expect(reply.status).toBe(400);
        expect(reply.body.error).toBe('invalid_user_code');
      }
      const poll = await http.poll(CLIENTS.cli, flow.deviceCode);
      expect(poll.status).toBe(200);
      const me = await http.me(poll.body.access_token);
      expect(me.body.email).toBe(winners[0].user.email);
      expect(me.body.device_label).toBe('race-many-sign-ins');
    });
  });

  describe('a crash between steps', () => {
    it('a delivery claimed by a poll that died is retried once its lease runs out', async () => {
      const flow = await start('race-crash-after-claim');
      await http.approveAs(flow.userCode, USERS.bob);

      const claim = await store.poll(flow.grantId, CLIENTS.cli, testApp.clock.now(), DELIVERY_LEASE_MS);
      expect(claim.kind).toBe('claimed');

      testApp.clock.advance(DELIVERY_LEASE_MS / 2);
      const duringLease = await http.poll(CLIENTS.cli, flow.deviceCode);
      expect(duringLease.body.error).toBe('authorization_pending');

      testApp.clock.advance(DELIVERY_LEASE_MS / 2 + 1000);
      const afterLease = await http.poll(CLIENTS.cli, flow.deviceCode);
      expect(afterLease.status).toBe(200);
      expect((await http.me(afterLease.body.access_token)).body.email).toBe(USERS.bob.email);
      const rows = await liveTokens(flow.grantId);
      expect(rows).toHaveLength(1);
      expect(rows[0].token_hash).toBe(sha256Hex(afterLease.body.access_token));

      testApp.clock.advance(6000);
      const again = await http.poll(CLIENTS.cli, flow.deviceCode);
      expect(again.body.error).toBe('invalid_grant');
    });

    it('a token minted by a poll that died before delivering never validates; the retry delivers one that does', async () => {
      const flow = await start('race-crash-after-mint');
      await http.approveAs(flow.userCode, USERS.bob);

      const claim = await store.poll(flow.grantId, CLIENTS.cli, testApp.clock.now(), DELIVERY_LEASE_MS);
      if (claim.kind !== 'claimed') throw new Error(`expected a claim, got ${claim.kind}`);
      const orphan = await testApp.app.get(TokensService).mint({
        grantId: flow.grantId,
        attempt: claim.attempt,
        approver: claim.flow.approver as Approver,
        client: testApp.config.clients.find((client) => client.clientId === claim.flow.clientId) as ClientDefinition,
        requestIp: claim.flow.requestIp,
        deviceLabel: claim.flow.deviceLabel,
        scopes: claim.flow.scopes,
        ttlSeconds: 3600,
        origin: { requestId: '', ip: '203.0.113.51', userAgent: '' },
      });
      expect(orphan).toBeDefined();

      testApp.clock.advance(DELIVERY_LEASE_MS + 1000);
      const retried = await http.poll(CLIENTS.cli, flow.deviceCode);

      expect(retried.status).toBe(200);
      expect(retried.body.access_token).not.toBe(orphan?.accessToken);
      expect((await http.me(retried.body.access_token)).status).toBe(200);
      const stale = await http.me(orphan?.accessToken as string);
      expect(stale.status).toBe(401);
      expect(stale.body.error).toBe('invalid_token');
      const rows = await liveTokens(flow.grantId);
      expect(rows).toHaveLength(1);
      expect(rows[0].token_hash).toBe(sha256Hex(retried.body.access_token));
      expect(rows[0].delivery_attempt).toBeGreaterThan(claim.attempt);
      // The poll that died, should it wake up, can no longer complete its delivery.
      expect(await store.completeDelivery(flow.grantId, claim.attempt)).toBe(false);
    });
  });
});
