import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { CredentialStoreError, InsecureCredentialFile } from '../errors';

export interface ConfigDirectoryEnvironment {
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

/**
 * Where devicegate keeps its files: `%APPDATA%\devicegate` on Windows,
 * else `$XDG_CONFIG_HOME/devicegate` (when absolute, per the XDG spec) or
 * `~/.config/devicegate`.
 */
export function configDirectory(options: ConfigDirectoryEnvironment = {}): string {
  const platform = options.platform ?? process.platform;
  const env = options.env ?? process.env;
  const home = options.home ?? env.HOME ?? homedir();
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'devicegate');
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.config'), 'devicegate');
}

const POSIX = process.platform !== 'win32';

function uid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/**
 * Makes `path` (and its parents) exist; `path` itself is a real folder of
 * this user with mode 0700: created so, or tightened when it is ours and
 * looser. Refused when it is a symlink or another user's.
 */
export async function ensurePrivateDirectory(path: string): Promise<void> {
  await fs.mkdir(dirname(path), { recursive: true });
  try {
    await fs.mkdir(path, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new CredentialStoreError(`Cannot create ${path}`, error);
  }
  if (!POSIX) return;
  const stat = await fs.lstat(path);
  if (!stat.isDirectory()) throw new CredentialStoreError(`${path} is not a folder (a symlink or a file); remove it`);
  if (uid() !== undefined && stat.uid !== uid()) throw new CredentialStoreError(`${path} belongs to another user`);
  if ((stat.mode & 0o777) !== 0o700) await fs.chmod(path, 0o700);
}

/**
 * Reads a file that must be private: a regular file (not a symlink) of this
 * user that no one else may read or write. A looser file is refused, never
 * silently fixed: whoever could read it may have the token.
 */
export async function readPrivateFile(path: string): Promise<string | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, POSIX ? constants.O_RDONLY | constants.O_NOFOLLOW : 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new InsecureCredentialFile(path, 'is a symlink');
    throw new CredentialStoreError(`Cannot read ${path}`, error);
  }
  try {
    if (POSIX) {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new InsecureCredentialFile(path, 'is not a regular file');
      if (uid() !== undefined && stat.uid !== uid()) throw new InsecureCredentialFile(path, 'belongs to another user');
      if ((stat.mode & 0o077) !== 0) {
        throw new InsecureCredentialFile(path, `has mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}, readable or writable by others`);
      }
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` atomically with `content`: a temporary file created with
 * mode 0600 beside it (O_EXCL), written and flushed, then renamed over.
 */
export async function writePrivateFile(path: string, content: string): Promise<void> {
  const folder = dirname(path);
  const temporary = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(temporary, 'wx', 0o600);
    if (POSIX) await handle.chmod(0o600);
    await handle.writeFile(content, 'utf8');
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(temporary, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.unlink(temporary).catch(() => undefined);
    throw new CredentialStoreError(`Cannot write ${path}`, error);
  }
  if (POSIX) {
    // The rename is durable once the folder is flushed; not every file system allows that.
    const directory = await fs.open(folder, 'r').catch(() => undefined);
    await directory?.sync().catch(() => undefined);
    await directory?.close();
  }
}

export async function removeFile(path: string): Promise<boolean> {
  try {
    await fs.unlink(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new CredentialStoreError(`Cannot delete ${path}`, error);
  }
}
