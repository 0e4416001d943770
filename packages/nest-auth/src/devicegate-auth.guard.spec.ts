import type { ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { RequireScopes } from './decorators';
import { DevicegateAuthGuard } from './devicegate-auth.guard';
import { DevicegateAuthException } from './errors';
import { resolveOptions } from './options';
import type { DevicegateTokenInfo } from './token-info';
import type { DevicegateTokenVerifier } from './token-verifier';

class Handlers {
  @RequireScopes('read')
  scoped() {}

  open() {}
}

const ISSUER = 'https://auth.example.com';
const TOKEN: DevicegateTokenInfo = { sub: 's', scopes: ['read'], clientId: 'c', exp: 2e9, iat: 1 };

function context(handler: keyof Handlers, request: object, response: object, type = 'http'): ExecutionContext {
  return {
    getType: () => type,
    getHandler: () => Handlers.prototype[handler],
    getClass: () => Handlers,
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => response, getNext: () => undefined }),
  } as unknown as ExecutionContext;
}

function guard(options: { global?: boolean; adapterHost?: HttpAdapterHost; verify?: jest.Mock } = {}) {
  const verifier = { verify: options.verify ?? jest.fn(async () => TOKEN) } as unknown as DevicegateTokenVerifier;
  return new DevicegateAuthGuard(
    resolveOptions({ issuer: ISSUER, clientId: 'rs', clientSecret: 'secret', global: options.global }),
    verifier,
    new Reflector(),
    options.adapterHost,
  );
}

describe('DevicegateAuthGuard, adapter-neutral', () => {
  it("sets WWW-Authenticate through the application's HTTP adapter", async () => {
    const setHeader = jest.fn();
    const adapterHost = { httpAdapter: { setHeader } } as unknown as HttpAdapterHost;
    const response = {};
    await expect(guard({ adapterHost }).canActivate(context('scoped', { headers: {} }, response))).rejects.toBeInstanceOf(DevicegateAuthException);
    expect(setHeader).toHaveBeenCalledWith(response, 'WWW-Authenticate', `Bearer realm="${ISSUER}"`);
  });

  it('without an adapter, uses an Express/Node-style setHeader, or a Fastify-style header()', async () => {
    const node = { setHeader: jest.fn() };
    await expect(guard().canActivate(context('scoped', { headers: { authorization: 'Bearer' } }, node))).rejects.toMatchObject({ status: 400 });
    expect(node.setHeader).toHaveBeenCalledWith('WWW-Authenticate', expect.stringContaining('error="invalid_request"'));

    const fastify = { header: jest.fn() };
    const inactive = guard({ verify: jest.fn(async () => null) });
    await expect(inactive.canActivate(context('scoped', { headers: { authorization: 'Bearer abc' } }, fastify))).rejects.toMatchObject({ status: 401 });
    expect(fastify.header).toHaveBeenCalledWith('WWW-Authenticate', expect.stringContaining('error="invalid_token"'));
  });

  it('reads only request.headers.authorization', async () => {
    const verify = jest.fn(async () => TOKEN);
    expect(await guard({ verify }).canActivate(context('scoped', { headers: { authorization: 'Bearer abc' } }, {}))).toBe(true);
    expect(verify).toHaveBeenCalledWith('abc');
  });

  it('lets undecorated routes through unless global', async () => {
    expect(await guard().canActivate(context('open', { headers: {} }, {}))).toBe(true);
    await expect(guard({ global: true }).canActivate(context('open', { headers: {} }, { setHeader: jest.fn() }))).rejects.toMatchObject({ status: 401 });
  });

  it('covers HTTP only: global skips other contexts, a decorated non-HTTP handler is an error', async () => {
    expect(await guard({ global: true }).canActivate(context('open', {}, {}, 'rpc'))).toBe(true);
    await expect(guard().canActivate(context('scoped', {}, {}, 'ws'))).rejects.toThrow(/HTTP routes only/);
  });

  it('escapes the realm as a quoted-string', async () => {
    const setHeader = jest.fn();
    const odd = new DevicegateAuthGuard(
      resolveOptions({ issuer: 'https://auth.example.com/a"b\\c', clientId: 'rs', clientSecret: 'secret' }),
      { verify: jest.fn() } as unknown as DevicegateTokenVerifier,
      new Reflector(),
    );
    await expect(odd.canActivate(context('scoped', { headers: {} }, { setHeader }))).rejects.toBeInstanceOf(DevicegateAuthException);
    expect(setHeader).toHaveBeenCalledWith('WWW-Authenticate', 'Bearer realm="https://auth.example.com/a\\"b\\\\c"');
  });
});
