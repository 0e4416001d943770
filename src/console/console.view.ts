import { escapeHtml } from '../common/html';
import type { ConnectorDefinition } from '../config/app-config';
import { CONSOLE_STRINGS, type ConsoleStrings, fill } from './console-strings';
import type { ConsoleDevice } from './console-devices.service';
import { scrollingTable } from './console-style';
import type { ConsoleSession } from './session/console-session.service';

export interface SignInPageModel {
  loginCsrf: string;
  error?: string;
  notice?: string;
}

/** Which views of the console the person may open, for the navigation. */
export interface ConsoleAccess {
  audit: boolean;
  admin: boolean;
}

export interface HomePageModel {
  session: ConsoleSession;
  access: ConsoleAccess;
  devices: ConsoleDevice[];
  notice?: string;
}

/** A time as people read it, in UTC and saying so. */
function time(at: Date): string {
  return `<time datetime="${at.toISOString()}">${at.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>`;
}

type Connector = Pick<ConnectorDefinition, 'id' | 'displayName'>;

/**
 * The console's pages as server-rendered HTML without script: every value
 * of a person, a client or an event goes through escapeHtml, every form
 * posts its CSRF token.
 */
export class ConsoleView {
  constructor(
    private readonly sso: Connector[],
    private readonly ldap: Connector[],
    private readonly local: boolean,
    private readonly styleHref: string,
    private readonly strings: ConsoleStrings = CONSOLE_STRINGS,
  ) {}

  signIn(model: SignInPageModel): string {
    const t = this.t;
    const loginCsrf = `<input type="hidden" name="login_csrf" value="${escapeHtml(model.loginCsrf)}">`;
    const credentials = (action: string, heading: string, id: string) => `<section class="connector" aria-labelledby="${id}">
  <h2 id="${id}">${escapeHtml(heading)}</h2>
  <form method="post" action="${escapeHtml(action)}">
    ${loginCsrf}
    <label for="${id}-username">${t('usernameLabel')}</label>
    <input id="${id}-username" name="username" autocomplete="username" required>
    <label for="${id}-password">${t('passwordLabel')}</label>
    <input id="${id}-password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit">${t('signInButton')}</button>
  </form>
</section>`;
    const sections = [
      this.sso.length
        ? `<section class="connector" aria-labelledby="sso-heading">
  <h2 id="sso-heading">${t('ssoHeading')}</h2>
${this.sso.map((connector) => `  <p><a class="button" href="/console/sign-in/sso/${encodeURIComponent(connector.id)}">${t('ssoButton', { connector: connector.displayName })}</a></p>`).join('\n')}
</section>`
        : '',
      ...this.ldap.map((connector, index) =>
        credentials(`/console/sign-in/ldap/${encodeURIComponent(connector.id)}`, this.raw('directoryHeading', { connector: connector.displayName }), `ldap-${index}`),
      ),
      this.local ? credentials('/console/sign-in/local', this.raw('localHeading'), 'local') : '',
    ].filter(Boolean);
    return this.page(
      t('signInTitle'),
      `<main class="narrow">
<h1>${t('signInTitle')}</h1>
${this.alerts(model)}
<p>${t('signInIntro')}</p>
${sections.length ? sections.join('\n') : `<p>${t('noConnectors')}</p>`}
</main>`,
    );
  }

  home(model: HomePageModel): string {
    return this.page(
      this.raw('devicesTitle'),
      `${this.header(model.session, model.access)}
<main>
<h1>${this.t('devicesTitle')}</h1>
${this.alerts(model)}
<p>${this.t('devicesIntro')}</p>
${model.devices.length ? `${this.devicesTable(model.session, model.devices)}
${this.revokeOthers(model.session)}` : `<p>${this.t('noDevices')}</p>`}
</main>`,
    );
  }

