import { parseArgs } from 'node:util';
import { DeviceLogin } from '../device-login';
import { normalizeIssuer } from '../discovery';
import { NotLoggedIn } from '../errors';
import type { FetchLike } from '../http';
import type { MonotonicClock } from '../monotonic-clock';
import { type CredentialStore, DEFAULT_PROFILE } from '../store/credential';
import type { CommandRunner } from '../store/keychain-credential.store';
import { configDirectory } from '../store/private-files';
import { createCredentialStore } from '../store/select-credential-store';
import { auditExport, auditVerify } from './audit.command';
import { type BrowserCommand, launchBrowser } from './browser';
import { readCliConfig } from './cli-config';
import { UsageError } from './cli-errors';
import { createClient, listClients, setClientEnabled } from './clients.command';
import { devices, revokeDevice } from './devices.command';
import { describeFailure, EXIT } from './exit-codes';
import { login } from './login.command';
import { logout, token, whoami } from './account.command';
import { Output, type TerminalStream } from './output';
import { HELP, VERSION } from './usage';

/** Everything the CLI touches of its process, so specs can run it in process. */
export interface CliIo {
  stdout: TerminalStream;
  stderr: TerminalStream;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  fetch?: FetchLike;
  launchBrowser?: (command: BrowserCommand) => boolean;
  runner?: CommandRunner;
  clock?: MonotonicClock;
}

export const DEFAULT_CLIENT_ID = 'devicegate-cli';

const OPTIONS = {
  issuer: { type: 'string' },
  client: { type: 'string' },
  profile: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  label: { type: 'string' },
  scope: { type: 'string' },
  'no-browser': { type: 'boolean' },
  'show-token': { type: 'boolean' },
  qr: { type: 'boolean' },
  'no-qr': { type: 'boolean' },
  force: { type: 'boolean' },
  since: { type: 'string' },
  until: { type: 'string' },
  type: { type: 'string' },
  subject: { type: 'string' },
  organization: { type: 'string' },
  'filter-client': { type: 'string' },
  name: { type: 'string' },
  id: { type: 'string' },
  scopes: { type: 'string' },
  'default-scopes': { type: 'string' },
  'grant-types': { type: 'string' },
  'poll-interval': { type: 'string' },
} as const;

export type CliOptions = { [name in keyof typeof OPTIONS]?: (typeof OPTIONS)[name]['type'] extends 'string' ? string : boolean };

const GLOBAL = ['issuer', 'client', 'profile', 'json', 'help', 'version'];
const COMMANDS: Record<string, { options: string[]; positionals: number }> = {
  login: { options: ['label', 'scope', 'no-browser', 'show-token', 'qr', 'no-qr'], positionals: 0 },
  whoami: { options: ['show-token'], positionals: 0 },
  token: { options: [], positionals: 0 },
  logout: { options: ['force'], positionals: 0 },
  devices: { options: [], positionals: 0 },
  'devices revoke': { options: [], positionals: 1 },
  'audit export': { options: ['since', 'until', 'type', 'subject', 'organization', 'filter-client'], positionals: 0 },
  'audit verify': { options: [], positionals: 0 },
  'clients list': { options: [], positionals: 0 },
  'clients create': { options: ['name', 'id', 'type', 'scopes', 'default-scopes', 'grant-types', 'organization', 'poll-interval'], positionals: 0 },
  'clients disable': { options: [], positionals: 1 },
  'clients enable': { options: [], positionals: 1 },
  help: { options: [], positionals: 1 },
};

/** Commands whose one argument is required, with their usage. */
const ONE_ARGUMENT: Record<string, string> = {
  'devices revoke': 'devicegate devices revoke <ID>',
  'clients disable': 'devicegate clients disable <CLIENT_ID>',
  'clients enable': 'devicegate clients enable <CLIENT_ID>',
};

export interface Target {
  issuer: string;
  clientId: string;
  profile: string;
}

/** What a command gets: its options and arguments, the output, and the login it works on. */
export class CommandContext {
  readonly configDirectory: string;
  /** The last target resolved, for error messages. */
  lastTarget?: Target;
  private storeInstance?: CredentialStore;

  constructor(
    readonly io: CliIo,
    readonly out: Output,
    readonly options: CliOptions,
    readonly args: string[],
  ) {
    this.configDirectory = configDirectory({ platform: io.platform, env: io.env });
  }

  get store(): CredentialStore {
    this.storeInstance ??= createCredentialStore({ platform: this.io.platform, env: this.io.env, configDirectory: this.configDirectory, runner: this.io.runner });
    return this.storeInstance;
  }

  get allowInsecureHttp(): boolean {
    return this.io.env.DEVICEGATE_ALLOW_INSECURE_HTTP === '1';
  }

