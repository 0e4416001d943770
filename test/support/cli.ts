import { CliHome } from '../../packages/device-login/src/test-support/cli-harness';
import { DeviceGateHttp } from './http';
import { startTestApp, type TestApp, type TestAppOptions } from './test-app';

export interface CliFixture {
  testApp: TestApp;
  http: DeviceGateHttp;
  /** A fresh CLI home (config folder), removed after the spec file. */
  newHome(): CliHome;
}

/** For a CLI spec file: a running devicegate for its `describe`, and CLI homes that are cleaned up with it. */
export function useCliFixture(options: TestAppOptions = {}): CliFixture {
  // A CLI test runs a dozen Node processes one after another; on a busy 2-core machine that outlasts jest's 30 s.
  jest.setTimeout(90_000);
  const homes: CliHome[] = [];
  const fixture = {
    newHome: () => {
      const home = new CliHome();
      homes.push(home);
      return home;
    },
  } as CliFixture;
  beforeAll(async () => {
    fixture.testApp = await startTestApp(options);
    fixture.http = new DeviceGateHttp(fixture.testApp.baseUrl);
  });
  afterAll(async () => {
    for (const home of homes) home.dispose();
    await fixture.testApp?.close();
  });
  return fixture;
}
