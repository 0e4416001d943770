import type { SignedInSubject } from '../tokens/subjects.repository';

/** What a connector verified about the person: issuer and subject as the IdP names them, email and name. */
export type VerifiedIdentity = Omit<SignedInSubject, 'organizationId'>;

/** The first of `names` that the source holds as a non-empty string (or a list starting with one). */
export function firstString(source: Record<string, unknown>, names: (string | undefined)[]): string | undefined {
  for (const name of names) {
    if (!name) continue;
    const value = source[name];
    const text = Array.isArray(value) ? value[0] : value;
    if (typeof text === 'string' && text.trim() !== '') return text.trim();
  }
  return undefined;
}

export function looksLikeEmail(text: string | undefined): text is string {
  return typeof text === 'string' && /^[^\s@]+@[^\s@]+$/.test(text);
}

/** The lowercase domain of an email address. */
export function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}
