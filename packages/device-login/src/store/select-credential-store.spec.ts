import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCredentialStore } from './file-credential.store';
import { LibsecretCredentialStore, MacosKeychainCredentialStore } from './keychain-credential.store';
import { chooseCredentialStore, createCredentialStore, findExecutable } from './select-credential-store';

describe('choosing the credential store', () => {
  let root: string;
  let withTools: string;
  let empty: string;

  /** A folder for PATH holding fake programs. */
  function folderWith(name: string, programs: Record<string, number>): string {
    const folder = join(root, name);
    mkdirSync(folder);
    for (const [program, mode] of Object.entries(programs)) {
      writeFileSync(join(folder, program), '#!/bin/sh\nexit 0\n');
      chmodSync(join(folder, program), mode);
    }
    return folder;
  }

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'store-choice-spec-'));
    withTools = folderWith('bin', { 'secret-tool': 0o755, security: 0o755 });
    empty = folderWith('empty', {});
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds only executable files on PATH', () => {
    const notExecutable = folderWith('plain', { 'secret-tool': 0o644 });
    expect(findExecutable('secret-tool', `${empty}:${withTools}`, 'linux')).toBe(join(withTools, 'secret-tool'));
    expect(findExecutable('secret-tool', `${notExecutable}:${empty}`, 'linux')).toBeUndefined();
    expect(findExecutable('secret-tool', undefined, 'linux')).toBeUndefined();
  });

  it('uses the macOS keychain when security is on PATH', () => {
    expect(chooseCredentialStore({ platform: 'darwin', env: { PATH: withTools } })).toEqual({
      kind: 'macos-keychain',
      executable: join(withTools, 'security'),
      reason: `found ${join(withTools, 'security')}`,
    });
    expect(chooseCredentialStore({ platform: 'darwin', env: { PATH: empty } })).toEqual({ kind: 'file', reason: 'security is not on PATH' });
  });

  it('uses libsecret on Linux only with secret-tool on PATH and a session bus', () => {
    const bus = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus' };
    expect(chooseCredentialStore({ platform: 'linux', env: { PATH: withTools, ...bus } })).toMatchObject({ kind: 'libsecret' });
    expect(chooseCredentialStore({ platform: 'linux', env: { PATH: withTools } })).toEqual({
      kind: 'file',
      reason: 'secret-tool is on PATH but there is no session bus (DBUS_SESSION_BUS_ADDRESS)',
    });
    expect(chooseCredentialStore({ platform: 'linux', env: { PATH: empty, ...bus } })).toEqual({ kind: 'file', reason: 'secret-tool (libsecret) is not on PATH' });
  });

  it('uses a file on Windows, and whenever DEVICEGATE_CREDENTIAL_STORE=file', () => {
    expect(chooseCredentialStore({ platform: 'win32', env: { PATH: withTools } })).toMatchObject({ kind: 'file' });
    expect(chooseCredentialStore({ platform: 'darwin', env: { PATH: withTools, DEVICEGATE_CREDENTIAL_STORE: 'file' } })).toMatchObject({ kind: 'file' });
  });

  it('refuses DEVICEGATE_CREDENTIAL_STORE=keychain where there is none, and values it does not know', () => {
    expect(() => chooseCredentialStore({ platform: 'linux', env: { PATH: empty, DEVICEGATE_CREDENTIAL_STORE: 'keychain' } })).toThrow(
      'DEVICEGATE_CREDENTIAL_STORE=keychain, but secret-tool (libsecret) is not on PATH',
    );
    expect(() => chooseCredentialStore({ platform: 'linux', env: { DEVICEGATE_CREDENTIAL_STORE: 'vault' } })).toThrow('auto, file or keychain');
  });

  it('builds the store it chose', () => {
    const bus = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x' };
    expect(createCredentialStore({ platform: 'darwin', env: { PATH: withTools } })).toBeInstanceOf(MacosKeychainCredentialStore);
    expect(createCredentialStore({ platform: 'linux', env: { PATH: withTools, ...bus } })).toBeInstanceOf(LibsecretCredentialStore);
    const file = createCredentialStore({ platform: 'linux', env: { PATH: empty }, configDirectory: join(root, 'config') });
    expect(file).toBeInstanceOf(FileCredentialStore);
    expect(file.location).toBe(join(root, 'config', 'credentials'));
  });
});
