import { type CanActivate, type ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { readBearerCredentials } from './bearer-header';
import {
  DevicegateAuthException,
  insufficientScope,
  introspectionUnavailable,
  invalidToken,
  malformedAuthorization,
  missingToken,
  wrongOrganization,
} from './errors';
import { IntrospectionError } from './introspection-client';
import { acceptedToken, IS_PUBLIC, ORGANIZATION_PARAM, PROTECTED, REQUIRED_SCOPES, rememberToken } from './metadata';
import { DEVICEGATE_AUTH_OPTIONS, type ResolvedDevicegateAuthOptions } from './options';
import type { DevicegateTokenInfo } from './token-info';
import { DevicegateTokenVerifier } from './token-verifier';

interface HttpRequestLike {
  headers?: Record<string, string | string[] | undefined>;
  params?: Record<string, unknown>;
}

interface HttpResponseLike {
  header?: (name: string, value: string) => unknown;
  setHeader?: (name: string, value: string) => unknown;
}

/**
 * Accepts a request whose `Authorization: Bearer` token devicegate says is
 * active, then checks the route's `@RequireScopes()` and `@RequireOrganization()`.
 *
 * Applied by those decorators to their routes, and, with `global: true`, to
 * every HTTP route that is not `@Public()`. A route guarded twice (globally and
 * by its decorator) introspects once: the accepted token is kept per request.
 */
@Injectable()
export class DevicegateAuthGuard implements CanActivate {
  constructor(
    @Inject(DEVICEGATE_AUTH_OPTIONS) private readonly options: ResolvedDevicegateAuthOptions,
    private readonly verifier: DevicegateTokenVerifier,
    private readonly reflector: Reflector,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const isProtected = this.reflector.getAllAndOverride<boolean | undefined>(PROTECTED, targets) === true;
    if (!isProtected) {
      // Only the global registration reaches an undecorated route.
      if (!this.options.global) return true;
      if (this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, targets) === true) return true;
      // Microservice or WebSocket handlers of a hybrid application: `global` covers HTTP routes only.
      if (context.getType() !== 'http') return true;
    } else if (context.getType() !== 'http') {
      throw new Error('DevicegateAuthGuard protects HTTP routes only');
    }

    const http = context.switchToHttp();
    const request = http.getRequest<HttpRequestLike & object>();
    try {
      const token = acceptedToken(request) ?? (await this.authenticate(request));
      // The class's scopes, then the method's.
      this.checkScopes(token, this.reflector.getAllAndMerge<string[]>(REQUIRED_SCOPES, [context.getClass(), context.getHandler()]) ?? []);
      this.checkOrganization(token, request, this.reflector.getAllAndOverride<string | undefined>(ORGANIZATION_PARAM, targets));
      return true;
    } catch (error) {
      if (error instanceof DevicegateAuthException) this.setHeaders(http.getResponse<HttpResponseLike>(), error.headers);
      throw error;
    }
  }

  private async authenticate(request: HttpRequestLike & object): Promise<DevicegateTokenInfo> {
    const credentials = readBearerCredentials(request.headers?.authorization);
    if (credentials.kind === 'none') throw missingToken(this.options.issuer);
    if (credentials.kind === 'malformed') throw malformedAuthorization(this.options.issuer);
    let token: DevicegateTokenInfo | null;
    try {
      token = await this.verifier.verify(credentials.token);
    } catch (error) {
      // Logged by the verifier (without the token); whatever went wrong, nothing is let through.
      if (error instanceof IntrospectionError) throw introspectionUnavailable();
      throw error;
    }
    if (token === null) throw invalidToken(this.options.issuer);
    rememberToken(request, token);
    return token;
  }

  private checkScopes(token: DevicegateTokenInfo, required: string[]): void {
    if (required.some((scope) => !token.scopes.includes(scope))) throw insufficientScope(this.options.issuer, [...new Set(required)]);
  }

  private checkOrganization(token: DevicegateTokenInfo, request: HttpRequestLike, paramName: string | undefined): void {
    if (paramName === undefined) return;
    const value = request.params?.[paramName];
    if (typeof value !== 'string' || value.length === 0) {
      // A route without that parameter is a programming error; it fails closed (500).
      throw new Error(`@RequireOrganization('${paramName}'): the route has no :${paramName} parameter`);
    }
    if (token.org === undefined || token.org !== value) throw wrongOrganization(this.options.issuer);
  }

  /** Through the application's HTTP adapter (Express: res.set, Fastify: reply.header); duck-typed without one. */
  private setHeaders(response: HttpResponseLike, headers: Readonly<Record<string, string>>): void {
    const adapter = this.adapterHost?.httpAdapter;
    for (const [name, value] of Object.entries(headers)) {
      if (adapter) adapter.setHeader(response, name, value);
      else if (typeof response.header === 'function') response.header(name, value);
      else if (typeof response.setHeader === 'function') response.setHeader(name, value);
    }
  }
}
