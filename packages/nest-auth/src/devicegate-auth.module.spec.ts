import { Controller, Get, Injectable, Logger, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DevicegateAuthModule, type DevicegateAuthOptions, type DevicegateTokenInfo, DevicegateToken, Public, RequireOrganization, RequireScopes } from './index';
import { closedPort, FAKE_CLIENT, FakeDevicegate } from './test-support/fake-devicegate';

const READER = 'dgat_reader00000000000000000000000000000000000000abcdef';
const WRITER = 'dgat_writer00000000000000000000000000000000000000abcdef';
const ACME = 'dgat_acme0000000000000000000000000000000000000000abcdef';
const GLOBEX = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJnbG9iZXgifQ.c2lnbmF0dXJl';

@Controller()
class ThingsController {
  @Get('me')
  @RequireScopes()
  me(@DevicegateToken() token: DevicegateTokenInfo) {
    return token;
  }

  @Get('read')
  @RequireScopes('read')
  read(@DevicegateToken() token: DevicegateTokenInfo) {
    return { sub: token.sub };
  }

  @Get('write')
  @RequireScopes('read', 'write')
  write() {
    return { ok: true };
  }

  @Get('orgs/:org/things')
  @RequireOrganization('org')
  @RequireScopes('read')
  things(@DevicegateToken() token: DevicegateTokenInfo) {
    return { org: token.org };
  }

  @Get('open')
  open() {
    return { open: true };
  }

  @Get('public')
  @Public()
  publicRoute() {
    return { public: true };
  }

  @Get('public-but-scoped')
  @Public()
  @RequireScopes('write')
  publicButScoped() {
    return { ok: true };
  }

  @Get('unguarded-token')
  unguardedToken(@DevicegateToken() token: DevicegateTokenInfo) {
    return token;
  }

  @Get('no-org-param')
  @RequireOrganization('org')
  noOrgParam() {
    return { ok: true };
  }
}

@Controller('profile')
@RequireScopes('profile')
class ProfileController {
  @Get()
  profile() {
    return { ok: true };
  }

  @Get('write')
  @RequireScopes('write')
  profileWrite() {
    return { ok: true };
  }
}

type Host = 'express' | 'fastify';

/** A host application listening on a free port. */
interface Served {
  url: string;
  close(): Promise<void>;
}

async function serveOn(host: Host, root: Type, logger = false): Promise<Served> {
  const app = await NestFactory.create(root, host === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger: logger ? undefined : false });
  await app.listen(0, '127.0.0.1');
  return { url: await app.getUrl(), close: () => app.close() };
}

function appModule(options: DevicegateAuthOptions): Type {
  @Module({ imports: [DevicegateAuthModule.forRoot(options)], controllers: [ThingsController, ProfileController] })
  class AppModule {}
  return AppModule;
}

