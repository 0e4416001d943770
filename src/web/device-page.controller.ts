import { Controller, createParamDecorator, type ExecutionContext, Get, Header, Headers, NotFoundException, Query, StreamableFile } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BROWSER_ID_COOKIE, ensureBrowserId } from '../common/browser-id';
import { PAGE_SECURITY_HEADERS } from '../common/html';
import { RequestCookie, ResponseHeaders } from '../common/http';
import { AppConfig } from '../config/app-config';
import { DevicePageView, type PageOperator } from './device-page.view';
import { negotiateLocale } from './page-locale';
import { FALLBACK_LOCALE, PAGE_CATALOG } from './page-strings';

const asset = (name: string) => readFileSync(join(__dirname, 'assets', name), 'utf8');
/** The page links its script and style by content, so a page never runs with the script of another release. */
const versioned = (path: string, content: string | Buffer) => `${path}?v=${createHash('sha256').update(content).digest('hex').slice(0, 12)}`;
const LOCALES = Object.keys(PAGE_CATALOG);

interface HeaderSetter {
  set(name: string, value: string): void;
}

/** Sets (replaces) response headers from the handler, through the call both Express and Fastify responses have. */
const ResponseHeaderSetter = createParamDecorator((_data: unknown, context: ExecutionContext): HeaderSetter => {
  const response = context.switchToHttp().getResponse<{ header(name: string, value: string): void }>();
  return { set: (name, value) => response.header(name, value) };
});

/** The approval page: enter the code, sign in, then approve or deny; plus its script, style and the operator's logo. */
@ApiExcludeController()
@Controller('device')
export class DevicePageController {
  private readonly script = asset('device.js');
  private readonly style = asset('device.css');
  private readonly logo?: { file: Buffer; contentType: string };
  private readonly headers: Record<string, string>;
  private readonly view: DevicePageView;
  private readonly secureCookie: boolean;

  constructor(config: AppConfig) {
    this.secureCookie = config.publicUrl.startsWith('https://');
    const { operator } = config;
    let logoSrc: string | undefined;
    let imageSources = "img-src 'self'";
    if (operator.logo && 'file' in operator.logo) {
      this.logo = operator.logo;
      logoSrc = versioned('/device/logo', operator.logo.file);
    } else if (operator.logo) {
      logoSrc = operator.logo.url;
      // Only the logo's own origin joins the policy, and only on this page.
      imageSources = `img-src 'self' ${new URL(operator.logo.url).origin}`;
    }
    this.headers = {
      ...PAGE_SECURITY_HEADERS,
      'Content-Security-Policy': PAGE_SECURITY_HEADERS['Content-Security-Policy'].replace("img-src 'self'", imageSources),
      'Content-Type': 'text/html; charset=utf-8',
      Vary: 'Accept-Language',
    };
    const view: PageOperator = { name: operator.name, logoSrc, supportEmail: operator.supportEmail, supportUrl: operator.supportUrl };
    this.view = new DevicePageView({
      catalog: PAGE_CATALOG,
      sso: config.connectors.filter((connector) => connector.type === 'saml' || connector.type === 'oidc'),
      directories: config.connectors.filter((connector) => connector.type === 'ldap'),
      local: config.connectors.some((connector) => connector.type === 'local') && config.localUsers.length > 0,
      assets: { script: versioned('/device/device.js', this.script), style: versioned('/device/device.css', this.style) },
      operator: view,
      sensitiveScopes: config.scopes.filter((scope) => scope.sensitive).map((scope) => scope.name),
    });
  }

  /** The page gives a browser its id (BROWSER_ID_COOKIE) before it approves anything, so the approval records which browser it was. */
  @Get()
  page(
    @ResponseHeaderSetter() response: HeaderSetter,
    @ResponseHeaders() cookies: ResponseHeaders,
    @RequestCookie(BROWSER_ID_COOKIE) browserId: string | undefined,
    @Headers('accept-language') acceptLanguage?: string,
    @Query('user_code') userCode?: unknown,
    @Query('sso_verified') verified?: unknown,
  ): string {
    const locale = negotiateLocale(acceptLanguage, LOCALES, FALLBACK_LOCALE);
    for (const [name, value] of Object.entries(this.headers)) response.set(name, value);
    ensureBrowserId(browserId, cookies, this.secureCookie);
    response.set('Content-Language', locale);
    return this.view.render({ locale, userCode: typeof userCode === 'string' ? userCode : undefined, verified: verified === '1' });
  }

  @Get('device.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=300')
  @Header('X-Content-Type-Options', 'nosniff')
  scriptFile(): string {
    return this.script;
  }

  @Get('device.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=300')
  @Header('X-Content-Type-Options', 'nosniff')
  styleFile(): string {
    return this.style;
  }

  /** The operator's `logo_file`. An SVG opened on its own runs no script: the sandbox CSP forbids it. */
  @Get('logo')
  @Header('Cache-Control', 'public, max-age=300')
  @Header('X-Content-Type-Options', 'nosniff')
  @Header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox")
  logoFile(): StreamableFile {
    if (!this.logo) throw new NotFoundException();
    return new StreamableFile(this.logo.file, { type: this.logo.contentType, length: this.logo.file.length });
  }
}
