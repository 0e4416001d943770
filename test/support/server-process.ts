import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** `node src/main.ts` of this checkout, the way `npm start` runs it (transpiled at load). */
export const SOURCE_MAIN = ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'main.ts')];

/**
 * A launcher that runs its command with the root filesystem read-only, as a pod with
 * readOnlyRootFilesystem (the Helm chart's) does: a private mount namespace whose / is remounted
 * read-only (root only; the rest of the machine keeps its writable /).
 */
export const READ_ONLY_ROOT = ['unshare', '--mount', 'sh', '-c', 'mount -o remount,bind,ro / && exec "$@"', 'sh'];

export interface ServerProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Resolves with the first stdout line that matches; rejects if the process exits first or the time runs out. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<number | null>;
}

/** Runs `node <args>` (through `launcher`, if any) with exactly `env` (plus PATH and HOME), collecting stdout and stderr line by line. */
export function spawnServer(args: string[], env: Record<string, string>, cwd = ROOT, launcher: string[] = []): ServerProcess {
  const [command, ...commandArgs] = [...launcher, process.execPath, ...args];
  const child = spawn(command, commandArgs, {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const listeners = new Set<() => void>();
  const collect = (into: string[]) => {
    let partial = '';
    return (chunk: Buffer) => {
      const lines = (partial + String(chunk)).split('\n');
      partial = lines.pop() ?? '';
      into.push(...lines);
      for (const listener of listeners) listener();
    };
  };
  child.stdout?.on('data', collect(stdout));
  child.stderr?.on('data', collect(stderr));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => setImmediate(() => resolve(code))));
  let done = false;
  void exited.then(() => {
    done = true;
    for (const listener of listeners) listener();
  });

  return {
    child,
    stdout,
    stderr,
    exited,
    waitForLine(pattern, timeoutMs) {
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no line matching ${pattern} within ${timeoutMs} ms`)), timeoutMs);
        const check = () => {
          const line = stdout.find((candidate) => pattern.test(candidate));
          if (line !== undefined) finish(undefined, line);
          else if (done) finish(new Error(`the process exited before a line matching ${pattern}`));
        };
        function finish(error?: Error, line?: string) {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(new Error(`${error.message}\nstdout:\n${stdout.slice(-30).join('\n')}\nstderr:\n${stderr.slice(-30).join('\n')}`));
          else resolve(line as string);
        }
        listeners.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}
