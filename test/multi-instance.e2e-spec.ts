import { randomUUID } from 'node:crypto';
import { CuttableProxy, hostAndPort } from './support/cuttable-proxy';
import { obtainToken, startFlow, uniqueLabel } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { CLIENTS, deleteKeys, REDIS_URL, startTestApp, type TestApp, USERS } from './support/test-app';

/**
 * Invariant 6: a revoked token stops validating on every instance at once —
 * within milliseconds through Redis pub/sub, and within an instance's own
 * cache lifetime when it cannot hear the announcement.
 */
describe('two instances on one Postgres and one Redis', () => {
  const prefix = `devicegate-test:${randomUUID()}:`;
  let first: TestApp;
  let second: TestApp;
  let one: DeviceGateHttp;
  let two: DeviceGateHttp;

  beforeAll(async () => {
    // A long local cache: only the announcement can make the second instance forget in time.
    const env = { REDIS_KEY_PREFIX: prefix, TOKEN_CACHE_TTL: '60s' };
    [first, second] = await Promise.all([startTestApp({ env }), startTestApp({ env })]);
    one = new DeviceGateHttp(first.baseUrl);
    two = new DeviceGateHttp(second.baseUrl);
  });

  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
    await deleteKeys(prefix);
  });

  async function lookups(http: DeviceGateHttp, source: string): Promise<number> {
    return http.metric('devicegate_token_lookups_total', { source });
  }

  it('a token validated on both, revoked through one, is refused by the other on its next request', async () => {
    const { access_token: token } = await obtainToken(one, { clientId: CLIENTS.fast, deviceLabel: uniqueLabel('multi') });
    expect((await one.me(token)).status).toBe(200);
    expect((await two.me(token)).status).toBe(200);
    const cachedBefore = await lookups(two, 'local');
    expect((await two.me(token)).status).toBe(200);
    expect(await lookups(two, 'local')).toBe(cachedBefore + 1);

    const heardBefore = await two.metric('devicegate_token_invalidations_received_total');
    const revoked = await one.request('/v1/oauth/authorizations/self', { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(revoked.status).toBe(204);

    expect((await two.me(token)).status).toBe(401);
    expect((await one.me(token)).status).toBe(401);
    expect(await two.metric('devicegate_token_invalidations_received_total')).toBeGreaterThan(heardBefore);
  });

  it('an approval that rotates a device’s token retires the old secret on the other instance too', async () => {
    const label = uniqueLabel('rotate');
    const old = await obtainToken(one, { clientId: CLIENTS.fast, deviceLabel: label });
    expect((await two.me(old.access_token)).status).toBe(200);
    const renewed = await obtainToken(one, { clientId: CLIENTS.fast, deviceLabel: label });
    expect((await two.me(old.access_token)).status).toBe(401);
    expect((await two.me(renewed.access_token)).status).toBe(200);
  });

  it('a refresh retires the old access token on the other instance too', async () => {
    const granted = await obtainToken(one, { clientId: CLIENTS.refreshing, deviceLabel: uniqueLabel('refresh') });
    expect((await two.me(granted.access_token)).status).toBe(200);
    const refreshed = await one.form('/oauth/token', {
      grant_type: 'refresh_token',
      client_id: CLIENTS.refreshing,
      refresh_token: granted.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    expect((await two.me(granted.access_token)).status).toBe(401);
    expect((await two.me(refreshed.body.access_token)).status).toBe(200);
  });

  it('a replayed device code revokes what it delivered on the other instance too', async () => {
    const started = await startFlow(one, CLIENTS.fast, { device_label: uniqueLabel('replay') });
    await one.approveAs(started.user_code, USERS.alice);
    const delivered = await one.poll(CLIENTS.fast, started.device_code);
    expect(delivered.status).toBe(200);
    expect((await two.me(delivered.body.access_token)).status).toBe(200);

    const replayed = await two.poll(CLIENTS.fast, started.device_code);
    expect(replayed.body).toEqual({ error: 'invalid_grant', error_description: 'The device code was already used' });
    expect((await one.me(delivered.body.access_token)).status).toBe(401);
    expect((await two.me(delivered.body.access_token)).status).toBe(401);
  });

  it('an admin off-boarding a person is obeyed by every instance', async () => {
    const devices = await Promise.all([uniqueLabel('laptop'), uniqueLabel('desktop')].map((label) => obtainToken(one, { clientId: CLIENTS.fast, user: USERS.bob, deviceLabel: label })));
    for (const device of devices) expect((await two.me(device.access_token)).status).toBe(200);
    const admin = await obtainToken(one, { clientId: CLIENTS.admin, scope: 'admin', deviceLabel: uniqueLabel('admin') });
    const reply = await two.request(`/v1/admin/subjects/${encodeURIComponent(USERS.bob.email)}/authorizations`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${admin.access_token}` },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.revoked).toBeGreaterThanOrEqual(2);
    for (const device of devices) {
      expect((await one.me(device.access_token)).status).toBe(401);
      expect((await two.me(device.access_token)).status).toBe(401);
    }
  });
});

describe('an instance cut off from Redis', () => {
  const prefix = `devicegate-test:${randomUUID()}:`;
  let proxy: CuttableProxy;
  let connected: TestApp;
  let isolated: TestApp;

  beforeAll(async () => {
    proxy = await new CuttableProxy(hostAndPort(REDIS_URL)).start();
    connected = await startTestApp({ env: { REDIS_KEY_PREFIX: prefix } });
    isolated = await startTestApp({
      env: { REDIS_KEY_PREFIX: prefix, REDIS_URL: `redis://127.0.0.1:${proxy.port}`, TOKEN_CACHE_TTL: '5s' },
    });
  });

  afterAll(async () => {
    await proxy?.restore();
    await Promise.all([connected?.close(), isolated?.close()]);
    await proxy?.close();
    await deleteKeys(prefix);
  });

  it('accepts a revoked token for at most TOKEN_CACHE_TTL, then asks Postgres and refuses it', async () => {
    const http = new DeviceGateHttp(connected.baseUrl);
    const cutOff = new DeviceGateHttp(isolated.baseUrl);
    const { access_token: token } = await obtainToken(http, { clientId: CLIENTS.fast, deviceLabel: uniqueLabel('partition') });
    expect((await cutOff.me(token)).status).toBe(200);

    await proxy.cutOff();
    const revoked = await http.request('/v1/oauth/authorizations/self', { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(revoked.status).toBe(204);
    expect((await http.me(token)).status).toBe(401);

    // It heard nothing: its own cache still answers, for no longer than its lifetime.
    expect((await cutOff.me(token)).status).toBe(200);
    isolated.clock.advance(5_100);
    expect((await cutOff.me(token)).status).toBe(401);
  });
});