  private devicesTable(session: ConsoleSession, devices: ConsoleDevice[]): string {
    const t = this.t;
    const none = t('none');
    const rows = devices.map((device) => {
      return `<tr>
  <td>${escapeHtml(device.client.name)} <span class="hint mono">${escapeHtml(device.client.id)}</span></td>
  <td>${device.deviceLabel ? escapeHtml(device.deviceLabel) : none}</td>
  <td>${device.organizationId ? escapeHtml(device.organizationId) : none}</td>
  <td>${device.scopes.map((scope) => `<code>${escapeHtml(scope)}</code>`).join(' ')}</td>
  <td>${time(device.createdAt)}</td>
  <td>${device.lastUsed ? `${time(device.lastUsed.at)}${device.lastUsed.ip ? ` <span class="hint mono">${escapeHtml(device.lastUsed.ip)}</span>` : ''}` : t('never')}</td>
  <td>${time(device.expiresAt)}</td>
  <td>${this.origin(device)}</td>
  <td><form method="post" action="/console/devices/${encodeURIComponent(device.id)}/revoke">
    <input type="hidden" name="csrf_token" value="${escapeHtml(session.csrfToken)}">
    <button type="submit" class="danger" aria-label="${t('revokeLabel', { client: device.client.name, device: device.deviceLabel ?? this.raw('none') })}">${t('revokeButton')}</button>
  </form></td>
</tr>`;
    });
    return scrollingTable(t('devicesTitle'), `<table>
<thead><tr><th scope="col">${t('columnClient')}</th><th scope="col">${t('columnDevice')}</th><th scope="col">${t('columnOrganization')}</th><th scope="col">${t('columnScopes')}</th><th scope="col">${t('columnApproved')}</th><th scope="col">${t('columnLastUsed')}</th><th scope="col">${t('columnExpires')}</th><th scope="col">${t('columnOrigin')}</th><th scope="col">${t('columnAction')}</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`);
  }

  /** Where the approval came from: the browser's address and software, and whether it was this browser. */
  private origin(device: ConsoleDevice): string {
    if (!device.approvedFrom) return this.t('originUnknown');
    const software = device.approvedFrom.userAgent ? `<br><span class="hint">${escapeHtml(device.approvedFrom.userAgent)}</span>` : '';
    const marker = device.thisBrowser ? ` <strong class="this-browser">${this.t('thisBrowser')}</strong>` : '';
    return `<span class="mono">${escapeHtml(device.approvedFrom.ip)}</span>${marker}${software}`;
  }

  private revokeOthers(session: ConsoleSession): string {
    return `<section aria-labelledby="revoke-others-heading">
<h2 id="revoke-others-heading">${this.t('revokeOthersHeading')}</h2>
<p>${this.t('revokeOthersIntro')}</p>
<form method="post" action="/console/devices/revoke-others">
  <input type="hidden" name="csrf_token" value="${escapeHtml(session.csrfToken)}">
  <button type="submit" class="danger">${this.t('revokeOthersButton')}</button>
</form>
</section>`;
  }

  /** A signed-in page of the console around a section rendered elsewhere (`body` is HTML, already escaped). */
  signedIn(session: ConsoleSession, access: ConsoleAccess, title: string, body: string): string {
    return this.page(
      title,
      `${this.header(session, access)}
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>`,
    );
  }

  /** A page for an error on the way: what happened, and the way back. */
  error(description: string): string {
    return this.page(
      this.raw('errorTitle'),
      `<main class="narrow">
<h1>${this.t('errorTitle')}</h1>
<p class="error" role="alert">${escapeHtml(description)}</p>
<p><a href="/console">${this.t('backToConsole')}</a></p>
</main>`,
    );
  }

  private header(session: ConsoleSession, access: ConsoleAccess): string {
    const person = session.person;
    return `<header>
<span class="site">${this.t('siteName')}</span>
<nav><a href="/console">${this.t('navDevices')}</a>${access.audit ? ` · <a href="/console/audit">${this.t('navAudit')}</a>` : ''}${access.admin ? ` · <a href="/console/admin">${this.t('navAdmin')}</a>` : ''}</nav>
<span>${this.t('signedInAs', { name: person.name, email: person.email })}${person.organizationId ? ` · ${this.t('organization', { organization: person.organizationId })}` : ''}</span>
<form method="post" action="/console/sign-out">
  <input type="hidden" name="csrf_token" value="${escapeHtml(session.csrfToken)}">
  <button type="submit" class="secondary">${this.t('signOutButton')}</button>
</form>
</header>`;
  }

  private alerts(model: { error?: string; notice?: string }): string {
    return [
      model.error ? `<p class="error" role="alert">${escapeHtml(model.error)}</p>` : '',
      model.notice ? `<p class="notice" role="status">${escapeHtml(model.notice)}</p>` : '',
    ].join('');
  }

  private page(title: string, body: string): string {
    return `<!doctype html>
<html lang="${escapeHtml(this.strings.lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ${this.t('siteName')}</title>
<link rel="stylesheet" href="${escapeHtml(this.styleHref)}">
</head>
<body>
${body}
</body>
</html>
`;
  }

  /** A string of the table, filled in and escaped for HTML. */
  protected readonly t = (key: keyof ConsoleStrings, values: Record<string, string> = {}): string => escapeHtml(this.raw(key, values));

  protected raw(key: keyof ConsoleStrings, values: Record<string, string> = {}): string {
    return fill(this.strings[key], values);
  }
}