  /** The issuer, client and profile: options, then DEVICEGATE_* variables, then what the profile logged in to last. */
  async target(forLogin = false): Promise<Target> {
    const env = this.io.env;
    const profile = this.options.profile ?? env.DEVICEGATE_PROFILE ?? DEFAULT_PROFILE;
    const remembered = (await readCliConfig(this.configDirectory)).profiles[profile];
    const input = this.options.issuer ?? env.DEVICEGATE_ISSUER ?? remembered?.issuer;
    if (!input) {
      if (forLogin) throw new UsageError('Which server? Pass --issuer URL (or set DEVICEGATE_ISSUER)');
      throw new NotLoggedIn('none', `Not logged in${profile === DEFAULT_PROFILE ? '' : ` (profile ${profile})`}`);
    }
    const issuer = normalizeIssuer(input, this.allowInsecureHttp);
    const rememberedClient = remembered && remembered.issuer === issuer ? remembered.client_id : undefined;
    const clientId = this.options.client ?? env.DEVICEGATE_CLIENT_ID ?? rememberedClient ?? DEFAULT_CLIENT_ID;
    this.lastTarget = { issuer, clientId, profile };
    return this.lastTarget;
  }

  deviceLogin(target: Target): DeviceLogin {
    return new DeviceLogin({
      ...target,
      store: this.store,
      configDirectory: this.configDirectory,
      allowInsecureHttp: this.allowInsecureHttp,
      fetch: this.io.fetch,
      clock: this.io.clock,
      userAgent: `devicegate-cli/${VERSION} node/${process.versions.node} ${this.io.platform}`,
    });
  }

  launchBrowser(command: BrowserCommand): boolean {
    return (this.io.launchBrowser ?? launchBrowser)(command);
  }
}

function parse(argv: string[]): { options: CliOptions; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
    return { options: values as CliOptions, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

function commandName(positionals: string[]): { name: string; args: string[] } {
  const [first, second, ...rest] = positionals;
  if (first === 'devices' && second === 'revoke') return { name: 'devices revoke', args: rest };
  if (first === 'audit') {
    if (second !== 'export' && second !== 'verify') throw new UsageError('audit needs a subcommand: export or verify');
    return { name: `audit ${second}`, args: rest };
  }
  if (first === 'clients') {
    if (!['list', 'create', 'disable', 'enable'].includes(second ?? '')) throw new UsageError('clients needs a subcommand: list, create, disable or enable');
    return { name: `clients ${second}`, args: rest };
  }
  return { name: first ?? 'help', args: second === undefined ? rest : [second, ...rest] };
}

async function dispatch(context: CommandContext, name: string): Promise<number> {
  switch (name) {
    case 'login':
      return login(context);
    case 'whoami':
      return whoami(context);
    case 'token':
      return token(context);
    case 'logout':
      return logout(context);
    case 'devices':
      return devices(context);
    case 'devices revoke':
      return revokeDevice(context);
    case 'audit export':
      return auditExport(context);
    case 'audit verify':
      return auditVerify(context);
    case 'clients list':
      return listClients(context);
    case 'clients create':
      return createClient(context);
    case 'clients disable':
      return setClientEnabled(context, false);
    case 'clients enable':
      return setClientEnabled(context, true);
    default:
      context.out.line(HELP);
      return EXIT.ok;
  }
}

/** Runs one command line; resolves with the exit code and never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const jsonMode = argv.includes('--json');
  let out = new Output(io.stdout, io.stderr, jsonMode, io.env);
  let command: string | undefined;
  let context: CommandContext | undefined;
  try {
    const { options, positionals } = parse(argv);
    out = new Output(io.stdout, io.stderr, Boolean(options.json), io.env);
    if (options.version) {
      out.line(options.json ? JSON.stringify({ version: VERSION }) : `devicegate ${VERSION}`);
      return EXIT.ok;
    }
    const { name, args } = commandName(positionals);
    command = name;
    const spec = COMMANDS[name];
    if (!spec) throw new UsageError(`Unknown command "${positionals.join(' ')}"`);
    if (options.help || name === 'help') {
      out.line(HELP);
      return EXIT.ok;
    }
    for (const option of Object.keys(options)) {
      if (!GLOBAL.includes(option) && !spec.options.includes(option)) throw new UsageError(`${name} takes no --${option}`);
    }
    if (ONE_ARGUMENT[name] && args.length !== 1) throw new UsageError(`Usage: ${ONE_ARGUMENT[name]}`);
    if (args.length > spec.positionals) throw new UsageError(`${name} takes no argument "${args[0]}"`);
    context = new CommandContext(io, out, options, args);
    return await dispatch(context, name);
  } catch (error) {
    const failure = describeFailure(error, { clientId: context?.lastTarget?.clientId, command });
    out.failure(failure);
    return failure.exitCode;
  }
}
