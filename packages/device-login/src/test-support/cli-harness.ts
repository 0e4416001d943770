import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

const SOURCE = resolve(__dirname, '..');
const BUILDS = join(tmpdir(), 'devicegate-cli-build');

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return entry.name === 'test-support' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

let built: string | undefined;

/**
 * The CLI's entry, transpiled from the package's sources (types are checked
 * by tsc elsewhere) into a folder named by their digest, once for every
 * spec and worker: `node main.js` starts in 0.1 s where ts-node takes 1 s.
 */
export function cliEntry(): string {
  if (built) return built;
  const files = sourceFiles(SOURCE).sort();
  const digest = createHash('sha256').update(ts.version);
  for (const file of files) digest.update(`${relative(SOURCE, file)}\0${readFileSync(file, 'utf8')}\0`);
  const folder = join(BUILDS, digest.digest('hex').slice(0, 16));
  const entry = join(folder, 'cli', 'main.js');
  if (!existsSync(entry)) {
    mkdirSync(BUILDS, { recursive: true });
    const staging = mkdtempSync(`${folder}-`);
    for (const file of files) {
      const output = join(staging, relative(SOURCE, file).replace(/\.ts$/, '.js'));
      const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
        fileName: file,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      });
      mkdirSync(dirname(output), { recursive: true });
      writeFileSync(output, outputText);
    }
    try {
      renameSync(staging, folder);
    } catch {
      // Another worker built the same sources first.
      rmSync(staging, { recursive: true, force: true });
    }
    for (const old of readdirSync(BUILDS)) {
      const path = join(BUILDS, old);
      if (path !== folder && Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { recursive: true, force: true });
    }
  }
  built = entry;
  return entry;
}

/** Access and refresh tokens as devicegate writes them. */
export const TOKEN = /dg[ar]t_[0-9A-Za-z]{20,}/;

export interface CliRun {
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout's lines that parse as JSON. */
  json: Record<string, any>[];
}

function jsonLines(text: string): Record<string, any>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
}

export interface RunOptions {
  /** The command was asked to print a token (`token`, `--show-token`); otherwise any token in its output fails the run. */
  printsToken?: boolean;
  env?: Record<string, string>;
}

/** One CLI process: its output as it arrives, and its end. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliRun>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly args: string[],
    env: NodeJS.ProcessEnv,
    options: RunOptions,
  ) {
    this.child = spawn(process.execPath, [cliEntry(), ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.notify();
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
    this.exited = new Promise((resolveRun, reject) => {
      this.child.on('close', (code) => {
        const run = { args, code, stdout: this.stdout, stderr: this.stderr, json: jsonLines(this.stdout) };
        this.notify();
        try {
          if (!options.printsToken) assertNoToken(run);
          resolveRun(run);
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  private notify(): void {
    for (const waiter of this.waiters) waiter();
  }

  /** The first JSON line on stdout that matches; fails when the process ends first or after `timeoutMs`. */
  waitForJson(predicate: (value: Record<string, any>) => boolean, timeoutMs = 20_000): Promise<Record<string, any>> {
    return this.waitUntil(() => jsonLines(this.stdout.slice(0, this.stdout.lastIndexOf('\n') + 1)).find(predicate), timeoutMs);
  }

  /** The first match of `pattern` on stdout. */
  waitForStdout(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
    return this.waitUntil(() => pattern.exec(this.stdout) ?? undefined, timeoutMs);
  }

  private waitUntil<T>(find: () => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise((resolveWait, reject) => {
      let ended = false;
      const check = () => {
        const found = find();
        if (found !== undefined) {
          done();
          resolveWait(found);
        } else if (ended) {
          done();
          reject(new Error(`devicegate ${this.args.join(' ')} ended without the expected output:\n${this.stdout}\n${this.stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`devicegate ${this.args.join(' ')}: no expected output within ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const onEnd = () => {
        ended = true;
        check();
      };
      void this.exited.then(onEnd, onEnd);
      this.waiters.add(check);
      check();
    });
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

export function assertNoToken(run: CliRun): void {
  const found = TOKEN.exec(`${run.stdout}\n${run.stderr}`);
  if (found) throw new Error(`devicegate ${run.args.join(' ')} printed a token it was not asked for: ${found[0].slice(0, 9)}…`);
}

/** A person's home folder for the CLI: its own HOME and XDG_CONFIG_HOME, a file credential store. */
export class CliHome {
  readonly home = mkdtempSync(join(tmpdir(), 'devicegate-cli-'));
  readonly configHome = join(this.home, 'config');
  private readonly processes = new Set<CliProcess>();

  get configDirectory(): string {
    return join(this.configHome, 'devicegate');
  }

  get credentialsDirectory(): string {
    return join(this.configDirectory, 'credentials');
  }

  credentialFiles(): string[] {
    try {
      return readdirSync(this.credentialsDirectory).map((name) => join(this.credentialsDirectory, name));
    } catch {
      return [];
    }
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: this.home,
      XDG_CONFIG_HOME: this.configHome,
      DEVICEGATE_CREDENTIAL_STORE: 'file',
      LANG: 'C.UTF-8',
      ...extra,
    };
  }

  start(args: string[], options: RunOptions = {}): CliProcess {
    const cli = new CliProcess(args, this.env(options.env), options);
    this.processes.add(cli);
    void cli.exited.finally(() => this.processes.delete(cli)).catch(() => undefined);
    return cli;
  }

  run(args: string[], options: RunOptions = {}): Promise<CliRun> {
    return this.start(args, options).exited;
  }

  /** `devicegate login <args> --json`, calling `approve` with the user code as soon as the CLI shows it. */
  async logIn(args: string[], approve: (userCode: string) => Promise<unknown>, options: RunOptions = {}): Promise<CliRun> {
    const cli = this.start(['login', ...args, '--json'], options);
    const code = await cli.waitForJson((line) => line.event === 'code');
    await approve(code.user_code);
    const run = await cli.exited;
    if (run.code !== 0) throw new Error(`devicegate login exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
    return run;
  }

  /** The one stored credential, as the file store wrote it. */
  storedCredential(): Record<string, any> {
    const files = this.credentialFiles();
    if (files.length !== 1) throw new Error(`${files.length} credential files in ${this.credentialsDirectory}`);
    return JSON.parse(readFileSync(files[0], 'utf8'));
  }

  dispose(): void {
    for (const cli of this.processes) cli.kill();
    rmSync(this.home, { recursive: true, force: true });
  }
}
