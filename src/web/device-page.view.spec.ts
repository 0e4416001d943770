import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectorDefinition } from '../config/app-config';
import { type DevicePageOptions, DevicePageView } from './device-page.view';
import { PAGE_CATALOG, PAGE_STRINGS, type PageStrings } from './page-strings';

const ACME = { id: 'acme-oidc', type: 'oidc', displayName: 'Acme SSO', organizationId: 'acme' } as ConnectorDefinition;
const ACME_LDAP = { id: 'acme-ad', type: 'ldap', displayName: 'Acme directory', organizationId: 'acme' } as ConnectorDefinition;
const ASSETS = { script: '/device/device.js?v=1', style: '/device/device.css?v=1' };
const OPERATOR = { name: 'Acme Corp', logoSrc: '/device/logo?v=1', supportEmail: 'help@acme.test', supportUrl: 'https://help.acme.test/' };

/** Every string of a table marked, so a word that does not come from the table stands out. */
const marked = (strings: PageStrings) =>
  Object.fromEntries(Object.entries(strings).map(([key, value]) => [key, key === 'lang' ? 'xx' : `⟦${value}⟧`])) as PageStrings;

function view(options: Partial<DevicePageOptions> = {}): DevicePageView {
  return new DevicePageView({
    catalog: PAGE_CATALOG,
    sso: [ACME],
    directories: [],
    local: true,
    assets: ASSETS,
    operator: OPERATOR,
    sensitiveScopes: ['write', 'admin'],
    ...options,
  });
}

const decode = (attribute: string) => attribute.replace(/&#(\d+);/g, (_entity, code: string) => String.fromCharCode(Number(code)));

describe('DevicePageView', () => {
  describe.each(Object.keys(PAGE_CATALOG))('in locale %s', (locale) => {
    it.each([
      ['single sign-on and local accounts', [ACME], [], true],
      ['local accounts only', [], [], true],
      ['single sign-on only', [ACME], [], false],
      ['a directory only', [], [ACME_LDAP], false],
      ['single sign-on, a directory and local accounts', [ACME], [ACME_LDAP], true],
    ] as const)('takes every word it shows from the strings table (%s)', (_what, sso, directories, local) => {
      // The operator's name and contact are the config's words, marked «so».
      const operators = [{}, { name: '«Acme Corp»', supportEmail: '«help@acme.test»' }, { supportUrl: 'https://help.acme.test/' }];
      for (const operator of operators) {
        for (const request of [{ locale, userCode: 'BCDF-GHJK', verified: false }, { locale, verified: true }]) {
          const html = view({ catalog: { [locale]: marked(PAGE_CATALOG[locale]) }, sso: [...sso], directories: [...directories], local, operator }).render(request);

          expect(html).toContain('<html lang="xx">');
          const words = html
            .replace(/<[^>]*>/g, '\n')
            .split('\n')
            .map((run) => run.replace(/«[^»]*»/g, '').replace(/⟦[^⟧]*⟧/g, '').replace(/·/g, '').trim())
            .filter(Boolean);
          expect(words).toEqual([]);
        }
      }
    });

    it('sets the lang attribute and hands the script the whole table of its locale', () => {
      const html = view().render({ locale, verified: false });
      expect(html).toContain(`<html lang="${locale}">`);
      const attribute = /<body data-strings="([^"]*)"/.exec(html)?.[1] ?? '';
      expect(JSON.parse(decode(attribute))).toEqual(PAGE_CATALOG[locale]);
    });
  });

  it('gives each directory its own form and fields, and puts the code field in the first form', () => {
    const html = view({ sso: [], directories: [ACME_LDAP] }).render({ locale: 'en', verified: false });
    expect(html).toContain('<form id="ldap-acme-ad-login-form" class="password-form" data-prefix="ldap-acme-ad-" method="post" action="/oauth/device/sso/ldap/acme-ad/login">');
    expect(html).toContain('Sign in with your Acme directory account');
    const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((match) => match[1]);
    expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
    expect(ids.indexOf('user_code')).toBeLessThan(ids.indexOf('login-form'));
    expect(ids).toContain('local_user_code');
  });

  it('names the operator in the header and footer, with its logo, support contact and the favicon', () => {
    const html = view().render({ locale: 'en', verified: false });
    expect(html).toContain('<link rel="icon" href="/favicon.ico" type="image/x-icon">');
    expect(html).toContain('<title>Connect a device · Acme Corp</title>');
    expect(html).toContain('<header class="masthead"><img class="logo" src="/device/logo?v=1" alt=""><span class="operator-name">Acme Corp</span></header>');
    expect(html).toContain('<p id="run-by">This page is run by Acme Corp.</p>');
    expect(html).toContain(
      '<p id="support">Questions, or something you did not expect? <a href="mailto:help@acme.test">help@acme.test</a> · <a href="https://help.acme.test/" rel="noopener">Contact support</a></p>',
    );
  });

  it.each(Object.keys(PAGE_CATALOG))('links the approved and the denied result to "my devices" in the console (%s)', (locale) => {
    const html = view().render({ locale, verified: false });
    for (const result of ['approved', 'denied']) {
      const section = html.split(`<section id="${result}"`)[1].split('</section>')[0];
      expect(section).toContain(`<p><a href="/console">${PAGE_CATALOG[locale].myDevicesLink}</a></p>`);
    }
  });

  it('shows devicegate and no footer when the config names no operator', () => {
    const html = view({ operator: {} }).render({ locale: 'en', verified: false });
    expect(html).toContain('<header class="masthead"><span class="operator-name">devicegate</span></header>');
    expect(html).not.toContain('<footer');
    expect(html).not.toContain('<img');
  });

  it('writes the operator and the sensitive scopes as text, never as markup', () => {
    const html = view({
      operator: { name: '<script>alert(1)</script>', supportEmail: '"><b>x</b>@acme.test' },
      sensitiveScopes: ['write', '"><img src=x>'],
    }).render({ locale: 'en', verified: false });
    expect(html).not.toMatch(/<script>alert|<b>x|<img src=x/);
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    const attribute = / data-sensitive-scopes="([^"]*)"/.exec(html)?.[1] ?? '';
    expect(JSON.parse(decode(attribute))).toEqual(['write', '"><img src=x>']);
  });

  it('has no string the pages do not use, and the script uses no string the table lacks', () => {
    const source = ['device-page.view.ts', 'sign-in-error.view.ts'].map((file) => readFileSync(join(__dirname, file), 'utf8')).join('\n');
    const script = readFileSync(join(__dirname, 'assets', 'device.js'), 'utf8');
    const usedByScript = new Set([...script.matchAll(/\bT\.(\w+)/g)].map((match) => match[1]));

    expect([...usedByScript].filter((key) => !(key in PAGE_STRINGS))).toEqual([]);
    const unused = Object.keys(PAGE_STRINGS).filter((key) => !usedByScript.has(key) && !source.includes(`'${key}'`));
    expect(unused).toEqual([]);
  });
});
