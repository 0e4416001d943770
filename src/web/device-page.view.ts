import { escapeHtml } from '../common/html';
import type { ConnectorDefinition } from '../config/app-config';
import { fillString, type PageStrings } from './page-strings';

type Translate = (key: keyof PageStrings, values?: Record<string, string>) => string;

/** Whose page it is, as the page shows it; every value comes from the config, never from a request. */
export interface PageOperator {
  name?: string;
  /** Same origin (`/device/logo?v=…`) or an https URL the page's CSP allows. */
  logoSrc?: string;
  supportEmail?: string;
  supportUrl?: string;
}

export interface DevicePageOptions {
  /** The strings table of each language, by its `lang`. */
  catalog: Readonly<Record<string, PageStrings>>;
  /** The single sign-on connectors (SAML, OIDC) a person may pick. */
  sso: ConnectorDefinition[];
  /** The directory (LDAP) connectors, each with a name and password form. */
  directories: ConnectorDefinition[];
  /** Whether the local connector's form is shown (it has users). */
  local: boolean;
  assets: { script: string; style: string };
  operator: PageOperator;
  /** Names of the scopes that change things; the consent step marks them. */
  sensitiveScopes: string[];
}

export interface DevicePageRequest {
  /** The negotiated language: a key of the catalog. */
  locale: string;
  /** From `?user_code=`: only prefills the field. */
  userCode?: string;
  /** Back from a sign-in (`?sso_verified=1`): the script asks for the approval context. */
  verified: boolean;
}

/**
 * The /device page. Without script the forms still sign in (code and
 * sign-in on one screen); the script (assets/device.js) turns them into
 * steps (code, sign-in, consent, result) and fills the consent and result
 * sections, which are rendered here, hidden, so every word comes from the
 * strings table.
 */
export class DevicePageView {
  constructor(private readonly options: DevicePageOptions) {}

  render(request: DevicePageRequest): string {
    const strings = this.options.catalog[request.locale];
    if (!strings) throw new Error(`no strings for locale ${request.locale}`);
    const t: Translate = (key, values = {}) => escapeHtml(fillString(strings[key], values));
    const { assets, operator } = this.options;
    const code = request.userCode === undefined ? '' : escapeHtml(request.userCode.slice(0, 16));
    const prefilled = code.length > 0;
    return `<!doctype html>
<html lang="${t('lang')}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t('enterTitle')} · ${operator.name ? escapeHtml(operator.name) : t('siteName')}</title>
<link rel="icon" href="/favicon.ico" type="image/x-icon">
<link rel="stylesheet" href="${assets.style}">
<script src="${assets.script}" defer></script>
</head>
<body${request.verified ? ' data-verified' : ''} data-strings="${escapeHtml(JSON.stringify(strings))}" data-sensitive-scopes="${escapeHtml(JSON.stringify(this.options.sensitiveScopes))}">
${this.header(t)}
<main>
<p id="loading" class="loading"${request.verified ? '' : ' hidden'}>${t('loading')}</p>
<noscript><p class="notice">${t('noScript')}</p></noscript>
<section id="enter" aria-labelledby="enter-title"${request.verified ? ' hidden' : ''}>
  <h1 id="enter-title" tabindex="-1">${t('enterTitle')}</h1>
  <p id="enter-notice" class="notice" role="alert" tabindex="-1" hidden></p>
  <p>${t('enterIntro')}</p>
${prefilled ? `  <p class="notice" id="prefill-notice">${t('prefillNotice')}</p>\n` : ''}  <div class="caution">
    <p><strong>${t('cautionLead')}</strong> ${t('cautionDetail')}</p>
  </div>
  <div id="code-summary" class="summary" tabindex="-1" hidden>
    <dl>
      <dt>${t('summaryCode')}</dt><dd id="summary-code" class="code"></dd>
      <dt>${t('summaryClient')}</dt><dd id="summary-client"></dd>
      <dt>${t('summaryDevice')}</dt><dd id="summary-device"></dd>
    </dl>
    <p id="summary-expiry" class="hint"></p>
    <p>${t('signInIntro')}</p>
    <button id="change-code" class="link" type="button">${t('changeCode')}</button>
  </div>
${this.ssoForm(t, code)}
${this.passwordForms(t, code)}
</section>
${this.consent(t)}
${this.results(t)}
</main>
${this.footer(t)}
</body>
</html>`;
  }

