import { DevicegateApi } from '../devicegate-api';
import { NotLoggedIn } from '../errors';
import type { CommandContext } from './cli';
import { readCliConfig, writeCliConfig } from './cli-config';
import { EXIT } from './exit-codes';
import { printable } from './output';

/** devicegate whoami: GET /v1/me with the stored login (refreshed when due). */
export async function whoami(context: CommandContext): Promise<number> {
  const { out, options, io } = context;
  const target = await context.target();
  const auth = context.deviceLogin(target);
  const me = await new DevicegateApi(auth).me(io.signal);
  const login = { issuer: target.issuer, client_id: target.clientId, profile: target.profile, store: context.store.kind };
  const token = options['show-token'] ? await auth.accessToken() : undefined;
  if (out.jsonMode) {
    out.json({ ...me, login, ...(token ? { access_token: token } : {}) });
    return EXIT.ok;
  }
  const who = me.name ? `${me.name} <${me.email}>` : me.email;
  out.line(`Logged in to ${target.issuer} as ${out.bold(printable(who))}`);
  const rows: [string, unknown][] = [
    ['organization', me.organization ?? '—'],
    ['client', me.client_id],
    ['device', me.device_label ?? '—'],
    ['scopes', me.scopes.join(' ') || '—'],
    ['expires', me.expires_at],
    ['authorization', me.authorization_id],
    ['profile', target.profile],
  ];
  for (const [name, value] of rows) out.line(`  ${name.padEnd(14)}${printable(value)}`);
  if (token) out.line(`  ${'access token'.padEnd(14)}${token}`);
  return EXIT.ok;
}

/** devicegate token: the access token alone on stdout, for `$(devicegate token)`. */
export async function token(context: CommandContext): Promise<number> {
  const { out } = context;
  const auth = context.deviceLogin(await context.target());
  const accessToken = await auth.accessToken();
  if (out.jsonMode) {
    const credential = await auth.credential();
    out.json({ access_token: accessToken, token_type: 'Bearer', expires_at: credential?.expiresAt ?? null });
  } else {
    out.line(accessToken);
  }
  return EXIT.ok;
}

const OUTCOMES = {
  revoked: 'the login was revoked',
  revocation_requested: 'revocation was requested (RFC 7009)',
  already_invalid: 'the server had already ended the login',
  not_revoked: 'the server could not be reached, so the login was NOT revoked there (--force)',
} as const;

/** devicegate logout: revoke at the server, then delete here. */
export async function logout(context: CommandContext): Promise<number> {
  const { out, options, io } = context;
  const target = await context.target();
  const result = await context.deviceLogin(target).logout({ signal: io.signal, force: options.force });
  if (!result.removed) throw new NotLoggedIn('none', `Not logged in to ${target.issuer}`);
  const config = await readCliConfig(context.configDirectory);
  if (config.profiles[target.profile]?.issuer === target.issuer) {
    delete config.profiles[target.profile];
    await writeCliConfig(context.configDirectory, config);
  }
  if (out.jsonMode) {
    out.json({ logged_out: true, issuer: target.issuer, client_id: target.clientId, profile: target.profile, revocation: result.outcome });
  } else {
    out.line(`Logged out of ${target.issuer}: ${OUTCOMES[result.outcome]}, and the stored login was deleted.`);
  }
  return EXIT.ok;
}
