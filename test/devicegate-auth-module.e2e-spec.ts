import { Controller, Get, Logger, Module, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  DevicegateAuthModule,
  type DevicegateAuthOptions,
  DevicegateToken,
  type DevicegateTokenInfo,
  Public,
  RequireOrganization,
  RequireScopes,
} from '../packages/nest-auth/src';
import { obtainToken } from './support/flows';
import { DeviceGateHttp } from './support/http';
import { CLIENTS, CONFIDENTIAL_SECRET, freePort, startAcmeApp, startTestApp, type TestApp } from './support/test-app';

/** An internal service's routes, protected by the module. */
@Controller()
class ProjectsController {
  @Get('projects')
  @RequireScopes('read')
  list(@DevicegateToken() token: DevicegateTokenInfo) {
    return { sub: token.sub, email: token.email, org: token.org ?? null, scopes: token.scopes, client: token.clientId, device: token.deviceLabel };
  }

  @Get('projects/edit')
  @RequireScopes('write')
  edit() {
    return { edited: true };
  }

  @Get('orgs/:org/things')
  @RequireOrganization('org')
  @RequireScopes('read')
  things(@DevicegateToken() token: DevicegateTokenInfo) {
    return { org: token.org };
  }

  @Get('whoami')
  whoami(@DevicegateToken() token: DevicegateTokenInfo) {
    return { sub: token.sub };
  }

  @Get('health')
  @Public()
  health() {
    return { ok: true };
  }
}