  /** Whose page this is: the operator's logo and name (devicegate's name when the config gives none). */
  private header(t: Translate): string {
    const { name, logoSrc } = this.options.operator;
    // The name is written beside the logo, so the image itself says nothing more.
    const logo = logoSrc ? `<img class="logo" src="${escapeHtml(logoSrc)}" alt="">` : '';
    return `<header class="masthead">${logo}<span class="operator-name">${name ? escapeHtml(name) : t('siteName')}</span></header>`;
  }

  /** Who runs the page and whom to ask; only what the config names. */
  private footer(t: Translate): string {
    const { name, supportEmail, supportUrl } = this.options.operator;
    const contacts = [
      supportEmail ? `<a href="mailto:${escapeHtml(supportEmail)}">${escapeHtml(supportEmail)}</a>` : '',
      supportUrl ? `<a href="${escapeHtml(supportUrl)}" rel="noopener">${t('supportLink')}</a>` : '',
    ].filter(Boolean);
    const lines = [
      name ? `  <p id="run-by">${t('runBy', { operator: name })}</p>` : '',
      contacts.length > 0 ? `  <p id="support">${t('supportLead')} ${contacts.join(' · ')}</p>` : '',
    ].filter(Boolean);
    return lines.length > 0 ? ['<footer class="colophon">', ...lines, '</footer>'].join('\n') : '';
  }

  /** The code field, with the Continue button the script shows; `primary` is the field the person types in. */
  private codeField(t: Translate, id: string, code: string, primary: boolean): string {
    return `    <div class="${primary ? 'code-field' : 'code-field code-copy'}">
      <label for="${id}">${t('codeLabel')}</label>
      <p id="${id}-hint" class="hint">${t('codeHint')}</p>
      <input id="${id}" name="user_code" value="${code}" autocomplete="off" autocapitalize="characters" required>
${primary ? `      <p id="${id}-error" class="error" role="alert"></p>\n      <button id="continue" class="primary" type="button" hidden>${t('continueButton')}</button>\n` : ''}    </div>`;
  }

  /** A plain GET form: the clicked button names the connector, or the email routes by domain. */
  private ssoForm(t: Translate, code: string): string {
    if (this.options.sso.length === 0) return '';
    const buttons = this.options.sso
      .map(
        (connector) =>
          `      <button class="primary" type="submit" name="connector" value="${escapeHtml(connector.id)}">${t('ssoButton', { connector: connector.displayName })}</button>`,
      )
      .join('\n');
    return `  <form id="sso-form" method="get" action="/oauth/device/sso/initiate">
${this.codeField(t, 'user_code', code, true)}
    <div class="sign-in">
      <h2>${t('ssoHeading')}</h2>
      <div class="connectors">
${buttons}
      </div>
      <label for="email">${t('emailLabel')}</label>
      <p id="email-hint" class="hint">${t('emailHint')}</p>
      <input id="email" name="email" type="email" autocomplete="email" aria-describedby="email-hint email-error">
      <p id="email-error" class="error" role="alert"></p>
      <button class="secondary" type="submit">${t('emailButton')}</button>
    </div>
  </form>`;
  }

  /**
   * A name and password form per directory (LDAP) connector, then the local
   * connector's (static users); the first form holds the page's code field
   * when there is no single sign-on form.
   */
  private passwordForms(t: Translate, code: string): string {
    const forms = this.options.directories.map((connector) => ({
      action: `/oauth/device/sso/ldap/${encodeURIComponent(connector.id)}/login`,
      prefix: `ldap-${connector.id}-`,
      heading: t('directoryHeading', { connector: connector.displayName }),
    }));
    if (this.options.local) {
      const heading = this.options.sso.length + this.options.directories.length === 0 ? t('localHeading') : t('localHeadingWithSso');
      forms.push({ action: '/oauth/device/sso/local/login', prefix: '', heading });
    }
    return forms.map((form, index) => this.passwordForm(t, code, form, this.options.sso.length === 0 && index === 0)).join('\n');
  }

