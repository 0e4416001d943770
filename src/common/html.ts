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
