import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { CredentialStoreError } from '../errors';
import { ensurePrivateDirectory } from './private-files';

export interface FileLockOptions {
  /** How long to wait for another process; 60 s by default (a refresh has a 30 s timeout). */
  timeoutMs?: number;
  /** A lock older than this is taken over even when its owner seems alive (its pid reused); 10 minutes by default. */
  staleMs?: number;
}

interface Owner {
  pid: number;
  host: string;
  at: number;
  nonce: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(path: string): Promise<Owner | undefined> {
  try {
    const owner = JSON.parse(await fs.readFile(path, 'utf8')) as Owner;
    return typeof owner.pid === 'number' && typeof owner.at === 'number' ? owner : undefined;
  } catch {
    return undefined;
  }
}

function stale(owner: Owner | undefined, staleMs: number): boolean {
  if (!owner) return false;
  if (Date.now() - owner.at > staleMs) return true;
  return owner.host === hostname() && !alive(owner.pid);
}

/**
 * Runs `task` while holding a lock file (created with O_EXCL) that other
 * devicegate processes of this user respect: two processes never refresh
 * the same login at once, since the second refresh would present a used
 * refresh token and revoke the login. A lock left by a dead process is
 * taken over.
 */
export async function withFileLock<T>(path: string, task: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const staleMs = options.staleMs ?? 10 * 60_000;
  await ensurePrivateDirectory(dirname(path));
  const me: Owner = { pid: process.pid, host: hostname(), at: Date.now(), nonce: randomBytes(8).toString('hex') };
  const giveUpAt = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await fs.open(path, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify({ ...me, at: Date.now() }));
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new CredentialStoreError(`Cannot create the lock ${path}`, error);
    }
    const owner = await readOwner(path);
    if (stale(owner, staleMs)) {
      await fs.unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() > giveUpAt) {
      throw new CredentialStoreError(`Another devicegate process (pid ${owner?.pid ?? '?'}) holds ${path}; if none is running, delete that file`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(200, 20 + attempt * 10)));
  }
  try {
    return await task();
  } finally {
    const owner = await readOwner(path);
    if (owner?.nonce === me.nonce) await fs.unlink(path).catch(() => undefined);
  }
}
