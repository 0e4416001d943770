import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { ForeignOrganization, InsufficientScope, InvalidToken } from '../common/oauth-errors';
import { BearerAuthGuard } from './bearer-auth.guard';
import type { AuthenticatedToken, TokenValidationService } from './token-validation.service';

const TOKEN: AuthenticatedToken = {
  id: '5b0e1c1e-0000-4000-8000-000000000001',
  subjectId: '5b0e1c1e-0000-4000-8000-000000000002',
  issuer: 'urn:devicegate:local',
  externalId: 'alice',
  email: 'alice@example.com',
  name: 'Alice Example',
  clientId: 'test-cli',
  deviceLabel: 'laptop',
  scopes: ['profile', 'read'],
  organizationId: 'acme',
  issuedAt: new Date('2029-12-01T00:00:00Z'),
  expiresAt: new Date('2030-01-01T00:00:00Z'),
};

class Handlers {
  me() {}
}

function setup(
  requiredScopes: string[] | undefined,
  authenticate = jest.fn().mockResolvedValue(TOKEN),
  organization?: { param: string; value: string },
) {
  const validation = { authenticate } as unknown as TokenValidationService;
  const getAllAndOverride = jest.fn((key: string) => (key === 'devicegate:required-scopes' ? requiredScopes : organization?.param));
  const reflector = { getAllAndOverride } as unknown as Reflector;
  const request = {
    ip: '::ffff:192.0.2.7',
    headers: { authorization: 'Bearer dgat_x' } as Record<string, string | string[] | undefined>,
    params: organization ? { [organization.param]: organization.value } : {},
  };
  const context = {
    switchToHttp: () => ({ getRequest: () => request }),
    getHandler: () => Handlers.prototype.me,
    getClass: () => Handlers,
  } as unknown as ExecutionContext;
  return { guard: new BearerAuthGuard(validation, reflector), context, request, authenticate, getAllAndOverride };
}

describe('BearerAuthGuard', () => {
  it('refuses a token without every required scope with InsufficientScope, 403 and its challenge (RFC 6750 §3.1)', async () => {
    const { guard, context } = setup(['read', 'write']);

    const refusal = await guard.canActivate(context).catch((error: unknown) => error);

    expect(refusal).toBeInstanceOf(InsufficientScope);
    const error = refusal as InsufficientScope;
    expect(error.status).toBe(403);
    expect(error.code).toBe('insufficient_scope');
    expect(error.description).toBe('This resource needs the scopes read write');
    expect(error.headers).toEqual({
      'WWW-Authenticate': 'Bearer realm="devicegate", error="insufficient_scope", scope="read write"',
    });
  });

  it('names a single missing scope in the singular', async () => {
    const { guard, context } = setup(['admin']);
    const error = (await guard.canActivate(context).catch((caught: unknown) => caught)) as InsufficientScope;
    expect(error).toBeInstanceOf(InsufficientScope);
    expect(error.description).toBe('This resource needs the scope admin');
    expect(error.headers['WWW-Authenticate']).toBe('Bearer realm="devicegate", error="insufficient_scope", scope="admin"');
  });

  it('reads the required scopes of the handler, then of the controller', async () => {
    const { guard, context, getAllAndOverride } = setup(['read']);
    await guard.canActivate(context);
    expect(getAllAndOverride).toHaveBeenCalledWith('devicegate:required-scopes', [Handlers.prototype.me, Handlers]);
  });

  it('lets a token through that holds every required scope', async () => {
    const { guard, context, authenticate, request } = setup(['profile', 'read']);
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(authenticate).toHaveBeenCalledWith('Bearer dgat_x', '192.0.2.7');
    // Kept on the request for @CurrentToken().
    const attached = Object.getOwnPropertySymbols(request).map((key) => (request as unknown as Record<symbol, unknown>)[key]);
    expect(attached).toEqual([TOKEN]);
  });

  it('lets any live token through when no scope is required', async () => {
    for (const required of [undefined, []]) {
      const { guard, context } = setup(required);
      await expect(guard.canActivate(context)).resolves.toBe(true);
    }
  });

  it('lets a token of the organization the route names through, and refuses one of another', async () => {
    const own = setup(undefined, undefined, { param: 'org', value: 'acme' });
    await expect(own.guard.canActivate(own.context)).resolves.toBe(true);
    const other = setup(undefined, undefined, { param: 'org', value: 'globex' });
    const refusal = (await other.guard.canActivate(other.context).catch((error: unknown) => error)) as ForeignOrganization;
    expect(refusal).toBeInstanceOf(ForeignOrganization);
    expect(refusal.status).toBe(403);
    expect(refusal.code).toBe('insufficient_scope');
    expect(refusal.headers['WWW-Authenticate']).toMatch(/^Bearer realm="devicegate", error="insufficient_scope"/);
  });

  it('refuses a token of no organization on an organization resource', async () => {
    const { guard, context } = setup(undefined, jest.fn().mockResolvedValue({ ...TOKEN, organizationId: null }), { param: 'org', value: 'acme' });
    await expect(guard.canActivate(context)).rejects.toBeInstanceOf(ForeignOrganization);
  });

  it('passes on what token validation refuses, before looking at scopes', async () => {
    const refusal = new InvalidToken('The access token is invalid, expired or revoked');
    const { guard, context, getAllAndOverride } = setup(['read'], jest.fn().mockRejectedValue(refusal));
    await expect(guard.canActivate(context)).rejects.toBe(refusal);
    expect(getAllAndOverride).not.toHaveBeenCalled();
  });
});
