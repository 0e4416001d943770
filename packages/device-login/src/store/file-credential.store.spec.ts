import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CredentialStoreError, InsecureCredentialFile } from '../errors';
import type { Credential } from './credential';
import { FileCredentialStore } from './file-credential.store';
import { configDirectory } from './private-files';

const KEY = { issuer: 'https://login.example.com', clientId: 'acme-cli', profile: 'default' };
const CREDENTIAL: Credential = { version: 1, ...KEY, accessToken: 'dgat_x', tokenType: 'Bearer', obtainedAt: '2030-01-01T00:00:00.000Z' };
const mode = (path: string) => statSync(path).mode & 0o777;

describe('FileCredentialStore', () => {
  let root: string;
  let store: FileCredentialStore;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'file-store-spec-'));
    store = new FileCredentialStore(join(root, 'config', 'devicegate'));
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes one 0600 file per login inside 0700 folders, and reads it back', async () => {
    const previous = process.umask(0);
    try {
      await store.save(CREDENTIAL);
    } finally {
      process.umask(previous);
    }
    const path = store.path(KEY);
    expect({ file: mode(path), credentials: mode(store.folder), config: mode(store.configDirectory) }).toEqual({
      file: 0o600,
      credentials: 0o700,
      config: 0o700,
    });
    expect(await store.load(KEY)).toEqual(CREDENTIAL);
    expect(await store.load({ ...KEY, profile: 'work' })).toBeUndefined();
  });

  it('replaces the file atomically and leaves no temporary file behind', async () => {
    await store.save(CREDENTIAL);
    const inode = statSync(store.path(KEY)).ino;
    await store.save({ ...CREDENTIAL, accessToken: 'dgat_y' });
    expect(statSync(store.path(KEY)).ino).not.toBe(inode);
    expect(readdirSync(store.folder)).toEqual([store.path(KEY).split('/').pop()]);
    expect((await store.load(KEY))?.accessToken).toBe('dgat_y');
  });

  it('tightens its own folders when they were left looser', async () => {
    mkdirSync(store.folder, { recursive: true, mode: 0o755 });
    chmodSync(store.folder, 0o755);
    await store.save(CREDENTIAL);
    expect(mode(store.folder)).toBe(0o700);
  });

  it.each([0o644, 0o640, 0o604, 0o660, 0o602])('refuses to read a file of mode %o, naming the fix', async (loose) => {
    await store.save(CREDENTIAL);
    chmodSync(store.path(KEY), loose);
    const failure = store.load(KEY);
    await expect(failure).rejects.toBeInstanceOf(InsecureCredentialFile);
    await expect(failure).rejects.toThrow(`chmod 600 ${store.path(KEY)}`);
  });

  it('refuses a symlink where the file should be', async () => {
    mkdirSync(store.folder, { recursive: true });
    writeFileSync(join(root, 'elsewhere.json'), JSON.stringify(CREDENTIAL), { mode: 0o600 });
    symlinkSync(join(root, 'elsewhere.json'), store.path(KEY));
    await expect(store.load(KEY)).rejects.toBeInstanceOf(InsecureCredentialFile);
  });

  it('refuses a file that holds another login or is not a credential', async () => {
    await store.save(CREDENTIAL);
    writeFileSync(store.path(KEY), JSON.stringify({ ...CREDENTIAL, clientId: 'other' }));
    await expect(store.load(KEY)).rejects.toThrow('another issuer, client or profile');
    writeFileSync(store.path(KEY), '{"version": 1}');
    await expect(store.load(KEY)).rejects.toBeInstanceOf(CredentialStoreError);
  });

  it('deletes, and says whether there was anything', async () => {
    await store.save(CREDENTIAL);
    expect(await store.delete(KEY)).toBe(true);
    expect(await store.delete(KEY)).toBe(false);
    expect(await store.load(KEY)).toBeUndefined();
  });
});

describe('configDirectory', () => {
  it('follows XDG_CONFIG_HOME when absolute, else ~/.config, and %APPDATA% on Windows', () => {
    expect(configDirectory({ platform: 'linux', env: { XDG_CONFIG_HOME: '/x/config' }, home: '/home/a' })).toBe('/x/config/devicegate');
    expect(configDirectory({ platform: 'linux', env: { XDG_CONFIG_HOME: 'relative' }, home: '/home/a' })).toBe('/home/a/.config/devicegate');
    expect(configDirectory({ platform: 'darwin', env: {}, home: '/Users/a' })).toBe('/Users/a/.config/devicegate');
    expect(configDirectory({ platform: 'win32', env: { APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, home: 'C:\\Users\\a' })).toMatch(/Roaming.devicegate$/);
  });
});
