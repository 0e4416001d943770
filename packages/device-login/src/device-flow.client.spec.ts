import { DeviceFlowClient, type PollEvent } from './device-flow.client';
import { checkMetadata } from './discovery';
import { AccessDenied, Cancelled, ExpiredToken, InvalidGrant, NetworkError, ProtocolError, ServerError } from './errors';
import { systemClock } from './monotonic-clock';
import {
  DEVICE_CODES,
  FakeAuthorizationServer,
  FakeClock,
  fetchFailed,
  ISSUER,
  pending,
  slowDown,
  tokens,
} from './test-support/fake-authorization-server';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

function setup(codes: Record<string, unknown> = DEVICE_CODES) {
  const clock = new FakeClock();
  const server = new FakeAuthorizationServer(clock);
  server.on('POST /oauth/device/code', { status: 200, body: codes });
  const client = new DeviceFlowClient(checkMetadata(server.metadata, ISSUER), { clientId: 'acme-cli', fetch: server.fetch, clock });
  return { clock, server, client };
}

/** Seconds between one poll and the one before it (the first: since the codes arrived). */
function gaps(server: FakeAuthorizationServer, startedAt: number): number[] {
  const times = [startedAt, ...server.calls('POST /oauth/token').map((request) => request.at)];
  return times.slice(1).map((at, index) => (at - times[index]) / 1000);
}