interface ResourceApp {
  baseUrl: string;
  /** Introspection calls this app made. */
  introspections: string[];
  get(path: string, token?: string): Promise<{ status: number; challenge: string | null; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** A separate small NestJS service (on the adapter the run uses), importing DevicegateAuthModule like any internal service would. */
async function startResourceApp(options: DevicegateAuthOptions): Promise<ResourceApp> {
  const introspections: string[] = [];
  const countingFetch: typeof fetch = (input, init) => {
    introspections.push(String(input));
    return fetch(input, init);
  };

  @Module({ imports: [DevicegateAuthModule.forRoot({ ...options, fetch: countingFetch })], controllers: [ProjectsController] })
  class ProjectsApiModule {}

  const adapter = process.env.HTTP_ADAPTER === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(ProjectsApiModule as Type, adapter, { logger: false });
  await app.listen(0, '127.0.0.1');
  const baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    baseUrl,
    introspections,
    async get(path, token) {
      const response = await fetch(`${baseUrl}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
      const text = await response.text();
      return { status: response.status, challenge: response.headers.get('www-authenticate'), body: text ? JSON.parse(text) : {} };
    },
    close: () => app.close(),
  };
}

const UNAVAILABLE = {
  status: 503,
  challenge: null,
  body: { error: 'temporarily_unavailable', error_description: 'The access token cannot be checked right now; try again shortly' },
};

describe('DevicegateAuthModule (@devicegate/nest-auth) in a separate NestJS service, against devicegate', () => {
  let devicegate: TestApp;
  let http: DeviceGateHttp;
  let api: ResourceApp;
  let readToken: string;
  let logs: { warn: jest.SpyInstance; error: jest.SpyInstance };

  const moduleOptions = (extra: Partial<DevicegateAuthOptions> = {}): DevicegateAuthOptions => ({
    issuer: devicegate.baseUrl,
    clientId: CLIENTS.resourceServer,
    clientSecret: CONFIDENTIAL_SECRET,
    ...extra,
  });

  beforeAll(async () => {
    devicegate = await startTestApp();
    http = new DeviceGateHttp(devicegate.baseUrl);
    api = await startResourceApp(moduleOptions());
    readToken = (await obtainToken(http, { clientId: CLIENTS.cli, scope: 'profile read', deviceLabel: 'alice-laptop' })).access_token;
  });

  afterAll(async () => {
    await api?.close();
    await devicegate?.close();
  });

  beforeEach(() => {
    logs = {
      warn: jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined),
      error: jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined),
    };
  });

  afterEach(() => jest.restoreAllMocks());

  it("lets a live token with the scope through, with the token's subject", async () => {
    const me = await http.request('/v1/me', { headers: { authorization: `Bearer ${readToken}` } });
    expect(me.status).toBe(200);
    expect(await api.get('/projects', readToken)).toEqual({
      status: 200,
      challenge: null,
      body: { sub: me.body.sub, email: 'alice@example.com', org: null, scopes: ['profile', 'read'], client: CLIENTS.cli, device: 'alice-laptop' },
    });
  });

  it('challenges a request without a token: 401 and WWW-Authenticate with the issuer as realm', async () => {
    expect(await api.get('/projects')).toEqual({
      status: 401,
      challenge: `Bearer realm="${devicegate.baseUrl}"`,
      body: { error: 'invalid_token', error_description: 'A bearer token is required' },
    });
  });

  it('refuses a token devicegate does not know: 401 invalid_token', async () => {
    for (const garbage of ['garbage', `dgat_${'A'.repeat(49)}`, readToken.slice(0, -1) + (readToken.endsWith('a') ? 'b' : 'a')]) {
      expect(await api.get('/projects', garbage)).toEqual({
        status: 401,
        challenge: `Bearer realm="${devicegate.baseUrl}", error="invalid_token", error_description="The access token is invalid, expired or revoked"`,
        body: { error: 'invalid_token', error_description: 'The access token is invalid, expired or revoked' },
      });
    }
  });

  it('refuses a token without the scope: 403 insufficient_scope', async () => {
    expect(await api.get('/projects/edit', readToken)).toEqual({
      status: 403,
      challenge: `Bearer realm="${devicegate.baseUrl}", error="insufficient_scope", scope="write"`,
      body: { error: 'insufficient_scope', error_description: 'This resource needs the scope write' },
    });
    const writeToken = (await obtainToken(http, { clientId: CLIENTS.cli, scope: 'read write' })).access_token;
    expect(await api.get('/projects/edit', writeToken)).toMatchObject({ status: 200, body: { edited: true } });
  });

  it('refuses a token of no organization on an organization resource: 403', async () => {
    expect(await api.get('/orgs/acme/things', readToken)).toMatchObject({
      status: 403,
      body: { error: 'insufficient_scope', error_description: 'The access token does not belong to this organization' },
    });
  });

  it('caches: more requests with one token make one introspection call', async () => {
    const token = (await obtainToken(http, { clientId: CLIENTS.cli, scope: 'profile read' })).access_token;
    const before = api.introspections.length;
    for (let i = 0; i < 5; i += 1) expect((await api.get('/projects', token)).status).toBe(200);
    expect(api.introspections.length - before).toBe(1);
    expect(api.introspections.at(-1)).toBe(`${devicegate.baseUrl}/oauth/introspect`);
  });

  it('makes one introspection call for concurrent requests with one token', async () => {
    const token = (await obtainToken(http, { clientId: CLIENTS.cli, scope: 'profile read' })).access_token;
    const before = api.introspections.length;
    const replies = await Promise.all(Array.from({ length: 10 }, () => api.get('/projects', token)));
    expect(replies.map((reply) => reply.status)).toEqual(Array(10).fill(200));
    expect(api.introspections.length - before).toBe(1);
  });

  it('answers 503, not 401, when devicegate refuses its client secret, and logs it without the token', async () => {
    const misconfigured = await startResourceApp(moduleOptions({ clientSecret: 'not-the-secret' }));
    try {
      expect(await misconfigured.get('/projects', readToken)).toEqual(UNAVAILABLE);
      expect(await misconfigured.get('/projects', readToken)).toEqual(UNAVAILABLE);
      expect(misconfigured.introspections).toHaveLength(2);
    } finally {
      await misconfigured.close();
    }
    expect(logs.error).toHaveBeenCalledWith(expect.stringContaining("devicegate refused this service's client credentials (HTTP 401)"));
    expect(JSON.stringify([...logs.error.mock.calls, ...logs.warn.mock.calls])).not.toContain(readToken);
  });

  it('answers 503 when the client is not a resource server (devicegate answers 403)', async () => {
    const notResourceServer = await startResourceApp(moduleOptions({ clientId: CLIENTS.confidential }));
    try {
      expect(await notResourceServer.get('/projects', readToken)).toEqual(UNAVAILABLE);
    } finally {
      await notResourceServer.close();
    }
  });

  it('answers 503 when devicegate is down', async () => {
    const down = await startResourceApp(moduleOptions({ issuer: `http://127.0.0.1:${await freePort()}` }));
    try {
      expect(await down.get('/projects', readToken)).toEqual(UNAVAILABLE);
    } finally {
      await down.close();
    }
    expect(logs.warn).toHaveBeenCalledWith(expect.stringContaining('answering 503'));
  });

  it('refuses a token answered for another issuer (issuer misconfigured): 503', async () => {
    const elsewhere = await startResourceApp(
      moduleOptions({ issuer: 'https://auth.example.com', introspectionEndpoint: `${devicegate.baseUrl}/oauth/introspect` }),
    );
    try {
      expect(await elsewhere.get('/projects', readToken)).toEqual(UNAVAILABLE);
    } finally {
      await elsewhere.close();
    }
  });

  describe('global: true', () => {
    let globalApi: ResourceApp;

    beforeAll(async () => {
      globalApi = await startResourceApp(moduleOptions({ global: true }));
    });

    afterAll(() => globalApi?.close());

    it('protects undecorated routes, and lets @Public() ones through', async () => {
      expect(await globalApi.get('/whoami')).toMatchObject({ status: 401, challenge: `Bearer realm="${devicegate.baseUrl}"` });
      expect(await globalApi.get('/whoami', readToken)).toMatchObject({ status: 200, body: { sub: expect.any(String) } });
      expect(await globalApi.get('/health')).toEqual({ status: 200, challenge: null, body: { ok: true } });
    });
  });

  describe('revocation (DELETE /v1/oauth/authorizations/self)', () => {
    const revoke = async (token: string) => {
      const reply = await http.request('/v1/oauth/authorizations/self', { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      expect(reply.status).toBe(204);
    };

    it('is seen at once with cacheTtlSeconds: 0', async () => {
      const uncached = await startResourceApp(moduleOptions({ cacheTtlSeconds: 0 }));
      try {
        const token = (await obtainToken(http, { clientId: CLIENTS.cli, scope: 'profile read' })).access_token;
        expect((await uncached.get('/projects', token)).status).toBe(200);
        expect((await uncached.get('/projects', token)).status).toBe(200);
        expect(uncached.introspections).toHaveLength(2);
        await revoke(token);
        expect(await uncached.get('/projects', token)).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
      } finally {
        await uncached.close();
      }
    });

    it('is seen once cacheTtlSeconds has passed, and not before (the documented staleness bound)', async () => {
      // 3 s: room for the revocation and the second request on a busy machine, short enough to wait out.
      const cached = await startResourceApp(moduleOptions({ cacheTtlSeconds: 3 }));
      try {
        const token = (await obtainToken(http, { clientId: CLIENTS.cli, scope: 'profile read' })).access_token;
        expect((await cached.get('/projects', token)).status).toBe(200);
        // The answer was cached before the reply was sent, so it lapses by cachedAt + 3 s.
        const cachedAt = Date.now();
        await revoke(token);
        // Revoked at devicegate, still accepted from the cache: the staleness the README documents.
        expect((await cached.get('/projects', token)).status).toBe(200);
        expect(cached.introspections).toHaveLength(1);
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, cachedAt + 3100 - Date.now())));
        expect(await cached.get('/projects', token)).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
        expect(cached.introspections).toHaveLength(2);
      } finally {
        await cached.close();
      }
    });
  });

  describe('organizations (a devicegate whose local accounts belong to acme)', () => {
    let acmeGate: TestApp;
    let acmeApi: ResourceApp;
    let acmeToken: string;

    beforeAll(async () => {
      acmeGate = await startAcmeApp();
      acmeApi = await startResourceApp({ issuer: acmeGate.baseUrl, clientId: CLIENTS.resourceServer, clientSecret: CONFIDENTIAL_SECRET });
      acmeToken = (await obtainToken(new DeviceGateHttp(acmeGate.baseUrl), { clientId: CLIENTS.cli, scope: 'profile read' })).access_token;
    });

    afterAll(async () => {
      await acmeApi?.close();
      await acmeGate?.close();
    });

    it("lets a token of the route's organization through", async () => {
      expect(await acmeApi.get('/orgs/acme/things', acmeToken)).toEqual({ status: 200, challenge: null, body: { org: 'acme' } });
    });

    it('refuses it on another organization: 403', async () => {
      expect(await acmeApi.get('/orgs/globex/things', acmeToken)).toEqual({
        status: 403,
        challenge: `Bearer realm="${acmeGate.baseUrl}", error="insufficient_scope", error_description="The access token does not belong to this organization"`,
        body: { error: 'insufficient_scope', error_description: 'The access token does not belong to this organization' },
      });
    });
  });
});