describe.each(['express', 'fastify'] as const)('DevicegateAuthModule in an application on %s', (host) => {
  let devicegate: FakeDevicegate;
  let app: Served;
  const serve = (root: Type, logger = false) => serveOn(host, root, logger);
  const options = (extra: Partial<DevicegateAuthOptions> = {}): DevicegateAuthOptions => ({
    issuer: devicegate.issuer,
    clientId: FAKE_CLIENT.id,
    clientSecret: FAKE_CLIENT.secret,
    ...extra,
  });

  const get = async (url: string, authorization?: string, target = app) => {
    const reply = await fetch(`${target.url}${url}`, { headers: authorization === undefined ? {} : { authorization } });
    const text = await reply.text();
    return {
      status: reply.status,
      challenge: reply.headers.get('www-authenticate') ?? undefined,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
    };
  };

  beforeAll(async () => {
    devicegate = await new FakeDevicegate().start();
    devicegate.activate(READER, { scope: 'profile read' });
    devicegate.activate(WRITER, { scope: 'profile read write', sub: 'writer-subject' });
    devicegate.activate(ACME, { org: 'acme' });
    devicegate.activate(GLOBEX, { org: 'globex' });
    app = await serve(appModule(options()));
  });

  afterAll(async () => {
    await app?.close();
    await devicegate?.stop();
  });

  describe('RFC 6750 §3 refusals', () => {
    it('challenges a request without credentials, or with another scheme: 401 and a bare challenge', async () => {
      for (const authorization of [undefined, 'Basic YWxpY2U6cHc=', `Token ${READER}`, `Bearerx ${READER}`]) {
        expect({ authorization, ...(await get('/read', authorization)) }).toEqual({
          authorization,
          status: 401,
          challenge: `Bearer realm="${devicegate.issuer}"`,
          body: { error: 'invalid_token', error_description: 'A bearer token is required' },
        });
      }
    });

    it('refuses a malformed Bearer header with 400 invalid_request, without asking devicegate', async () => {
      const before = devicegate.calls.length;
      for (const authorization of ['Bearer', `Bearer ${READER} extra`, `Bearer ${READER},x`, 'Bearer tok"en']) {
        expect({ authorization, ...(await get('/read', authorization)) }).toEqual({
          authorization,
          status: 400,
          challenge: `Bearer realm="${devicegate.issuer}", error="invalid_request", error_description="The Authorization header must be \\"Bearer <token>\\""`,
          body: { error: 'invalid_request', error_description: 'The Authorization header must be "Bearer <token>"' },
        });
      }
      expect(devicegate.calls.length).toBe(before);
    });

    it('refuses an inactive token with 401 invalid_token', async () => {
      expect(await get('/read', 'Bearer dgat_not-a-live-token')).toEqual({
        status: 401,
        challenge: `Bearer realm="${devicegate.issuer}", error="invalid_token", error_description="The access token is invalid, expired or revoked"`,
        body: { error: 'invalid_token', error_description: 'The access token is invalid, expired or revoked' },
      });
    });

    it('refuses a token without the scopes with 403 insufficient_scope naming them all', async () => {
      expect(await get('/write', `Bearer ${READER}`)).toEqual({
        status: 403,
        challenge: `Bearer realm="${devicegate.issuer}", error="insufficient_scope", scope="read write"`,
        body: { error: 'insufficient_scope', error_description: 'This resource needs the scopes read write' },
      });
    });
  });

  it('lets a token with the scopes through and hands the handler its introspection result', async () => {
    expect(await get('/read', `Bearer ${READER}`)).toEqual({ status: 200, challenge: undefined, body: { sub: devicegate.tokens.get(READER)?.sub } });
    expect((await get('/write', `bearer ${WRITER}`)).status).toBe(200);
    const answer = devicegate.tokens.get(ACME) as Record<string, unknown>;
    expect((await get('/me', `Bearer ${ACME}`)).body).toEqual({
      sub: answer.sub,
      email: 'alice@example.com',
      org: 'acme',
      scopes: ['profile', 'read'],
      clientId: 'test-cli',
      exp: answer.exp,
      iat: answer.iat,
    });
  });

  it('adds up the scopes of the class and of the method', async () => {
    expect((await get('/profile', `Bearer ${READER}`)).status).toBe(200);
    expect(await get('/profile/write', `Bearer ${READER}`)).toMatchObject({ status: 403, body: { error_description: 'This resource needs the scopes profile write' } });
    expect((await get('/profile/write', `Bearer ${WRITER}`)).status).toBe(200);
  });

  describe('@RequireOrganization', () => {
    it("lets a token of the route's organization through", async () => {
      expect(await get('/orgs/acme/things', `Bearer ${ACME}`)).toMatchObject({ status: 200, body: { org: 'acme' } });
      expect((await get('/orgs/globex/things', `Bearer ${GLOBEX}`)).status).toBe(200);
    });

    it('refuses a token of another organization, or of none, with 403', async () => {
      for (const [url, token] of [
        ['/orgs/globex/things', ACME],
        ['/orgs/acme/things', GLOBEX],
        ['/orgs/acme/things', READER],
        ['/orgs/ACME/things', ACME],
      ]) {
        expect({ url, ...(await get(url, `Bearer ${token}`)) }).toEqual({
          url,
          status: 403,
          challenge: `Bearer realm="${devicegate.issuer}", error="insufficient_scope", error_description="The access token does not belong to this organization"`,
          body: { error: 'insufficient_scope', error_description: 'The access token does not belong to this organization' },
        });
      }
    });

    it('fails closed (500) on a route without the parameter', async () => {
      jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      expect((await get('/no-org-param', `Bearer ${ACME}`)).status).toBe(500);
      jest.restoreAllMocks();
    });
  });

  it('leaves undecorated routes alone when not global', async () => {
    expect(await get('/open')).toMatchObject({ status: 200, body: { open: true } });
  });

  it('fails closed (500) when @DevicegateToken() is used on a route the guard did not cover', async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    expect((await get('/unguarded-token', `Bearer ${READER}`)).status).toBe(500);
    jest.restoreAllMocks();
  });

  it('caches: a second request with the same token does not reach devicegate', async () => {
    const token = 'dgat_cached00000000000000000000000000000000000000abcdef';
    devicegate.activate(token);
    for (let i = 0; i < 3; i += 1) expect((await get('/read', `Bearer ${token}`)).status).toBe(200);
    expect(devicegate.introspectionCalls(token)).toHaveLength(1);
  });

  it('shares one introspection among concurrent requests with the same token', async () => {
    const token = 'dgat_concurrent0000000000000000000000000000000000abcdef';
    devicegate.activate(token);
    const replies = await Promise.all(Array.from({ length: 10 }, () => get('/read', `Bearer ${token}`)));
    expect(replies.map((reply) => reply.status)).toEqual(Array(10).fill(200));
    expect(devicegate.introspectionCalls(token)).toHaveLength(1);
  });

  describe('when devicegate cannot answer', () => {
    let warn: jest.SpyInstance;
    let error: jest.SpyInstance;

    beforeEach(() => {
      warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    });

    afterEach(() => {
      devicegate.override = undefined;
      jest.restoreAllMocks();
    });

    const UNAVAILABLE = {
      status: 503,
      challenge: undefined,
      body: { error: 'temporarily_unavailable', error_description: 'The access token cannot be checked right now; try again shortly' },
    };

    it.each([
      ['a 5xx', { status: 500, body: {} }],
      ['an answer that is not RFC 7662', { status: 200, body: 'not json' }],
      ['a timeout', { status: 200, body: { active: false }, delayMs: 500 }],
    ])('answers 503 on %s and caches nothing', async (_name, answer) => {
      const token = `dgat_failure${Math.random().toString(36).slice(2)}`;
      devicegate.activate(token);
      const impatient = await serve(appModule(options({ timeoutMs: 200 })));
      try {
        devicegate.override = answer;
        expect(await get('/read', `Bearer ${token}`, impatient)).toEqual(UNAVAILABLE);
        devicegate.override = undefined;
        expect((await get('/read', `Bearer ${token}`, impatient)).status).toBe(200);
      } finally {
        await impatient.close();
      }
      expect(warn).toHaveBeenCalled();
    });

    it('answers 503, not 401, when its own client secret is refused, and logs an error', async () => {
      const misconfigured = await serve(appModule(options({ clientSecret: 'not-the-secret' })));
      try {
        expect(await get('/read', `Bearer ${READER}`, misconfigured)).toEqual(UNAVAILABLE);
      } finally {
        await misconfigured.close();
      }
      expect(error).toHaveBeenCalledWith(expect.stringContaining("devicegate refused this service's client credentials"));
      expect(JSON.stringify([...warn.mock.calls, ...error.mock.calls])).not.toContain(READER);
    });

    it('answers 503 when nothing listens', async () => {
      const down = await serve(appModule(options({ issuer: `http://127.0.0.1:${await closedPort()}` })));
      try {
        expect(await get('/read', `Bearer ${READER}`, down)).toEqual(UNAVAILABLE);
      } finally {
        await down.close();
      }
    });
  });

  describe('global: true', () => {
    let globalApp: Served;

    beforeAll(async () => {
      globalApp = await serve(appModule(options({ global: true })));
    });

    afterAll(() => globalApp?.close());

    it('needs a live token on every route', async () => {
      expect(await get('/open', undefined, globalApp)).toMatchObject({ status: 401, challenge: `Bearer realm="${devicegate.issuer}"` });
      expect((await get('/open', 'Bearer dgat_unknown', globalApp)).status).toBe(401);
      expect(await get('/open', `Bearer ${READER}`, globalApp)).toMatchObject({ status: 200, body: { open: true } });
    });

    it('lets @Public() routes through without a token', async () => {
      expect(await get('/public', undefined, globalApp)).toMatchObject({ status: 200, body: { public: true } });
    });

    it('still enforces @RequireScopes on a @Public() route', async () => {
      expect((await get('/public-but-scoped', undefined, globalApp)).status).toBe(401);
      expect((await get('/public-but-scoped', `Bearer ${READER}`, globalApp)).status).toBe(403);
      expect((await get('/public-but-scoped', `Bearer ${WRITER}`, globalApp)).status).toBe(200);
    });

    it('introspects once when the global guard and the route guard both run', async () => {
      const token = 'dgat_twice000000000000000000000000000000000000000abcdef';
      devicegate.activate(token);
      expect((await get('/read', `Bearer ${token}`, globalApp)).status).toBe(200);
      expect(devicegate.introspectionCalls(token)).toHaveLength(1);
    });

    it('hands @DevicegateToken() the token on an undecorated route', async () => {
      expect(await get('/unguarded-token', `Bearer ${READER}`, globalApp)).toMatchObject({ status: 200, body: { scopes: ['profile', 'read'] } });
    });
  });

  describe('forRootAsync', () => {
    @Injectable()
    class Settings {
      constructor(readonly issuer: string) {}
    }

    it('takes its options from a factory with injected providers', async () => {
      const issuer = devicegate.issuer;
      @Module({ providers: [{ provide: Settings, useFactory: () => new Settings(issuer) }], exports: [Settings] })
      class SettingsModule {}

      @Module({
        imports: [
          DevicegateAuthModule.forRootAsync({
            imports: [SettingsModule],
            inject: [Settings],
            useFactory: async (settings: Settings) => ({ issuer: settings.issuer, clientId: FAKE_CLIENT.id, clientSecret: FAKE_CLIENT.secret }),
            global: true,
          }),
        ],
        controllers: [ThingsController],
      })
      class AsyncAppModule {}

      const asyncApp = await serve(AsyncAppModule);
      try {
        expect((await get('/open', undefined, asyncApp)).status).toBe(401);
        expect((await get('/public', undefined, asyncApp)).status).toBe(200);
        expect((await get('/read', `Bearer ${READER}`, asyncApp)).status).toBe(200);
      } finally {
        await asyncApp.close();
      }
    });
  });

  it('refuses bad options at start-up', () => {
    expect(() => DevicegateAuthModule.forRoot({ ...options(), issuer: 'not a url' })).toThrow(/issuer must be an absolute URL/);
    expect(() => DevicegateAuthModule.forRoot({ ...options(), issuer: 'ftp://x' })).toThrow(/http\(s\)/);
    expect(() => DevicegateAuthModule.forRoot({ ...options(), clientSecret: '' })).toThrow(/clientSecret is required/);
    expect(() => DevicegateAuthModule.forRoot({ ...options(), cacheTtlSeconds: -1 })).toThrow(/cacheTtlSeconds/);
    expect(() => DevicegateAuthModule.forRoot({ ...options(), timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => RequireScopes('read write')).toThrow(/one scope per argument/);
  });
});
