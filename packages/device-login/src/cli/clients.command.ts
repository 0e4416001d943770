import { DevicegateApi, type NewClient } from '../devicegate-api';
import { DEVICE_CODE_GRANT } from '../discovery';
import type { CommandContext } from './cli';
import { UsageError } from './cli-errors';
import { EXIT } from './exit-codes';
import { printable } from './output';

const GRANTS: Record<string, string> = { device_code: DEVICE_CODE_GRANT, [DEVICE_CODE_GRANT]: DEVICE_CODE_GRANT, refresh_token: 'refresh_token' };

function words(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(/[\s,]+/).filter(Boolean);
}

function shortGrant(grant: string): string {
  return grant === DEVICE_CODE_GRANT ? 'device_code' : grant;
}

/** The body of POST /v1/admin/clients from the options; the server checks it with the config file's rules. */
export function newClient(options: CommandContext['options']): NewClient {
  if (!options.name) throw new UsageError('clients create needs --name');
  const type = options.type ?? 'public';
  if (type !== 'public' && type !== 'confidential') throw new UsageError('--type is public or confidential');
  const grants = words(options['grant-types'])?.map((grant) => {
    const known = GRANTS[grant];
    if (!known) throw new UsageError(`--grant-types takes device_code and refresh_token, not ${grant}`);
    return known;
  });
  let pollInterval: number | undefined;
  if (options['poll-interval'] !== undefined) {
    pollInterval = Number(options['poll-interval']);
    if (!Number.isInteger(pollInterval)) throw new UsageError('--poll-interval is a whole number of seconds');
  }
  return {
    ...(options.id ? { client_id: options.id } : {}),
    name: options.name,
    type,
    scopes: words(options.scopes) ?? [],
    ...(options['default-scopes'] !== undefined ? { default_scopes: words(options['default-scopes']) } : {}),
    ...(grants ? { grant_types: grants } : {}),
    ...(options.organization ? { organization: options.organization } : {}),
    ...(pollInterval !== undefined ? { poll_interval: pollInterval } : {}),
  };
}

/** devicegate clients list: GET /v1/admin/clients (needs `admin`). */
export async function listClients(context: CommandContext): Promise<number> {
  const { out, io } = context;
  const clients = await new DevicegateApi(context.deviceLogin(await context.target())).clients(io.signal);
  if (out.jsonMode) {
    out.json({ clients });
    return EXIT.ok;
  }
  out.table(
    ['CLIENT ID', 'NAME', 'TYPE', 'SOURCE', 'ENABLED', 'GRANTS', 'SCOPES'],
    clients.map((client) => [
      printable(client.client_id),
      printable(client.name),
      client.type + (client.resource_server ? ' (resource server)' : ''),
      client.source,
      client.enabled ? 'yes' : 'no',
      client.grant_types.map(shortGrant).join(' ') || '—',
      printable(client.scopes.join(' ')) || '—',
    ]),
  );
  return EXIT.ok;
}

/** devicegate clients create: POST /v1/admin/clients; a confidential client's secret is printed this once. */
export async function createClient(context: CommandContext): Promise<number> {
  const { out, io } = context;
  const body = newClient(context.options);
  const created = await new DevicegateApi(context.deviceLogin(await context.target())).createClient(body, io.signal);
  if (out.jsonMode) {
    out.json(created);
    return EXIT.ok;
  }
  out.line(`${out.green('✓')} Registered ${created.type} client ${out.bold(printable(created.client_id))} (${printable(created.name)}).`);
  out.line(`  grants ${created.grant_types.map(shortGrant).join(' ') || '—'} · scopes ${printable(created.scopes.join(' ')) || '—'}`);
  if (created.client_secret) {
    out.line(`  client secret: ${created.client_secret}`);
    out.line('  It is shown this once (devicegate keeps only its hash): store it now.');
  }
  return EXIT.ok;
}

/** devicegate clients disable|enable ID: PATCH /v1/admin/clients/:id (database clients; config clients change in the file). */
export async function setClientEnabled(context: CommandContext, enabled: boolean): Promise<number> {
  const { out, io, args } = context;
  const changed = await new DevicegateApi(context.deviceLogin(await context.target())).setClientEnabled(args[0], enabled, io.signal);
  if (out.jsonMode) out.json(changed);
  else out.line(`${enabled ? 'Enabled' : 'Disabled'} client ${printable(changed.client_id)}.`);
  return EXIT.ok;
}