describe('DeviceFlowClient', () => {
  describe('device authorization (RFC 8628 §3.1–3.2)', () => {
    it('sends client_id, scope and device_label as a form, and reads the codes', async () => {
      const { client, server, clock } = setup();
      const codes = await client.authorize({ scope: ['profile', 'read'], deviceLabel: 'laptop' });
      const [request] = server.calls('POST /oauth/device/code');
      expect(Object.fromEntries(request.form)).toEqual({ client_id: 'acme-cli', scope: 'profile read', device_label: 'laptop' });
      expect(request.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
      expect(codes).toEqual({
        deviceCode: DEVICE_CODES.device_code,
        userCode: 'BCDF-GHJK',
        verificationUri: `${ISSUER}/device`,
        verificationUriComplete: `${ISSUER}/device?user_code=BCDF-GHJK`,
        expiresIn: 600,
        interval: 5,
        receivedAt: clock.now(),
      });
    });

    it('authenticates a confidential client with client_secret_basic instead', async () => {
      const { server } = setup();
      const confidential = new DeviceFlowClient(checkMetadata(server.metadata, ISSUER), { clientId: 'svc', clientSecret: 's3cr:et', fetch: server.fetch });
      await confidential.authorize();
      const [request] = server.calls('POST /oauth/device/code');
      expect(request.headers.get('authorization')).toBe(`Basic ${Buffer.from('svc:s3cr%3Aet').toString('base64')}`);
      expect(request.form.has('client_id')).toBe(false);
    });

    it('waits 5 s between polls when the server names no interval', async () => {
      const { client } = setup({ ...DEVICE_CODES, interval: undefined });
      expect((await client.authorize()).interval).toBe(5);
    });

    it('refuses codes it could not show safely: a missing field, a control character, a URL that is not http(s)', async () => {
      for (const broken of [
        { ...DEVICE_CODES, user_code: undefined },
        { ...DEVICE_CODES, user_code: 'BCDF\u001b[2J' },
        { ...DEVICE_CODES, verification_uri: 'javascript:alert(1)' },
        { ...DEVICE_CODES, expires_in: 'soon' },
      ]) {
        await expect(setup(broken).client.authorize()).rejects.toBeInstanceOf(ProtocolError);
      }
    });
  });

  describe('polling (RFC 8628 §3.4–3.5)', () => {
    it('waits the interval before the first poll and between polls, then returns the tokens', async () => {
      const { client, server } = setup();
      server.on('POST /oauth/token', pending, pending, tokens());
      const codes = await client.authorize();
      const events: PollEvent[] = [];
      const result = await client.poll(codes, { onEvent: (event) => events.push(event) });
      expect(result).toEqual({ accessToken: 'dgat_access', tokenType: 'Bearer', expiresIn: 3600, refreshToken: undefined, scope: ['profile', 'read'] });
      expect(gaps(server, codes.receivedAt)).toEqual([5, 5, 5]);
      expect(Object.fromEntries(server.calls('POST /oauth/token')[0].form)).toEqual({
        grant_type: DEVICE_GRANT,
        device_code: DEVICE_CODES.device_code,
        client_id: 'acme-cli',
      });
      expect(events).toEqual([
        { type: 'pending', interval: 5 },
        { type: 'pending', interval: 5 },
      ]);
    });

    it('adds 5 s on every slow_down, for that poll and every later one', async () => {
      const { client, server } = setup();
      server.on('POST /oauth/token', slowDown(), pending, slowDown(), pending, tokens());
      const codes = await client.authorize();
      const events: PollEvent[] = [];
      await client.poll(codes, { onEvent: (event) => events.push(event) });
      expect(gaps(server, codes.receivedAt)).toEqual([5, 10, 10, 15, 15]);
      expect(events.filter((event) => event.type === 'slow_down')).toEqual([
        { type: 'slow_down', interval: 10 },
        { type: 'slow_down', interval: 15 },
      ]);
    });

    it("takes the server's interval from slow_down when it is longer, and never a shorter one", async () => {
      const { client, server } = setup();
      server.on('POST /oauth/token', slowDown(30), pending, slowDown(7), tokens());
      const codes = await client.authorize();
      await client.poll(codes);
      expect(gaps(server, codes.receivedAt)).toEqual([5, 30, 30, 35]);
    });

    it('counts each wait from the arrival of the previous answer, however long the server took', async () => {
      const { client, server, clock } = setup();
      server.on(
        'POST /oauth/token',
        () => {
          clock.time += 4_000;
          return pending;
        },
        tokens(),
      );
      const codes = await client.authorize();
      await client.poll(codes);
      // Sent at 5 s, answered at 9 s: the next poll goes at 14 s, not 10 s.
      expect(gaps(server, codes.receivedAt)).toEqual([5, 9]);
    });

    it('waits again when a timer fires early, so no poll is ever sooner than the interval', async () => {
      const { server, clock } = setup();
      const early = { now: () => clock.now(), sleep: async (ms: number) => void (clock.time += Math.max(1, ms - 3)) };
      const hasty = new DeviceFlowClient(checkMetadata(server.metadata, ISSUER), { clientId: 'acme-cli', fetch: server.fetch, clock: early });
      server.on('POST /oauth/token', pending, tokens());
      const codes = await hasty.authorize();
      await hasty.poll(codes);
      expect(gaps(server, codes.receivedAt).every((gap) => gap >= 5)).toBe(true);
    });

    it('ends with AccessDenied, ExpiredToken or InvalidGrant as the server says', async () => {
      for (const [error, type] of [
        ['access_denied', AccessDenied],
        ['expired_token', ExpiredToken],
        ['invalid_grant', InvalidGrant],
      ] as const) {
        const { client, server } = setup();
        server.on('POST /oauth/token', pending, { status: 400, body: { error, error_description: 'said the server' } });
        await expect(client.poll(await client.authorize())).rejects.toEqual(expect.any(type));
        expect(server.calls('POST /oauth/token')).toHaveLength(2);
      }
    });

    it('gives up with ExpiredToken, without polling, once the next poll would fall after the codes expire', async () => {
      const { client, server } = setup({ ...DEVICE_CODES, expires_in: 12 });
      server.on('POST /oauth/token', pending);
      const failure = client.poll(await client.authorize());
      await expect(failure).rejects.toBeInstanceOf(ExpiredToken);
      await expect(failure).rejects.toMatchObject({ description: 'The code expired before it was approved' });
      // Polls at 5 s and 10 s; one at 15 s would be past the 12 s the codes live.
      expect(server.calls('POST /oauth/token')).toHaveLength(2);
    });

    it('backs off on network failures and 5xx, honours Retry-After, and gives up after 5 in a row', async () => {
      const { client, server } = setup();
      server.on(
        'POST /oauth/token',
        fetchFailed('ECONNRESET'),
        { status: 503, body: { error: 'temporarily_unavailable' }, headers: { 'retry-after': '42' } },
        pending,
        { status: 500, body: 'oops' },
        fetchFailed('ECONNREFUSED'),
        { status: 502 },
        { status: 500 },
        { status: 500 },
      );
      const codes = await client.authorize();
      const events: PollEvent[] = [];
      const failure = client.poll(codes, { onEvent: (event) => events.push(event) });
      await expect(failure).rejects.toBeInstanceOf(ServerError);
      // 5, then 2×5, Retry-After 42, the interval again after a good answer, then 10, 20, 40, 60 (the cap)
      expect(gaps(server, codes.receivedAt)).toEqual([5, 10, 42, 5, 10, 20, 40, 60]);
      expect(events.map((event) => event.type)).toEqual(['retry', 'retry', 'pending', 'retry', 'retry', 'retry', 'retry']);
    });

    it('stops at once when cancelled while waiting', async () => {
      const { server, client: flow } = setup();
      const controller = new AbortController();
      const client = new DeviceFlowClient(flow.metadata, { clientId: 'acme-cli', fetch: server.fetch, clock: systemClock });
      const codes = await client.authorize();
      setTimeout(() => controller.abort(), 20);
      const started = performance.now();
      await expect(client.poll(codes, { signal: controller.signal })).rejects.toBeInstanceOf(Cancelled);
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(server.calls('POST /oauth/token')).toHaveLength(0);
    });

    it('is timed on the monotonic clock: setting the wall clock back or forward changes no wait', async () => {
      jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
      try {
        const server = new FakeAuthorizationServer({ now: () => performance.now() });
        server.on('POST /oauth/device/code', { status: 200, body: { ...DEVICE_CODES, interval: 2 } });
        server.on(
          'POST /oauth/token',
          () => {
            jest.setSystemTime(Date.now() - 3_600_000);
            return pending;
          },
          () => {
            jest.setSystemTime(Date.now() + 86_400_000);
            return pending;
          },
          tokens(),
        );
        const client = new DeviceFlowClient(checkMetadata(server.metadata, ISSUER), { clientId: 'acme-cli', fetch: server.fetch });
        const codes = await client.authorize();
        const polled = client.poll(codes);
        for (let step = 0; step < 8; step++) await jest.advanceTimersByTimeAsync(1_000);
        await polled;
        expect(gaps(server, codes.receivedAt)).toEqual([2, 2, 2]);
      } finally {
        jest.useRealTimers();
      }
    });
  });

  describe('refresh (RFC 6749 §6) and revocation (RFC 7009)', () => {
    it('refreshes with the refresh token and reads the rotated one', async () => {
      const { client, server } = setup();
      server.on('POST /oauth/token', tokens({ refresh_token: 'dgrt_next' }));
      expect(await client.refresh('dgrt_first')).toMatchObject({ accessToken: 'dgat_access', refreshToken: 'dgrt_next' });
      expect(Object.fromEntries(server.calls('POST /oauth/token')[0].form)).toEqual({
        grant_type: 'refresh_token',
        refresh_token: 'dgrt_first',
        client_id: 'acme-cli',
      });
    });

    it('reports a connection refused as a failure before anything was sent, and a reset as one after', async () => {
      const { client, server } = setup();
      server.on('POST /oauth/token', fetchFailed('ECONNREFUSED'), fetchFailed('ECONNRESET'));
      await expect(client.refresh('dgrt_first')).rejects.toMatchObject({ constructor: NetworkError, mayHaveBeenProcessed: false });
      await expect(client.refresh('dgrt_first')).rejects.toMatchObject({ constructor: NetworkError, mayHaveBeenProcessed: true });
    });

    it('revokes with a token type hint, and says false when the server has no revocation endpoint', async () => {
      const { client, server } = setup();
      server.on('POST /oauth/revoke', { status: 200 });
      expect(await client.revoke('dgrt_first', 'refresh_token')).toBe(true);
      expect(Object.fromEntries(server.calls('POST /oauth/revoke')[0].form)).toEqual({
        token: 'dgrt_first',
        token_type_hint: 'refresh_token',
        client_id: 'acme-cli',
      });
      const bare = new DeviceFlowClient({ ...client.metadata, revocation_endpoint: undefined }, { clientId: 'acme-cli', fetch: server.fetch });
      expect(await bare.revoke('dgat_access')).toBe(false);
    });
  });
});
