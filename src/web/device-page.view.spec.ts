import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectorDefinition } from '../config/app-config';
import { DevicePageView } from './device-page.view';
import { PAGE_STRINGS, type PageStrings } from './page-strings';

const ACME = { id: 'acme-oidc', type: 'oidc', displayName: 'Acme SSO', organizationId: 'acme' } as ConnectorDefinition;
const ACME_LDAP = { id: 'acme-ad', type: 'ldap', displayName: 'Acme directory', organizationId: 'acme' } as ConnectorDefinition;
const ASSETS = { script: '/device/device.js?v=1', style: '/device/device.css?v=1' };

/** Every string marked, so a word that does not come from the table stands out. */
const marked = Object.fromEntries(
  Object.entries(PAGE_STRINGS).map(([key, value]) => [key, key === 'lang' ? 'xx' : `⟦${value}⟧`]),
) as PageStrings;

describe('DevicePageView', () => {
  it.each([
    ['single sign-on and local accounts', [ACME], [], true],
    ['local accounts only', [], [], true],
    ['single sign-on only', [ACME], [], false],
    ['a directory only', [], [ACME_LDAP], false],
    ['single sign-on, a directory and local accounts', [ACME], [ACME_LDAP], true],
  ] as const)('takes every word it shows from the strings table (%s)', (_what, sso, directories, local) => {
    for (const request of [{ userCode: 'BCDF-GHJK', verified: false }, { verified: true }]) {
      const html = new DevicePageView(marked, [...sso], [...directories], local, ASSETS).render(request);

      expect(html).toContain('<html lang="xx">');
      const words = html
        .replace(/<[^>]*>/g, '\n')
        .split('\n')
        .map((run) => run.replace(/⟦[^⟧]*⟧/g, '').replace(/·/g, '').trim())
        .filter(Boolean);
      expect(words).toEqual([]);
    }
  });

  it('gives each directory its own form and fields, and puts the code field in the first form', () => {
    const html = new DevicePageView(PAGE_STRINGS, [], [ACME_LDAP], true, ASSETS).render({ verified: false });
    expect(html).toContain('<form id="ldap-acme-ad-login-form" class="password-form" data-prefix="ldap-acme-ad-" method="post" action="/oauth/device/sso/ldap/acme-ad/login">');
    expect(html).toContain('Sign in with your Acme directory account');
    const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((match) => match[1]);
    expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
    expect(ids.indexOf('user_code')).toBeLessThan(ids.indexOf('login-form'));
    expect(ids).toContain('local_user_code');
  });

  it('hands the script the whole table', () => {
    const html = new DevicePageView(PAGE_STRINGS, [ACME], [], true, ASSETS).render({ verified: false });
    const attribute = /<body data-strings="([^"]*)">/.exec(html)?.[1] ?? '';
    const decoded = attribute.replace(/&#(\d+);/g, (_entity, code: string) => String.fromCharCode(Number(code)));
    expect(JSON.parse(decoded)).toEqual(PAGE_STRINGS);
  });

  it('has no string the page does not use, and the script uses no string the table lacks', () => {
    const view = readFileSync(join(__dirname, 'device-page.view.ts'), 'utf8');
    const script = readFileSync(join(__dirname, 'assets', 'device.js'), 'utf8');
    const usedByScript = new Set([...script.matchAll(/\bT\.(\w+)/g)].map((match) => match[1]));

    expect([...usedByScript].filter((key) => !(key in PAGE_STRINGS))).toEqual([]);
    const unused = Object.keys(PAGE_STRINGS).filter((key) => !usedByScript.has(key) && !view.includes(`'${key}'`));
    expect(unused).toEqual([]);
  });
});
