import type { clientView } from '../admin/clients-admin.service';
import { escapeHtml } from '../common/html';
import { CONSOLE_STRINGS, fill } from './console-strings';
import { scrollingTable } from './console-style';

type ClientView = ReturnType<typeof clientView>;

const t = (key: keyof typeof CONSOLE_STRINGS, values: Record<string, string> = {}) => escapeHtml(fill(CONSOLE_STRINGS[key], values));
const csrfField = (csrfToken: string) => `<input type="hidden" name="csrf_token" value="${escapeHtml(csrfToken)}">`;

/**
 * Clients with their enable/disable forms, the registration form (sent once:
 * `registrationId`) and the off-boarding form; `organization` confines them to one.
 */
export function adminSection(clients: ClientView[], csrfToken: string, organization: string | undefined, registrationId: string): string {
  const rows = clients.map((client) => {
    const toggle =
      client.source === 'database'
        ? `<form method="post" action="/console/admin/clients/${encodeURIComponent(client.client_id)}/enabled">
    ${csrfField(csrfToken)}
    <input type="hidden" name="enabled" value="${client.enabled ? 'false' : 'true'}">
    <button type="submit" class="${client.enabled ? 'danger' : 'secondary'}" aria-label="${t(client.enabled ? 'disableLabel' : 'enableLabel', { client: client.name })}">${t(client.enabled ? 'disableButton' : 'enableButton')}</button>
  </form>`
        : t('none');
    return `<tr>
  <td><code>${escapeHtml(client.client_id)}</code></td>
  <td>${escapeHtml(client.name)}</td>
  <td>${escapeHtml(client.type)}</td>
  <td>${client.scopes.map((scope) => `<code>${escapeHtml(scope)}</code>`).join(' ')}</td>
  <td>${client.organization ? escapeHtml(client.organization) : t('none')}</td>
  <td>${escapeHtml(client.source)}</td>
  <td>${t(client.enabled ? 'enabled' : 'disabled')}</td>
  <td>${toggle}</td>
</tr>`;
  });
  const input = (name: string, label: keyof typeof CONSOLE_STRINGS, required = true) =>
    `<label for="${name}">${t(label)}</label><input id="${name}" name="${name}"${required ? ' required' : ''}>`;
  return `${organization ? `<p class="notice">${t('adminScope', { organization })}</p>\n` : ''}<h2>${t('clientsHeading')}</h2>
${scrollingTable(t('clientsHeading'), `<table>
<thead><tr><th scope="col">${t('columnClientId')}</th><th scope="col">${t('columnName')}</th><th scope="col">${t('columnKind')}</th><th scope="col">${t('columnScopes')}</th><th scope="col">${t('columnOrganization')}</th><th scope="col">${t('columnSource')}</th><th scope="col">${t('columnState')}</th><th scope="col">${t('columnAction')}</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`)}
<section aria-labelledby="register-heading">
<h2 id="register-heading">${t('registerHeading')}</h2>
<form method="post" action="/console/admin/clients">
  ${csrfField(csrfToken)}
  <input type="hidden" name="registration_id" value="${escapeHtml(registrationId)}">
  ${input('name', 'fieldName')}
  ${input('type', 'fieldType')}
  ${input('scopes', 'fieldScopes')}
  ${input('client_id', 'fieldClientId', false)}
  ${organization ? '' : input('organization', 'fieldOrganization', false)}
  <button type="submit">${t('registerButton')}</button>
</form>
</section>
<section aria-labelledby="offboard-heading">
<h2 id="offboard-heading">${t('offboardHeading')}</h2>
<p>${organization ? t('offboardIntroOrganization', { organization }) : t('offboardIntro')}</p>
<form method="post" action="/console/admin/offboard">
  ${csrfField(csrfToken)}
  ${input('subject', 'fieldSubject')}
  ${input('reason', 'fieldReason')}
  <button type="submit" class="danger">${t('offboardButton')}</button>
</form>
</section>`;
}

/** The answer to a registration: the client, and its secret this one time. */
export function registeredSection(client: ClientView & { client_secret?: string }): string {
  return `${
    client.client_secret
      ? `<p class="notice" role="status">${t('secretOnce')}</p>
<p><code id="client-secret">${escapeHtml(client.client_secret)}</code></p>`
      : `<p class="notice" role="status">${t('registeredPublic', { client: client.client_id })}</p>`
  }
<dl class="event"><dt>client_id</dt><dd><code id="client-id">${escapeHtml(client.client_id)}</code></dd><dt>name</dt><dd>${escapeHtml(client.name)}</dd><dt>type</dt><dd>${escapeHtml(client.type)}</dd></dl>
<p><a href="/console/admin">${t('adminTitle')}</a></p>`;
}
