import { applyDecorators, Header } from '@nestjs/common';

/** Headers of every HTML page devicegate serves: no framing, no inline script, nothing cached or leaked. */
export const PAGE_SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

export const PageSecurityHeaders = () =>
  applyDecorators(...Object.entries(PAGE_SECURITY_HEADERS).map(([name, value]) => Header(name, value)));

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** The page a browser lands on when a sign-in at an identity provider fails: what happened and what to do next. */
export function signInErrorPage(description: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in failed · devicegate</title>
<link rel="stylesheet" href="/device/device.css">
</head>
<body>
<main>
<section>
  <h1>Sign-in failed</h1>
  <p role="alert">${escapeHtml(description)}</p>
  <p>Nothing was approved. Your device is still waiting: <a href="/device">enter its code again</a> and sign in once more.</p>
</section>
</main>
</body>
</html>
`;
}
