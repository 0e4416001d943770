import * as client from 'openid-client';
import { DeviceGateHttp } from './support/http';
import { CLIENTS, CONFIDENTIAL_SECRET, startTestApp, type TestApp, type TestUser, USERS } from './support/test-app';

const SLOW_DOWN_POLLS = ['devicegate_token_polls_total', { outcome: 'slow_down' }] as const;

/** The whole RFC 8628 flow driven by an unmodified openid-client v6, the way a real CLI would. */
describe('openid-client v6 against devicegate', () => {
  let testApp: TestApp;
  let http: DeviceGateHttp;

  beforeAll(async () => {
    testApp = await startTestApp();
    http = new DeviceGateHttp(testApp.baseUrl);
  });

  afterAll(() => testApp.close());

  function discover(clientId: string, auth: client.ClientAuth): Promise<client.Configuration> {
    return client.discovery(new URL(testApp.baseUrl), clientId, undefined, auth, {
      execute: [client.allowInsecureRequests],
      algorithm: 'oauth2',
    });
  }

  /**
   * Watches the library's token requests through its customFetch hook: runs
   * `beforeFirstPoll` right before the library's first poll, records the
   * answer (the error code, or access_token) of every poll, and signs in and
   * decides as `user` once the library has heard its first answer, so the
   * person acts while the library is polling.
   */
  function watchPolls(
    config: client.Configuration,
    userCode: string,
    user: TestUser,
    options: { beforeFirstPoll?: () => Promise<void>; decision?: 'approve' | 'deny' } = {},
  ) {
    const tokenEndpoint = config.serverMetadata().token_endpoint;
    const answers: string[] = [];
    let decided: Promise<unknown> | undefined;
    config[client.customFetch] = async (url, init) => {
      const isPoll = url === tokenEndpoint;
      if (isPoll && answers.length === 0 && options.beforeFirstPoll) await options.beforeFirstPoll();
      const response = await fetch(url, init as RequestInit);
      if (isPoll) {
        const body = (await response.clone().json()) as { error?: string };
        answers.push(body.error ?? 'access_token');
        decided ??= http.approveAs(userCode, user, options.decision ?? 'approve');
      }
      return response;
    };
    return { answers, decided: () => decided };
  }

  it('discovers the RFC 8414 metadata', async () => {
    const config = await discover(CLIENTS.fast, client.None());
    const metadata = config.serverMetadata();

    expect(metadata.issuer).toBe(testApp.baseUrl);
    expect(metadata.device_authorization_endpoint).toBe(`${testApp.baseUrl}/oauth/device/code`);
    expect(metadata.token_endpoint).toBe(`${testApp.baseUrl}/oauth/token`);
    expect(metadata.grant_types_supported).toContain('urn:ietf:params:oauth:grant-type:device_code');
  });

  it('runs the flow for a public client, riding out a slow_down', async () => {
    const config = await discover(CLIENTS.fast, client.None());
    const slowDownsBefore = await http.metric(...SLOW_DOWN_POLLS);

    const started = await client.initiateDeviceAuthorization(config, { scope: 'profile read', device_label: 'ci-runner-7' });
    expect(started.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(started.verification_uri).toBe(`${testApp.baseUrl}/device`);
    expect(started.verification_uri_complete).toBe(`${testApp.baseUrl}/device?user_code=${started.user_code}`);
    expect(started.interval).toBe(1);

    // One extra poll right before the library's first one makes that one too fast.
    const polls = watchPolls(config, started.user_code, USERS.alice, {
      beforeFirstPoll: async () => {
        const early = await http.poll(CLIENTS.fast, started.device_code);
        expect(early.body.error).toBe('authorization_pending');
      },
    });
    const tokens = await client.pollDeviceAuthorizationGrant(config, started);
    await polls.decided();

    expect(polls.answers[0]).toBe('slow_down');
    expect(polls.answers.at(-1)).toBe('access_token');
    expect(polls.answers.slice(1, -1).every((answer) => answer === 'authorization_pending')).toBe(true);
    expect(await http.metric(...SLOW_DOWN_POLLS)).toBe(slowDownsBefore + 1);

    expect(tokens.access_token).toMatch(/^dgat_[0-9A-Za-z]{49}$/);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('profile read');
    expect(tokens.expires_in).toBeGreaterThan(0);

    const me = await http.me(tokens.access_token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      email: USERS.alice.email,
      name: USERS.alice.name,
      client_id: CLIENTS.fast,
      device_label: 'ci-runner-7',
      scopes: ['profile', 'read'],
    });
  });

  it('runs the flow for a confidential client with client_secret_post', async () => {
    const config = await discover(CLIENTS.fastConfidential, client.ClientSecretPost(CONFIDENTIAL_SECRET));

    const started = await client.initiateDeviceAuthorization(config, { scope: 'profile read', device_label: 'ci-runner-7' });
    const polls = watchPolls(config, started.user_code, USERS.alice);
    const tokens = await client.pollDeviceAuthorizationGrant(config, started);
    await polls.decided();

    expect(polls.answers[0]).toBe('authorization_pending');
    expect(polls.answers.at(-1)).toBe('access_token');
    const me = await http.me(tokens.access_token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: USERS.alice.email, client_id: CLIENTS.fastConfidential, scopes: ['profile', 'read'] });
  });

  it('runs the flow for a confidential client with client_secret_basic, riding out a slow_down', async () => {
    const config = await discover(CLIENTS.fastConfidential, client.ClientSecretBasic(CONFIDENTIAL_SECRET));
    const slowDownsBefore = await http.metric(...SLOW_DOWN_POLLS);

    const started = await client.initiateDeviceAuthorization(config, { scope: 'profile read', device_label: 'ci-runner-7' });
    const polls = watchPolls(config, started.user_code, USERS.bob, {
      beforeFirstPoll: async () => {
        const early = await http.poll(CLIENTS.fastConfidential, started.device_code, { client_secret: CONFIDENTIAL_SECRET });
        expect(early.body.error).toBe('authorization_pending');
      },
    });
    const tokens = await client.pollDeviceAuthorizationGrant(config, started);
    await polls.decided();

    expect(polls.answers[0]).toBe('slow_down');
    expect(polls.answers.at(-1)).toBe('access_token');
    expect(await http.metric(...SLOW_DOWN_POLLS)).toBe(slowDownsBefore + 1);

    const me = await http.me(tokens.access_token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: USERS.bob.email, client_id: CLIENTS.fastConfidential, device_label: 'ci-runner-7' });
  });

  it('surfaces a denial as access_denied', async () => {
    const config = await discover(CLIENTS.fast, client.None());
    const started = await client.initiateDeviceAuthorization(config, { scope: 'profile' });
    const polls = watchPolls(config, started.user_code, USERS.bob, { decision: 'deny' });

    const failure = await client.pollDeviceAuthorizationGrant(config, started).catch((error: unknown) => error);
    await polls.decided();

    expect(failure).toBeInstanceOf(client.ResponseBodyError);
    expect(failure).toMatchObject({ error: 'access_denied', status: 400 });
    expect(polls.answers[0]).toBe('authorization_pending');
    expect(polls.answers.at(-1)).toBe('access_denied');
  });

  it('refreshes with rotation, introspects as a resource server and revokes, all through the library', async () => {
    const cli = await discover(CLIENTS.refreshing, client.None());
    const started = await client.initiateDeviceAuthorization(cli, { scope: 'profile read', device_label: 'laptop-refresh' });
    const polls = watchPolls(cli, started.user_code, USERS.alice);
    const granted = await client.pollDeviceAuthorizationGrant(cli, started);
    await polls.decided();
    expect(granted.refresh_token).toMatch(/^dgrt_/);

    const refreshed = await client.refreshTokenGrant(cli, granted.refresh_token as string);
    expect(refreshed.refresh_token).not.toBe(granted.refresh_token);
    expect(refreshed.scope).toBe('profile read');

    const api = await discover(CLIENTS.resourceServer, client.ClientSecretBasic(CONFIDENTIAL_SECRET));
    const active = await client.tokenIntrospection(api, refreshed.access_token);
    expect(active).toMatchObject({ active: true, client_id: CLIENTS.refreshing, scope: 'profile read', token_type: 'Bearer' });
    expect(await client.tokenIntrospection(api, granted.access_token)).toEqual({ active: false });

    await client.tokenRevocation(cli, refreshed.refresh_token as string, { token_type_hint: 'refresh_token' });
    expect(await client.tokenIntrospection(api, refreshed.access_token)).toEqual({ active: false });
    await expect(client.refreshTokenGrant(cli, refreshed.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