  private passwordForm(t: Translate, code: string, form: { action: string; prefix: string; heading: string }, primary: boolean): string {
    const id = (name: string) => escapeHtml(`${form.prefix}${name}`);
    return `  <form id="${id('login-form')}" class="password-form" data-prefix="${escapeHtml(form.prefix)}" method="post" action="${escapeHtml(form.action)}">
${this.codeField(t, primary ? 'user_code' : id('local_user_code'), code, primary)}
    <div class="sign-in">
      <h2>${form.heading}</h2>
      <label for="${id('username')}">${t('usernameLabel')}</label>
      <input id="${id('username')}" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required>
      <label for="${id('password')}">${t('passwordLabel')}</label>
      <input id="${id('password')}" name="password" type="password" autocomplete="current-password" required aria-describedby="${id('login-error')}">
      <p id="${id('login-error')}" class="error" role="alert"></p>
      <button class="primary" type="submit">${t('signInButton')}</button>
    </div>
  </form>`;
  }

  private consent(t: Translate): string {
    return `<section id="consent" aria-labelledby="consent-title" hidden>
  <h1 id="consent-title" tabindex="-1">${t('consentTitle')}</h1>
  <div id="ip-warning" class="warning" role="alert" hidden>
    <h2>${t('ipWarningTitle')}</h2>
    <p id="ip-warning-detail"></p>
    <p>${t('ipWarningAdvice')}</p>
  </div>
  <p id="consent-lead" class="lead"></p>
  <p class="identity"><span class="label">${t('signedInAs')}</span> <span id="identity"></span></p>
  <h2>${t('requestHeading')}</h2>
  <dl>
    <dt>${t('applicationLabel')}</dt><dd id="client-name"></dd>
    <dt>${t('deviceLabel')}</dt><dd id="device-label"></dd>
    <dt>${t('codeRowLabel')}</dt><dd id="user-code" class="code"></dd>
  </dl>
  <h2>${t('originHeading')}</h2>
  <dl>
    <dt>${t('ipLabel')}</dt><dd id="request-ip" class="code"></dd>
    <dt>${t('agentLabel')}</dt><dd id="request-agent" class="agent"></dd>
    <dt>${t('timeLabel')}</dt><dd id="request-time"></dd>
  </dl>
  <p class="hint">${t('selfDescribed')}</p>
  <h2>${t('scopesHeading')}</h2>
  <ul id="scopes" class="scopes"></ul>
  <p id="sensitive-note" class="hint" hidden>${t('sensitiveNote')}</p>
  <div id="withheld" hidden>
    <p>${t('withheldHeading')}</p>
    <ul id="withheld-scopes" class="scopes"></ul>
  </div>
  <div class="caution">
    <p><strong>${t('approveOnly')}</strong> ${t('approveOnlyDetail')}</p>
  </div>
  <div class="decision">
    <button id="approve" class="decide approve" type="button">${t('approveButton')}</button>
    <button id="deny" class="decide deny" type="button">${t('denyButton')}</button>
  </div>
  <p id="consent-expiry" class="hint"></p>
</section>`;
  }

  /** Where the page ends; each says what happened and what to do next. */
  private results(t: Translate): string {
    return `<section id="approved" class="result" aria-labelledby="approved-title" hidden>
  <h1 id="approved-title" tabindex="-1">${t('approvedTitle')}</h1>
  <p id="approved-detail"></p>
  <p>${t('approvedNext')}</p>
  <p><a href="/console">${t('myDevicesLink')}</a></p>
</section>
<section id="denied" class="result" aria-labelledby="denied-title" hidden>
  <h1 id="denied-title" tabindex="-1">${t('deniedTitle')}</h1>
  <p>${t('deniedDetail')}</p>
  <p>${t('deniedNext')}</p>
  <p><a href="/console">${t('myDevicesLink')}</a></p>
</section>
<section id="expired" class="result" aria-labelledby="expired-title" hidden>
  <h1 id="expired-title" tabindex="-1">${t('expiredTitle')}</h1>
  <p>${t('expiredDetail')}</p>
  <p>${t('expiredNext')}</p>
  <p><a href="/device">${t('newCodeLink')}</a></p>
</section>
<section id="error" class="result" aria-labelledby="error-title" hidden>
  <h1 id="error-title" tabindex="-1">${t('errorTitle')}</h1>
  <p id="error-detail"></p>
  <p>${t('errorNext')}</p>
  <p class="actions"><button id="retry" class="primary" type="button">${t('tryAgainButton')}</button> <a href="/device">${t('startOverLink')}</a></p>
</section>`;
  }
}
