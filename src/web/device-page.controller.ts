import { Controller, Get, Header, Query } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeHtml, PageSecurityHeaders } from '../common/html';
import { AppConfig, type ConnectorDefinition } from '../config/app-config';

const asset = (name: string) => readFileSync(join(__dirname, 'assets', name), 'utf8');

/** A minimal approval page: enter the code and sign in, then approve or deny. */
@ApiExcludeController()
@Controller('device')
export class DevicePageController {
  private readonly script = asset('device.js');
  private readonly style = asset('device.css');
  /** The single sign-on connectors (SAML, OIDC) a person may pick, and whether the local form is shown. */
  private readonly sso: ConnectorDefinition[];
  private readonly local: boolean;

  constructor(config: AppConfig) {
    this.sso = config.connectors.filter((connector) => connector.type !== 'local');
    this.local = config.connectors.some((connector) => connector.type === 'local') && config.localUsers.length > 0;
  }

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @PageSecurityHeaders()
  page(@Query('user_code') userCode?: unknown, @Query('sso_verified') verified?: unknown): string {
    const code = typeof userCode === 'string' ? escapeHtml(userCode.slice(0, 16)) : '';
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connect a device · devicegate</title>
<link rel="stylesheet" href="/device/device.css">
<script src="/device/device.js" defer></script>
</head>
<body${verified === '1' ? ' data-verified' : ''}>
<main>
<section id="enter"${verified === '1' ? ' hidden' : ''}>
  <h1>Connect a device</h1>
  <p>Enter the code shown on your device, then sign in. Only continue if you started this on a device you have.</p>
${this.ssoForm(code)}
${this.localForm(code)}
</section>
<section id="consent" hidden>
  <h1>Approve this device?</h1>
  <p class="warning" id="ip-warning" hidden>This request started from a different network than the one you are on now. If you did not start it yourself, deny it.</p>
  <dl>
    <dt>Application</dt><dd id="client-name"></dd>
    <dt>Device</dt><dd id="device-label"></dd>
    <dt>Code</dt><dd id="user-code"></dd>
    <dt>Started from</dt><dd id="origin"></dd>
    <dt>Signed in as</dt><dd id="identity"></dd>
    <dt>It will be able to</dt><dd><ul id="scopes"></ul></dd>
  </dl>
  <p>Approve only if you started this on a device you have.</p>
  <button id="approve" class="primary" type="button">Approve</button>
  <button id="deny" class="secondary" type="button">Deny</button>
</section>
<section id="result" hidden aria-live="polite">
  <h1>Device sign-in</h1>
  <p id="result-text"></p>
</section>
</main>
</body>
</html>`;
  }

  /** A plain GET form: works without script; the clicked button names the connector, or the email routes by domain. */
  private ssoForm(code: string): string {
    if (this.sso.length === 0) return '';
    const buttons = this.sso
      .map((connector) => `    <button class="primary" type="submit" name="connector" value="${escapeHtml(connector.id)}">Sign in with ${escapeHtml(connector.displayName)}</button>`)
      .join('\n');
    return `<form id="sso-form" method="get" action="/oauth/device/sso/initiate">
    <label for="user_code">Code</label>
    <input id="user_code" name="user_code" value="${code}" autocomplete="off" autocapitalize="characters" required>
${buttons}
    <label for="email">Or enter your work email</label>
    <input id="email" name="email" type="email" autocomplete="email">
    <button class="secondary" type="submit">Continue with email</button>
  </form>`;
  }

  /** The local connector's form (dev mode, static users); its code field keeps the page's one id when it is alone. */
  private localForm(code: string): string {
    if (!this.local) return '';
    const id = this.sso.length > 0 ? 'local_user_code' : 'user_code';
    return `  <form id="login-form" method="post" action="/oauth/device/sso/local/login">
    <label for="${id}">Code</label>
    <input id="${id}" name="user_code" value="${code}" autocomplete="off" autocapitalize="characters" required>
    <label for="username">Username</label>
    <input id="username" name="username" autocomplete="username" required>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <p id="login-error" class="error" role="alert"></p>
    <button class="primary" type="submit">Sign in</button>
  </form>`;
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
