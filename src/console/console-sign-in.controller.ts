import { Body, Controller, Get, Header, Param, Post, Query, Redirect, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { BROWSER_ID_COOKIE, browserIdHash, ensureBrowserId } from '../common/browser-id';
import { constantTimeEqual, randomToken } from '../common/crypto';
import { PageSecurityHeaders } from '../common/html';
import { OAuthParams, Origin, RequestCookie, ResponseHeaders, serializeCookie } from '../common/http';
import type { RequestContext } from '../common/request-context';
import { InvalidCredentials, InvalidCsrfToken, InvalidRequest, NotFound } from '../common/oauth-errors';
import { AppConfig, type LocalUser } from '../config/app-config';
import { OrganizationDirectory } from '../organizations/organization-directory.service';
import { RATE_LIMITS, RateLimited } from '../rate-limit/rate-limit';
import { LdapConnectors } from '../sso-bridge/ldap/ldap-connectors.service';
import { LOCAL_ISSUER } from '../sso-bridge/local/local-login.controller';
import { LocalUsersService } from '../sso-bridge/local/local-users.service';
import { LOCAL_STRATEGY } from '../sso-bridge/local/local.strategy';
import { authenticateWith } from '../sso-bridge/passport-sign-in';
import { SignInService } from '../sso-bridge/sign-in.service';
import { SsoService } from '../sso-bridge/sso.service';
import { ConsolePageFilter } from './console-page.filter';
import { ConsolePages } from './console-pages.service';
import { CONSOLE_STRINGS, fill } from './console-strings';
import { CONSOLE_PATH, CONSOLE_SESSION_COOKIE, ConsoleSessionRefused, ConsoleSessionService } from './session/console-session.service';
import { ConsoleAccessService } from './console-access.service';
import { ConsoleDevicesService } from './console-devices.service';

/** The double-submit token of the sign-in forms (login CSRF): a cookie and a hidden field that must match. */
const LOGIN_CSRF_COOKIE = 'devicegate_console_login';
const LOGIN_CSRF = /^[\w-]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TO_CONSOLE = { url: CONSOLE_PATH, statusCode: 303 };
const COUNT = /^\d{1,9}$/;
const NOTICES: Record<string, string> = { signed_out: CONSOLE_STRINGS.signedOut, revoked: CONSOLE_STRINGS.revoked, already_gone: CONSOLE_STRINGS.alreadyGone };

/** The console's front door: sign-in through every connector, the home page, sign-out. */
@ApiExcludeController()
@UseFilters(ConsolePageFilter)
@Controller('console')
export class ConsoleSignInController {
  private readonly secureCookie: boolean;

  constructor(
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessionService,
    private readonly devices: ConsoleDevicesService,
    private readonly access: ConsoleAccessService,
    private readonly signIn: SignInService,
    private readonly sso: SsoService,
    private readonly users: LocalUsersService,
    private readonly directory: OrganizationDirectory,
    private readonly ldap: LdapConnectors,
    config: AppConfig,
  ) {
    this.secureCookie = config.publicUrl.startsWith('https://');
  }

  /** The console for a person with a session; the sign-in page for everyone else. */
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @PageSecurityHeaders()
  async home(
    @RequestCookie(CONSOLE_SESSION_COOKIE) cookie: string | undefined,
    @Origin() origin: RequestContext,
    @RequestCookie(LOGIN_CSRF_COOKIE) loginCsrf: string | undefined,
    @RequestCookie(BROWSER_ID_COOKIE) browserId: string | undefined,
    @Query() query: Record<string, unknown>,
    @ResponseHeaders() headers: ResponseHeaders,
  ): Promise<string> {
    ensureBrowserId(browserId, headers, this.secureCookie);
    const notice = noticeOf(query);
    try {
      const session = await this.sessions.read(cookie, origin);
      return this.pages.view.home({ session, access: this.access.of(session), notice, ...(await this.devices.list(session, browserIdHash(browserId))) });
    } catch (error) {
      if (!(error instanceof ConsoleSessionRefused)) throw error;
      if (error.reason !== 'missing') this.sessions.clear(headers);
      const token = loginCsrf && LOGIN_CSRF.test(loginCsrf) ? loginCsrf : randomToken(24);
      headers.append('Set-Cookie', serializeCookie(LOGIN_CSRF_COOKIE, token, { path: CONSOLE_PATH, maxAgeSeconds: 3600, secure: this.secureCookie }));
      return this.pages.view.signIn({
        loginCsrf: token,
        notice: error.reason === 'missing' ? notice : CONSOLE_STRINGS.sessionEnded,
      });
    }
  }

  @Get('console.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=300')
  @Header('X-Content-Type-Options', 'nosniff')
  style(): string {
    return this.pages.style;
  }

  /** Off to the identity provider of a SAML or OIDC connector; the callback of the connector opens the console session. */
  @Get('sign-in/sso/:connector')
  @Redirect()
  @RateLimited(RATE_LIMITS.loginPerIp)
  @PageSecurityHeaders()
  async signInSso(@Param('connector') connector: string, @Origin() origin: RequestContext) {
    return { url: await this.sso.initiateConsole(origin, connector), statusCode: 303 };
  }

  @Post('sign-in/local')
  @Redirect()
  @RateLimited(RATE_LIMITS.loginPerIp)
  @PageSecurityHeaders()
  async signInLocal(
    @Body() body: unknown,
    @RequestCookie(LOGIN_CSRF_COOKIE) loginCsrf: string | undefined,
    @ResponseHeaders() headers: ResponseHeaders,
    @Origin() origin: RequestContext,
  ) {
    const params = new OAuthParams(body);
    await this.assertLoginCsrf(origin, loginCsrf, params.optional('login_csrf'));
    const connector = this.users.connector;
    if (!connector) throw new NotFound('The local connector is not enabled');
    const username = params.required('username');
    const outcome = await authenticateWith<LocalUser>(LOCAL_STRATEGY, { body: { username, password: params.required('password') } });
    if (!('user' in outcome)) {
      await this.signIn.reject(origin, connector.id, 'invalid_credentials', undefined, { ...this.users.auditedUsername(username), purpose: 'console' });
      throw new InvalidCredentials();
    }
    const user = outcome.user;
    await this.signIn.completeConsole(
      origin,
      connector.id,
      { issuer: LOCAL_ISSUER, externalId: user.username, email: user.email, name: user.name, organizationId: connector.organizationId },
      headers,
    );
    return TO_CONSOLE;
  }

  @Post('sign-in/ldap/:connector')
  @Redirect()
  @RateLimited(RATE_LIMITS.loginPerIp)
  @PageSecurityHeaders()
  async signInLdap(
    @Param('connector') id: string,
    @Body() body: unknown,
    @RequestCookie(LOGIN_CSRF_COOKIE) loginCsrf: string | undefined,
    @ResponseHeaders() headers: ResponseHeaders,
    @Origin() origin: RequestContext,
  ) {
    const params = new OAuthParams(body);
    await this.assertLoginCsrf(origin, loginCsrf, params.optional('login_csrf'));
    const connector = this.directory.connector(id);
    if (connector?.type !== 'ldap') throw new NotFound(`There is no LDAP connector "${id.slice(0, 64)}"`);
    const identity = await this.ldap.authenticate(origin, connector, { username: params.required('username'), password: params.required('password') });
    await this.signIn.completeConsole(origin, connector.id, { ...identity, organizationId: connector.organizationId }, headers);
    return TO_CONSOLE;
  }

  private async assertLoginCsrf(origin: RequestContext, cookie: string | undefined, field: string | undefined): Promise<void> {
    if (cookie && field && LOGIN_CSRF.test(cookie) && constantTimeEqual(cookie, field)) return;
    await this.sessions.refused('login_csrf_mismatch', origin);
    throw consoleCsrfRefused();
  }

  /** Revokes one of the person's own authorizations: a CSRF-checked form, audited with the person as actor. */
  @Post('devices/:id/revoke')
  @Redirect()
  @PageSecurityHeaders()
  async revokeDevice(
    @Param('id') id: string,
    @Body() body: unknown,
    @RequestCookie(CONSOLE_SESSION_COOKIE) cookie: string | undefined,
    @Origin() origin: RequestContext,
  ) {
    const session = await this.sessions.read(cookie, origin);
    if (!(await this.sessions.matchesCsrf(session, new OAuthParams(body).optional('csrf_token')))) throw consoleCsrfRefused();
    const revoked = UUID.test(id) && (await this.devices.revoke(session, id));
    return { url: `${CONSOLE_PATH}?notice=${revoked ? 'revoked' : 'already_gone'}`, statusCode: 303 };
  }

  /** "Revoke all but this browser's" (ConsoleDevicesService.revokeAllButBrowser): a CSRF-checked form from a browser that carries its id. */
  @Post('devices/revoke-others')
  @Redirect()
  @PageSecurityHeaders()
  async revokeOthers(
    @Body() body: unknown,
    @RequestCookie(CONSOLE_SESSION_COOKIE) cookie: string | undefined,
    @Origin() origin: RequestContext,
    @RequestCookie(BROWSER_ID_COOKIE) browserId: string | undefined,
  ) {
    const session = await this.sessions.read(cookie, origin);
    if (!(await this.sessions.matchesCsrf(session, new OAuthParams(body).optional('csrf_token')))) throw consoleCsrfRefused();
    const browserHash = browserIdHash(browserId);
    if (!browserHash) throw new InvalidRequest(CONSOLE_STRINGS.unknownBrowser);
    const { revoked, sessions } = await this.devices.revokeAllButBrowser(session, browserHash);
    return { url: `${CONSOLE_PATH}?notice=revoked_others&count=${revoked}&sessions=${sessions}`, statusCode: 303 };
  }

  /** Sign-out: a CSRF-checked POST that deletes the session server-side, so its cookie stops working everywhere. */
  @Post('sign-out')
  @Redirect()
  @PageSecurityHeaders()
  async signOut(
    @Body() body: unknown,
    @RequestCookie(CONSOLE_SESSION_COOKIE) cookie: string | undefined,
    @Origin() origin: RequestContext,
    @ResponseHeaders() headers: ResponseHeaders,
  ) {
    const session = await this.sessions.read(cookie, origin);
    if (!(await this.sessions.matchesCsrf(session, new OAuthParams(body).optional('csrf_token')))) throw consoleCsrfRefused();
    await this.sessions.close(session, headers);
    return { url: `${CONSOLE_PATH}?notice=signed_out`, statusCode: 303 };
  }
}

/** The notice a redirect asked for, its counts checked before they are shown. */
function noticeOf(query: Record<string, unknown>): string | undefined {
  const { notice, count, sessions } = query;
  if (notice === 'revoked_others') {
    const counted = [count, sessions].every((value) => typeof value === 'string' && COUNT.test(value));
    return counted ? fill(CONSOLE_STRINGS.revokedOthers, { count: count as string, sessions: sessions as string }) : undefined;
  }
  return typeof notice === 'string' && Object.hasOwn(NOTICES, notice) ? NOTICES[notice] : undefined;
}

export function consoleCsrfRefused(): InvalidCsrfToken {
  return new InvalidCsrfToken('This form has expired or did not come from the console; go back, reload the page and try again');
}
