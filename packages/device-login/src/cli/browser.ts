import { spawn } from 'node:child_process';

export interface BrowserCommand {
  command: string;
  args: string[];
}

export interface BrowserEnvironment {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** Whether a person is at a terminal (stdout or stderr is a TTY). */
  interactive: boolean;
}

/**
 * How to open `url`, or why not: never with --no-browser, without a
 * terminal, in CI or over SSH; on Linux and the BSDs only with a display
 * (DISPLAY, WAYLAND_DISPLAY) or a BROWSER to run.
 */
export function browserCommand(url: string, environment: BrowserEnvironment, noBrowser = false): BrowserCommand | string {
  const { platform, env } = environment;
  if (noBrowser) return '--no-browser';
  if (!environment.interactive) return 'not a terminal';
  if (env.CI) return 'CI';
  if (!/^https?:\/\//i.test(url)) return 'not a web address';
  const browser = env.BROWSER?.split(platform === 'win32' ? ';' : ':')[0]?.trim();
  if (browser) {
    const [command, ...args] = browser.split(/\s+/);
    return { command, args: args.some((arg) => arg.includes('%s')) ? args.map((arg) => arg.replace('%s', url)) : [...args, url] };
  }
  if (env.SSH_CONNECTION || env.SSH_TTY) return 'an SSH session';
  if (platform === 'darwin') return { command: 'open', args: [url] };
  if (platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return 'no display';
  return { command: 'xdg-open', args: [url] };
}

/** Starts the browser and forgets it; never throws, never waits. */
export function launchBrowser(command: BrowserCommand): boolean {
  try {
    const child = spawn(command.command, command.args, { detached: true, stdio: 'ignore', windowsHide: true });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}
