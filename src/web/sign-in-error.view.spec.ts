import { PAGE_CATALOG, PAGE_STRINGS } from './page-strings';
import { signInErrorPage } from './sign-in-error.view';

const DE = PAGE_CATALOG.de;
const escaped = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

describe('the sign-in error page', () => {
  it('is English by default: what happened, the way back to /device and to /console', () => {
    const page = signInErrorPage('The answer of your identity provider could not be verified; sign in again', undefined);
    expect(page.locale).toBe('en');
    expect(page.html).toContain('<html lang="en">');
    expect(page.html).toContain(`<h1>${PAGE_STRINGS.signInFailedTitle}</h1>`);
    expect(page.html).toContain('<p class="error" role="alert">The answer of your identity provider could not be verified; sign in again</p>');
    expect(page.html).toContain(`<a href="/device">${PAGE_STRINGS.signInFailedDeviceLink}</a>`);
    expect(page.html).toContain(`<a href="/console">${PAGE_STRINGS.signInFailedConsoleLink}</a>`);
  });

  it('is German for a browser that prefers German; the English description is marked as English', () => {
    const page = signInErrorPage('Sign-in refused', 'de-AT,de;q=0.9,en;q=0.5');
    expect(page.locale).toBe('de');
    expect(page.html).toContain('<html lang="de">');
    expect(page.html).toContain(`<title>${escaped(DE.signInFailedTitle)} · devicegate</title>`);
    expect(page.html).toContain(`<h1>${escaped(DE.signInFailedTitle)}</h1>`);
    for (const key of ['signInFailedLead', 'signInFailedDevice', 'signInFailedDeviceLink', 'signInFailedConsole', 'signInFailedConsoleLink'] as const) {
      expect(page.html).toContain(escaped(DE[key]));
      expect(page.html).not.toContain(escaped(PAGE_STRINGS[key]));
    }
    expect(page.html).toContain('<p class="error" role="alert" lang="en">Sign-in refused</p>');
  });

  it('falls back to English for a language it does not have, and shows markup in the description as text', () => {
    const page = signInErrorPage('<img src=x onerror=alert(1)>', 'fr-FR,fr;q=0.9');
    expect(page.locale).toBe('en');
    expect(page.html).not.toContain('<img');
    expect(page.html).toContain('&#60;img src=x onerror=alert(1)&#62;');
  });
});
