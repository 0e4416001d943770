import { Body, Controller, Get, Header, HttpCode, Param, Post, Query, Redirect, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AppConfig } from '../config/app-config';
import { randomToken, sha256Hex } from '../common/crypto';
import { PageSecurityHeaders } from '../common/html';
import { OAuthParams, Origin, RequestCookie } from '../common/http';
import type { RequestContext } from '../common/request-context';
import { OnceStore } from '../redis/once.store';
import { ConsoleAccessService } from './console-access.service';
import { adminSection, registeredSection } from './console-admin.view';
import { ConsoleAdminService } from './console-admin.service';
import { ConsolePageFilter } from './console-page.filter';
import { ConsolePages } from './console-pages.service';
import { consoleCsrfRefused } from './console-sign-in.controller';
import { CONSOLE_STRINGS, fill } from './console-strings';
import { CONSOLE_SESSION_COOKIE, type ConsoleSession, ConsoleSessionService } from './session/console-session.service';

/** The admin view: clients (list, register with the secret shown once, enable, disable) and off-boarding; an organization's admin gets that organization's only (ConsoleAdminService). */
@ApiExcludeController()
@UseFilters(ConsolePageFilter)
@Controller('console/admin')
export class ConsoleAdminController {
  constructor(
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessionService,
    private readonly access: ConsoleAccessService,
    private readonly admin: ConsoleAdminService,
    private readonly once: OnceStore,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @PageSecurityHeaders()
  async page(
    @RequestCookie(CONSOLE_SESSION_COOKIE) cookie: string | undefined,
    @Origin() origin: RequestContext,
    @Query('notice') notice: unknown,
    @Query('count') count: unknown,
  ) {
    const session = await this.sessions.read(cookie, origin);
    const access = this.access.assert(session, 'admin');
    const shown =
      notice === 'offboarded' && typeof count === 'string' && /^\d{1,9}$/.test(count)
        ? fill(CONSOLE_STRINGS.offboarded, { count })
        : notice === 'client_changed'
          ? CONSOLE_STRINGS.clientChanged
          : undefined;
    return this.adminPage(session, access, shown);
  }

  /**
   * Registers a client; the answer is a page (never cached) that shows a
   * confidential client's secret this once. Each registration form carries a
   * `registration_id`, and a form is registered once: the same form sent
   * again (a reload of the answer, a double click) registers nothing more.
   */
  @Post('clients')
  @HttpCode(200)
  @Header('Content-Type', 'text/html; charset=utf-8')
  @PageSecurityHeaders()
  async register(
    @RequestCookie(CONSOLE_SESSION_COOKIE) cookie: string | undefined,
    @Origin() origin: RequestContext,
    @Body() body: unknown,
  ) {
    const { session, access, params } = await this.checked(cookie, origin, body);
    const form = sha256Hex(`${params.required('registration_id')}\n${JSON.stringify(body)}`);
    if (!(await this.once.consume(`console-registration:${form}`, this.config.consoleSessionAbsoluteSeconds * 1000))) {
      return this.adminPage(session, access, CONSOLE_STRINGS.registrationSentAlready);
    }
    const registered = await this.admin.register(session, params);
    return this.pages.view.signedIn(session, access, CONSOLE_STRINGS.registeredTitle, registeredSection(registered));
  }

  @Post('clients/:clientId/enabled')
  @Redirect()
  @PageSecurityHeaders()
  async setEnabled(
    @RequestCookie(CONSOLE_SESSION_COOKIE) cookie: string | undefined,
    @Origin() origin: RequestContext,
    @Param('clientId') clientId: string,
    @Body() body: unknown,
  ) {
    const { session, params } = await this.checked(cookie, origin, body);
    await this.admin.setEnabled(session, clientId, params.required('enabled') === 'true');
    return { url: '/console/admin?notice=client_changed', statusCode: 303 };
  }

  @Post('offboard')
  @Redirect()
  @PageSecurityHeaders()
  async offboard(
    @RequestCookie(CONSOLE_SESSION_COOKIE) cookie: string | undefined,
    @Origin() origin: RequestContext,
    @Body() body: unknown,
  ) {
    const { session, params } = await this.checked(cookie, origin, body);
    const revoked = await this.admin.offboard(session, params.required('subject'), params.required('reason'));
    return { url: `/console/admin?notice=offboarded&count=${revoked}`, statusCode: 303 };
  }

  private async adminPage(session: ConsoleSession, access: ReturnType<ConsoleAccessService['of']>, notice: string | undefined): Promise<string> {
    const clients = await this.admin.list(session);
    const alert = notice ? `<p class="notice" role="status">${notice}</p>\n` : '';
    return this.pages.view.signedIn(session, access, CONSOLE_STRINGS.adminTitle, alert + adminSection(clients, session.csrfToken, session.person.organizationId, randomToken(16)));
  }

  /** A form post of an admin's session with its CSRF token. */
  private async checked(cookie: string | undefined, origin: RequestContext, body: unknown): Promise<{ session: ConsoleSession; access: ReturnType<ConsoleAccessService['of']>; params: OAuthParams }> {
    const session = await this.sessions.read(cookie, origin);
    const access = this.access.assert(session, 'admin');
    const params = new OAuthParams(body);
    if (!(await this.sessions.matchesCsrf(session, params.optional('csrf_token')))) throw consoleCsrfRefused();
    return { session, access, params };
  }
}
