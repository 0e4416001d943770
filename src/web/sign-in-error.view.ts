import { escapeHtml } from '../common/html';
import { negotiateLocale } from './page-locale';
import { FALLBACK_LOCALE, PAGE_CATALOG, type PageStrings } from './page-strings';

const LOCALES = Object.keys(PAGE_CATALOG);

export interface SignInErrorPage {
  /** The negotiated language, for `Content-Language`. */
  locale: string;
  html: string;
}

/**
 * The page a browser lands on when a sign-in at an identity provider fails
 * (for a device or for the console): what happened and what to do next, in
 * the language `Accept-Language` picks, as /device does. The description is
 * the API's error description, which is English, and is marked so.
 */
export function signInErrorPage(description: string, acceptLanguage: string | undefined): SignInErrorPage {
  const locale = negotiateLocale(acceptLanguage, LOCALES, FALLBACK_LOCALE);
  const strings = PAGE_CATALOG[locale];
  const t = (key: keyof PageStrings) => escapeHtml(strings[key]);
  const english = locale === 'en' ? '' : ' lang="en"';
  return {
    locale,
    html: `<!doctype html>
<html lang="${t('lang')}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t('signInFailedTitle')} · ${t('siteName')}</title>
<link rel="icon" href="/favicon.ico" type="image/x-icon">
<link rel="stylesheet" href="/device/device.css">
</head>
<body>
<main>
<section>
  <h1>${t('signInFailedTitle')}</h1>
  <p>${t('signInFailedLead')}</p>
  <p class="error" role="alert"${english}>${escapeHtml(description)}</p>
  <p>${t('signInFailedDevice')} <a href="/device">${t('signInFailedDeviceLink')}</a>.</p>
  <p>${t('signInFailedConsole')} <a href="/console">${t('signInFailedConsoleLink')}</a>.</p>
</section>
</main>
</body>
</html>
`,
  };
}
