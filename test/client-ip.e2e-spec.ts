import { DeviceGateHttp } from './support/http';
import { uniqueLabel } from './support/flows';
import { CLIENTS, startTestApp, type TestApp, USERS } from './support/test-app';

/** The requesting IP kept with a flow: the socket's, unless TRUST_PROXY names the proxies to believe. */
describe('client IP', () => {
  async function requestingIp(http: DeviceGateHttp, forwardedFor: string, approverForwardedFor: string) {
    const started = await http.deviceCode(CLIENTS.cli, { device_label: uniqueLabel() }, { 'x-forwarded-for': forwardedFor });
    const cookie = await http.signIn(started.body.user_code, USERS.alice);
    const context = await http.request('/oauth/device/approval-context', {
      headers: { cookie, 'x-forwarded-for': approverForwardedFor },
    });
    return context.body as { request: { ip: string }; approving_ip: string; same_ip: boolean };
  }

  describe('by default', () => {
    let testApp: TestApp;

    beforeAll(async () => {
      testApp = await startTestApp();
    });

    afterAll(() => testApp.close());

    it('ignores X-Forwarded-For and keeps the socket address', async () => {
      const context = await requestingIp(new DeviceGateHttp(testApp.baseUrl), '203.0.113.9', '198.51.100.7');
      expect(context.request.ip).toBe('127.0.0.1');
      expect(context.approving_ip).toBe('127.0.0.1');
      expect(context.same_ip).toBe(true);
    });
  });

  describe('with TRUST_PROXY naming the proxy', () => {
    let testApp: TestApp;

    beforeAll(async () => {
      testApp = await startTestApp({ env: { TRUST_PROXY: '127.0.0.1' } });
    });

    afterAll(() => testApp.close());

    it('takes the client address the trusted proxy forwarded, and notices when approver and device differ', async () => {
      const context = await requestingIp(new DeviceGateHttp(testApp.baseUrl), '203.0.113.9', '198.51.100.7');
      expect(context.request.ip).toBe('203.0.113.9');
      expect(context.approving_ip).toBe('198.51.100.7');
      expect(context.same_ip).toBe(false);
    });

    it('believes only the hop the trusted proxy added', async () => {
      const context = await requestingIp(new DeviceGateHttp(testApp.baseUrl), '10.9.9.9, 203.0.113.9', '203.0.113.9');
      expect(context.request.ip).toBe('203.0.113.9');
      expect(context.same_ip).toBe(true);
    });
  });
});
