import type { AuditEventView } from '../audit/audit-event';
import type { AuditEventPage } from '../audit/audit-query.service';
import type { AuditVerifyReport } from '../audit/audit-verifier.service';
import { escapeHtml } from '../common/html';
import { CONSOLE_STRINGS, fill } from './console-strings';
import { scrollingTable } from './console-style';

export const AUDIT_FILTERS = ['type', 'subject', 'organization', 'client', 'since', 'until'] as const;
export type AuditFilterValues = Partial<Record<(typeof AUDIT_FILTERS)[number], string>>;

const t = (key: keyof typeof CONSOLE_STRINGS, values: Record<string, string> = {}) => escapeHtml(fill(CONSOLE_STRINGS[key], values));
const time = (iso: string) => `<time datetime="${escapeHtml(iso)}">${escapeHtml(iso.slice(0, 19).replace('T', ' '))} UTC</time>`;
const text = (value: string | null | undefined) => (value ? escapeHtml(value) : t('none'));

function query(values: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value) params.set(name, value);
  const encoded = params.toString();
  return encoded ? `?${encoded}` : '';
}

/** The audit view's main section: the filter form, the chain status, the events and the way to the next page. */
export function auditSection(filter: AuditFilterValues, page: AuditEventPage, report: AuditVerifyReport, organization: string | null): string {
  const fields = AUDIT_FILTERS.map((name) => {
    const key = `filter${name[0].toUpperCase()}${name.slice(1)}` as keyof typeof CONSOLE_STRINGS;
    return `<div><label for="filter-${name}">${t(key)}</label><input id="filter-${name}" name="${name}" value="${escapeHtml(filter[name] ?? '')}"></div>`;
  }).join('\n');
  const chain = report.ok
    ? report.last_event_id === null
      ? t('chainUnsealed')
      : t('chainOk', { events: String(report.events), seals: String(report.seals), lastEventId: report.last_event_id })
    : t('chainBroken', { where: `seal ${report.break.seal_seq}${report.break.event_id ? `, event ${report.break.event_id}` : ''} (${report.break.reason})` });
  const rows = page.events.map(
    (event) => `<tr>
  <td><a href="/console/audit/events/${encodeURIComponent(event.sequence)}">${time(event.occurred_at)}</a></td>
  <td><code>${escapeHtml(event.type)}</code></td>
  <td>${escapeHtml(event.outcome)}</td>
  <td>${text(event.actor.email ?? event.actor.type)}</td>
  <td>${text(event.organization)}</td>
  <td>${text(event.client_id)}</td>
  <td>${text(event.device_label)}</td>
  <td>${text(event.ip)}</td>
</tr>`,
  );
  return `<p>${t('auditIntro')}</p>
${organization ? `<p class="notice">${t('auditScope', { organization })}</p>` : ''}
<p class="${report.ok ? 'notice' : 'error'}" id="chain-status">${chain}</p>
<form method="get" action="/console/audit" class="filters">
${fields}
<div><button type="submit">${t('filterButton')}</button></div>
</form>
<p>${t('exportLead')} <a href="/console/audit/export${escapeHtml(query({ ...filter, format: 'ndjson' }))}" download>${t('exportNdjson')}</a> · <a href="/console/audit/export${escapeHtml(query({ ...filter, format: 'csv' }))}" download>${t('exportCsv')}</a></p>
${
  rows.length
    ? scrollingTable(t('auditTitle'), `<table>
<thead><tr><th scope="col">${t('columnTime')}</th><th scope="col">${t('columnType')}</th><th scope="col">${t('columnOutcome')}</th><th scope="col">${t('columnActor')}</th><th scope="col">${t('columnOrganization')}</th><th scope="col">${t('columnClient')}</th><th scope="col">${t('columnDevice')}</th><th scope="col">${t('columnIp')}</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`)
    : `<p>${t('noEvents')}</p>`
}
${page.next_cursor ? `<p><a href="/console/audit${escapeHtml(query({ ...filter, cursor: page.next_cursor }))}">${t('nextPage')}</a></p>` : ''}`;
}

/** One event in full: every field, details as indented JSON text. */
export function auditEventSection(event: AuditEventView): string {
  const row = (name: string, value: string) => `<dt>${escapeHtml(name)}</dt><dd>${value}</dd>`;
  return `<dl class="event">
${row('id', `<code>${escapeHtml(event.id)}</code>`)}
${row('sequence', escapeHtml(event.sequence))}
${row('occurred_at', time(event.occurred_at))}
${row('type', `<code>${escapeHtml(event.type)}</code>`)}
${row('outcome', escapeHtml(event.outcome))}
${row('actor', `<pre>${escapeHtml(JSON.stringify(event.actor, null, 2))}</pre>`)}
${row('organization', text(event.organization))}
${row('client_id', text(event.client_id))}
${row('device_label', text(event.device_label))}
${row('token_id', text(event.token_id))}
${row('ip', text(event.ip))}
${row('user_agent', text(event.user_agent))}
${row('request_id', text(event.request_id))}
${row('details', `<pre>${escapeHtml(JSON.stringify(event.details, null, 2))}</pre>`)}
</dl>
<p><a href="/console/audit">${t('backToAudit')}</a></p>`;
}
