import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { AppProcessReady } from './app-process-main';

export interface AppProcess {
  ready: AppProcessReady;
  /** stdout and stderr of the process, line by line. */
  output: string[];
  stop(): Promise<void>;
  /** Ends the process with SIGKILL: no shutdown hook runs. */
  kill(): Promise<void>;
}

/**
 * Runs createApp(loadConfig(env)) in a Node process of its own. The
 * embedded mode needs it: PGlite loads Node built-ins with a dynamic
 * import(), which jest's module sandbox refuses without
 * --experimental-vm-modules. A process of its own also makes a restart a
 * real one.
 */
export async function startAppProcess(env: Record<string, string>, timeoutMs = 25_000): Promise<AppProcess> {
  const child = fork(join(__dirname, 'app-process-main.ts'), [], {
    execArgv: ['-r', 'ts-node/register/transpile-only'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HTTP_ADAPTER: process.env.HTTP_ADAPTER ?? 'express', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => output.push(...String(chunk).split('\n').filter(Boolean)));
  }
  const ready = await new Promise<AppProcessReady>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`the app did not start within ${timeoutMs} ms`)), timeoutMs);
    function fail(error: Error) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n${output.slice(-20).join('\n')}`));
    }
    const exited = (code: number | null) => fail(new Error(`the app exited with code ${code} before it was ready`));
    child.once('exit', exited);
    child.on('message', (message: { ready?: AppProcessReady; failed?: string }) => {
      if (message.failed) fail(new Error(`the app failed to start: ${message.failed}`));
      if (message.ready) {
        clearTimeout(timer);
        child.off('exit', exited);
        resolve(message.ready);
      }
    });
  });
  return { ready, output, stop: () => stop(child), kill: () => kill(child) };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.send('stop');
  });
}
