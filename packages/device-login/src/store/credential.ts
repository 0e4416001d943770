import { createHash } from 'node:crypto';
import { CredentialStoreError } from '../errors';

/** What one stored login is filed under: the server, the client, and a profile name for several logins side by side. */
export interface CredentialKey {
  issuer: string;
  clientId: string;
  profile: string;
}

/** devicegate's /v1/me at login time, kept to say who is logged in without a round trip. */
export interface CredentialSubject {
  sub?: string;
  email?: string;
  name?: string;
  organization?: string | null;
  authorizationId?: string;
}

export interface Credential extends CredentialKey {
  version: 1;
  accessToken: string;
  tokenType: 'Bearer';
  /** RFC 3339, from expires_in at the time the token arrived. */
  expiresAt?: string;
  refreshToken?: string;
  scope?: string[];
  deviceLabel?: string;
  /** RFC 3339: when this access token arrived. */
  obtainedAt: string;
  subject?: CredentialSubject;
}

/**
 * Where logins are kept. Implementations must make `save` atomic: a reader
 * sees the old credential or the new one, never a mix, and never a
 * credential in a place other users can read.
 */
export interface CredentialStore {
  readonly kind: 'file' | 'macos-keychain' | 'libsecret' | 'memory';
  /** For people: a path, or the name of the keychain. */
  readonly location: string;
  load(key: CredentialKey): Promise<Credential | undefined>;
  save(credential: Credential): Promise<void>;
  /** True when there was something to delete. */
  delete(key: CredentialKey): Promise<boolean>;
}

export const DEFAULT_PROFILE = 'default';

/** A stable file-name-safe id of a key. */
export function credentialId(key: CredentialKey): string {
  return createHash('sha256').update(`${key.issuer}\u0000${key.clientId}\u0000${key.profile}`).digest('hex').slice(0, 32);
}

export function keyOf(credential: CredentialKey): CredentialKey {
  return { issuer: credential.issuer, clientId: credential.clientId, profile: credential.profile };
}

function optionalString(value: unknown): value is string | undefined {
  return value === undefined || typeof value === 'string';
}

/** Reads a stored credential, checking it is the one asked for; `where` names the place in errors. */
export function parseCredential(text: string, key: CredentialKey, where: string): Credential {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CredentialStoreError(`${where} is not valid JSON; delete it and log in again`);
  }
  const credential = value as Partial<Credential> | null;
  const valid =
    typeof credential === 'object' &&
    credential !== null &&
    credential.version === 1 &&
    typeof credential.accessToken === 'string' &&
    credential.tokenType === 'Bearer' &&
    typeof credential.obtainedAt === 'string' &&
    optionalString(credential.expiresAt) &&
    optionalString(credential.refreshToken) &&
    (credential.scope === undefined || (Array.isArray(credential.scope) && credential.scope.every((scope) => typeof scope === 'string')));
  if (!valid) throw new CredentialStoreError(`${where} is not a devicegate credential; delete it and log in again`);
  if (credential.issuer !== key.issuer || credential.clientId !== key.clientId || credential.profile !== key.profile) {
    throw new CredentialStoreError(`${where} holds the login of another issuer, client or profile`);
  }
  return credential as Credential;
}

/** Keeps credentials in memory: for tests and for programs that persist nothing. */
export class MemoryCredentialStore implements CredentialStore {
  readonly kind = 'memory';
  readonly location = 'memory';
  private readonly entries = new Map<string, string>();

  async load(key: CredentialKey): Promise<Credential | undefined> {
    const text = this.entries.get(credentialId(key));
    return text === undefined ? undefined : parseCredential(text, key, 'the memory store');
  }

  async save(credential: Credential): Promise<void> {
    this.entries.set(credentialId(credential), JSON.stringify(credential));
  }

  async delete(key: CredentialKey): Promise<boolean> {
    return this.entries.delete(credentialId(key));
  }
}
