import { join } from 'node:path';
import { type Credential, type CredentialKey, type CredentialStore, credentialId, parseCredential } from './credential';
import { ensurePrivateDirectory, readPrivateFile, removeFile, writePrivateFile } from './private-files';

/**
 * One JSON file per login, `<config dir>/credentials/<id>.json`, mode 0600
 * in folders of mode 0700, replaced atomically. A file others could read is
 * refused (see `readPrivateFile`).
 */
export class FileCredentialStore implements CredentialStore {
  readonly kind = 'file';
  readonly folder: string;

  constructor(readonly configDirectory: string) {
    this.folder = join(configDirectory, 'credentials');
  }

  get location(): string {
    return this.folder;
  }

  path(key: CredentialKey): string {
    return join(this.folder, `${credentialId(key)}.json`);
  }

  async load(key: CredentialKey): Promise<Credential | undefined> {
    const text = await readPrivateFile(this.path(key));
    return text === undefined ? undefined : parseCredential(text, key, this.path(key));
  }

  async save(credential: Credential): Promise<void> {
    await ensurePrivateDirectory(this.configDirectory);
    await ensurePrivateDirectory(this.folder);
    await writePrivateFile(this.path(credential), `${JSON.stringify(credential, null, 2)}\n`);
  }

  async delete(key: CredentialKey): Promise<boolean> {
    return removeFile(this.path(key));
  }
}
