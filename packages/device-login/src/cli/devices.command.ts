import { DevicegateApi } from '../devicegate-api';
import type { CommandContext } from './cli';
import { EXIT } from './exit-codes';
import { printable } from './output';

function ago(at: string | undefined, now: number): string {
  if (!at) return 'never';
  const seconds = Math.max(0, Math.round((now - Date.parse(at)) / 1000));
  if (seconds < 10) return 'just now';
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

/** devicegate devices: GET /v1/oauth/authorizations as a table. */
export async function devices(context: CommandContext): Promise<number> {
  const { out, io } = context;
  const authorizations = await new DevicegateApi(context.deviceLogin(await context.target())).authorizations(io.signal);
  if (out.jsonMode) {
    out.json({ authorizations });
    return EXIT.ok;
  }
  if (authorizations.length === 0) {
    out.line('No live device logins.');
    return EXIT.ok;
  }
  const now = Date.now();
  out.table(
    ['ID', 'CLIENT', 'DEVICE', 'SCOPES', 'LAST USED', 'EXPIRES'],
    authorizations.map((entry) => [
      `${entry.current ? '* ' : '  '}${printable(entry.id)}`,
      printable(entry.client.name),
      printable(entry.device_label ?? '—'),
      printable(entry.scopes.join(' ')),
      entry.last_used ? `${ago(entry.last_used.at, now)}${entry.last_used.ip ? ` from ${printable(entry.last_used.ip)}` : ''}` : 'never',
      printable(entry.expires_at.slice(0, 10)),
    ]),
  );
  out.line(out.dim('* this device'));
  return EXIT.ok;
}

/** devicegate devices revoke ID: DELETE /v1/oauth/authorizations/:id; revoking this device's own login also deletes it here. */
export async function revokeDevice(context: CommandContext): Promise<number> {
  const { out, io, args } = context;
  const id = args[0];
  const target = await context.target();
  const auth = context.deviceLogin(target);
  const stored = await auth.credential();
  await new DevicegateApi(auth).revokeAuthorization(id, io.signal);
  const current = stored?.subject?.authorizationId === id;
  if (current) await auth.store.delete(auth.key);
  if (out.jsonMode) {
    out.json({ revoked: id, current });
  } else {
    out.line(`Revoked ${printable(id)}.${current ? ' That was this device’s login: you are logged out here too.' : ''}`);
  }
  return EXIT.ok;
}
