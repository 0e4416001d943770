import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFileLock } from './file-lock';

describe('withFileLock', () => {
  let folder: string;
  let lock: string;

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'file-lock-spec-'));
    lock = join(folder, 'locks', 'a.lock');
  });

  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it('runs one holder at a time and removes the lock after', async () => {
    let inside = 0;
    let most = 0;
    const task = async () => {
      most = Math.max(most, ++inside);
      await new Promise((resolve) => setTimeout(resolve, 15));
      inside--;
    };
    await Promise.all([1, 2, 3].map(() => withFileLock(lock, task)));
    expect(most).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  it('releases the lock when the task fails', async () => {
    await expect(withFileLock(lock, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await withFileLock(lock, async () => 'again')).toBe('again');
  });

  it('takes over a lock left by a process that is gone', async () => {
    await withFileLock(lock, async () => undefined);
    writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), at: Date.now(), nonce: 'dead' }));
    expect(await withFileLock(lock, async () => 'taken over', { timeoutMs: 500 })).toBe('taken over');
  });

  it('waits for a live holder, and gives up after the timeout naming it', async () => {
    await withFileLock(lock, async () => undefined);
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now(), nonce: 'alive' }));
    await expect(withFileLock(lock, async () => 'never', { timeoutMs: 100 })).rejects.toThrow(`Another devicegate process (pid ${process.pid}) holds ${lock}`);
  });
});
