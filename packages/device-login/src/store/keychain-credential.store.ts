import { spawn } from 'node:child_process';
import { CredentialStoreError } from '../errors';
import { type Credential, type CredentialKey, type CredentialStore, parseCredential } from './credential';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program without a shell; secrets only ever travel on its standard input, never in its arguments. */
export type CommandRunner = (command: string, args: string[], input?: string) => Promise<CommandResult>;

const COMMAND_TIMEOUT_MS = 20_000;

export const spawnCommand: CommandRunner = (command, args, input) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: COMMAND_TIMEOUT_MS, windowsHide: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });

const SERVICE = 'devicegate';

function failed(what: string, result: CommandResult): CredentialStoreError {
  const detail = result.stderr.trim().split('\n')[0]?.slice(0, 200) || `exit code ${result.code}`;
  return new CredentialStoreError(`${what} failed (${detail}); set DEVICEGATE_CREDENTIAL_STORE=file to keep logins in a 0600 file instead`);
}

async function run(runner: CommandRunner, what: string, command: string, args: string[], input?: string): Promise<CommandResult> {
  try {
    return await runner(command, args, input);
  } catch (error) {
    throw new CredentialStoreError(`${what}: cannot run ${command}`, error);
  }
}

/** The keychain item's account: readable in Keychain Access, and unique per key. */
export function keychainAccount(key: CredentialKey): string {
  return `${key.profile}:${key.clientId}@${key.issuer}`;
}

/** A word of `security -i`'s command line, double-quoted. */
function quoted(value: string): string {
  if (/[\u0000-\u001f"\\]/.test(value)) throw new CredentialStoreError(`Cannot keep ${JSON.stringify(value)} in the macOS keychain`);
  return `"${value}"`;
}

/**
 * The login keychain of macOS through /usr/bin/security: one generic
 * password per key (service "devicegate"). The secret goes in as hex on
 * the standard input of `security -i`, so no other process sees it in `ps`.
 */
export class MacosKeychainCredentialStore implements CredentialStore {
  readonly kind = 'macos-keychain';
  readonly location = 'the macOS login keychain (service "devicegate")';

  constructor(
    private readonly security: string,
    private readonly runner: CommandRunner = spawnCommand,
  ) {}

  async load(key: CredentialKey): Promise<Credential | undefined> {
    const result = await run(this.runner, 'Reading the macOS keychain', this.security, [
      'find-generic-password',
      '-s',
      SERVICE,
      '-a',
      keychainAccount(key),
      '-w',
    ]);
    // 44: errSecItemNotFound
    if (result.code === 44) return undefined;
    if (result.code !== 0) throw failed('Reading the macOS keychain', result);
    const secret = result.stdout.replace(/\n$/, '');
    // `security -w` prints hex when the data is not plain text.
    const text = /^([0-9a-f]{2})+$/i.test(secret) ? Buffer.from(secret, 'hex').toString('utf8') : secret;
    return parseCredential(text, key, this.location);
  }

  async save(credential: Credential): Promise<void> {
    const hex = Buffer.from(JSON.stringify(credential), 'utf8').toString('hex');
    const label = `devicegate ${credential.issuer} (${credential.clientId}, ${credential.profile})`;
    const command = ['add-generic-password', '-U', '-s', SERVICE, '-a', quoted(keychainAccount(credential)), '-l', quoted(label), '-X', hex].join(' ');
    const result = await run(this.runner, 'Writing to the macOS keychain', this.security, ['-i'], `${command}\n`);
    if (result.code !== 0 || /error|could not/i.test(result.stderr)) throw failed('Writing to the macOS keychain', result);
  }

  async delete(key: CredentialKey): Promise<boolean> {
    const result = await run(this.runner, 'Deleting from the macOS keychain', this.security, [
      'delete-generic-password',
      '-s',
      SERVICE,
      '-a',
      keychainAccount(key),
    ]);
    if (result.code === 44) return false;
    if (result.code !== 0) throw failed('Deleting from the macOS keychain', result);
    return true;
  }
}

/**
 * The Secret Service (GNOME Keyring, KWallet) through libsecret's
 * `secret-tool`: attributes service, issuer, client_id and profile; the
 * secret on standard input.
 */
export class LibsecretCredentialStore implements CredentialStore {
  readonly kind = 'libsecret';
  readonly location = 'the Secret Service keyring (secret-tool, service "devicegate")';

  constructor(
    private readonly secretTool: string,
    private readonly runner: CommandRunner = spawnCommand,
  ) {}

  private attributes(key: CredentialKey): string[] {
    return ['service', SERVICE, 'issuer', key.issuer, 'client_id', key.clientId, 'profile', key.profile];
  }

  async load(key: CredentialKey): Promise<Credential | undefined> {
    const result = await run(this.runner, 'Reading the keyring', this.secretTool, ['lookup', ...this.attributes(key)]);
    // secret-tool lookup exits 1 with nothing on stdout when no item matches.
    if (result.code === 1 && result.stdout === '' && result.stderr.trim() === '') return undefined;
    if (result.code !== 0) throw failed('Reading the keyring', result);
    return parseCredential(result.stdout, key, this.location);
  }

  async save(credential: Credential): Promise<void> {
    const label = `devicegate ${credential.issuer} (${credential.clientId}, ${credential.profile})`;
    const result = await run(
      this.runner,
      'Writing to the keyring',
      this.secretTool,
      ['store', `--label=${label}`, ...this.attributes(credential)],
      JSON.stringify(credential),
    );
    if (result.code !== 0) throw failed('Writing to the keyring', result);
  }

  async delete(key: CredentialKey): Promise<boolean> {
    const lookup = await run(this.runner, 'Reading the keyring', this.secretTool, ['lookup', ...this.attributes(key)]);
    const existed = lookup.code === 0 && lookup.stdout !== '';
    const result = await run(this.runner, 'Deleting from the keyring', this.secretTool, ['clear', ...this.attributes(key)]);
    if (result.code !== 0 && existed) throw failed('Deleting from the keyring', result);
    return existed;
  }
}
