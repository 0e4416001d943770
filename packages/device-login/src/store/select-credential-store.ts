import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { CredentialStoreError } from '../errors';
import type { CredentialStore } from './credential';
import { FileCredentialStore } from './file-credential.store';
import { type CommandRunner, LibsecretCredentialStore, MacosKeychainCredentialStore, spawnCommand } from './keychain-credential.store';
import { configDirectory } from './private-files';

export interface StoreEnvironment {
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
}

export type StoreChoice =
  | { kind: 'macos-keychain'; executable: string; reason: string }
  | { kind: 'libsecret'; executable: string; reason: string }
  | { kind: 'file'; reason: string };

/** The first executable file called `name` in the folders of `path` (a PATH value). */
export function findExecutable(name: string, path: string | undefined, platform: NodeJS.Platform = process.platform): string | undefined {
  const extensions = platform === 'win32' ? ['.exe', '.cmd', '.bat', ''] : [''];
  for (const folder of (path ?? '').split(platform === 'win32' ? ';' : delimiter)) {
    if (!folder) continue;
    for (const extension of extensions) {
      const candidate = join(folder, name + extension);
      try {
        if (!statSync(candidate).isFile()) continue;
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not there, or not executable
      }
    }
  }
  return undefined;
}

/**
 * Which store to use. `DEVICEGATE_CREDENTIAL_STORE` may say `file`,
 * `keychain` or `auto` (the default): on macOS the login keychain when
 * `security` is on PATH; on Linux and the BSDs the Secret Service when
 * `secret-tool` is on PATH and a session bus is there to reach it;
 * otherwise (Windows included) a 0600 file.
 */
export function chooseCredentialStore(environment: StoreEnvironment = {}): StoreChoice {
  const platform = environment.platform ?? process.platform;
  const env = environment.env ?? process.env;
  const wanted = (env.DEVICEGATE_CREDENTIAL_STORE ?? 'auto').toLowerCase();
  if (!['auto', 'file', 'keychain'].includes(wanted)) {
    throw new CredentialStoreError(`DEVICEGATE_CREDENTIAL_STORE must be auto, file or keychain, not ${JSON.stringify(wanted)}`);
  }
  if (wanted === 'file') return { kind: 'file', reason: 'DEVICEGATE_CREDENTIAL_STORE=file' };
  let keychain: StoreChoice | string;
  if (platform === 'darwin') {
    const security = findExecutable('security', env.PATH, platform);
    keychain = security ? { kind: 'macos-keychain', executable: security, reason: `found ${security}` } : 'security is not on PATH';
  } else if (platform === 'win32') {
    keychain = 'no keychain command on Windows';
  } else {
    const secretTool = findExecutable('secret-tool', env.PATH, platform);
    keychain = !secretTool
      ? 'secret-tool (libsecret) is not on PATH'
      : !env.DBUS_SESSION_BUS_ADDRESS
        ? 'secret-tool is on PATH but there is no session bus (DBUS_SESSION_BUS_ADDRESS)'
        : { kind: 'libsecret', executable: secretTool, reason: `found ${secretTool}` };
  }
  if (typeof keychain !== 'string') return keychain;
  if (wanted === 'keychain') throw new CredentialStoreError(`DEVICEGATE_CREDENTIAL_STORE=keychain, but ${keychain}`);
  return { kind: 'file', reason: keychain };
}

export interface CreateStoreOptions extends StoreEnvironment {
  /** The folder of the file store; `configDirectory()` by default. */
  configDirectory?: string;
  runner?: CommandRunner;
}

export function createCredentialStore(options: CreateStoreOptions = {}): CredentialStore {
  const choice = chooseCredentialStore(options);
  const runner = options.runner ?? spawnCommand;
  switch (choice.kind) {
    case 'macos-keychain':
      return new MacosKeychainCredentialStore(choice.executable, runner);
    case 'libsecret':
      return new LibsecretCredentialStore(choice.executable, runner);
    case 'file':
      return new FileCredentialStore(options.configDirectory ?? configDirectory(options));
  }
}
