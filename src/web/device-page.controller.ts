import { Controller, Get, Header, Query } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PageSecurityHeaders } from '../common/html';
import { AppConfig } from '../config/app-config';
import { DevicePageView } from './device-page.view';
import { PAGE_STRINGS } from './page-strings';

const asset = (name: string) => readFileSync(join(__dirname, 'assets', name), 'utf8');
/** The page links its script and style by content, so a page never runs with the script of another release. */
const versioned = (path: string, content: string) => `${path}?v=${createHash('sha256').update(content).digest('hex').slice(0, 12)}`;

/** The approval page: enter the code, sign in, then approve or deny; plus its script and style. */
@ApiExcludeController()
@Controller('device')
export class DevicePageController {
  private readonly script = asset('device.js');
  private readonly style = asset('device.css');
  private readonly view: DevicePageView;

  constructor(config: AppConfig) {
    this.view = new DevicePageView(
      PAGE_STRINGS,
      config.connectors.filter((connector) => connector.type === 'saml' || connector.type === 'oidc'),
      config.connectors.filter((connector) => connector.type === 'ldap'),
      config.connectors.some((connector) => connector.type === 'local') && config.localUsers.length > 0,
      { script: versioned('/device/device.js', this.script), style: versioned('/device/device.css', this.style) },
    );
  }

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @PageSecurityHeaders()
  page(@Query('user_code') userCode?: unknown, @Query('sso_verified') verified?: unknown): string {
    return this.view.render({ userCode: typeof userCode === 'string' ? userCode : undefined, verified: verified === '1' });
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
}
