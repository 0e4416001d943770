import { hostname } from 'node:os';
import type { DeviceAuthorization, PollEvent } from '../device-flow.client';
import { systemClock } from '../monotonic-clock';
import { encodeQr } from '../qr/qr-code';
import { renderQr } from '../qr/qr-terminal';
import type { Credential } from '../store/credential';
import { browserCommand } from './browser';
import type { CommandContext } from './cli';
import { readCliConfig, writeCliConfig } from './cli-config';
import { UsageError } from './cli-errors';
import { EXIT } from './exit-codes';
import { printable, type Spinner } from './output';

/** devicegate takes 1–64 printable characters; the host name by default. */
export function deviceLabel(input: string | undefined): string {
  const label = (input ?? hostname()).replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim();
  if (input !== undefined && (label.length === 0 || [...label].length > 64)) throw new UsageError('--label must be 1 to 64 printable characters');
  return [...(label || 'device')].slice(0, 64).join('');
}

function clock(seconds: number): string {
  const whole = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

export function describeUser(credential: Credential): string {
  const subject = credential.subject;
  if (!subject) return '';
  const name = subject.name && subject.email ? `${subject.name} <${subject.email}>` : (subject.email ?? subject.name ?? subject.sub ?? '');
  return name ? ` as ${printable(name)}` : '';
}

/** devicegate login: the device flow on a terminal. */
export async function login(context: CommandContext): Promise<number> {
  const { out, options, io } = context;
  const target = await context.target(true);
  const label = deviceLabel(options.label);
  const auth = context.deviceLogin(target);
  const showQr = options['no-qr'] ? false : (options.qr ?? out.interactive);
  let spinner: Spinner | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let authorization: DeviceAuthorization | undefined;
  let interval = 0;
  const waiting = () => {
    const left = authorization ? (authorization.receivedAt + authorization.expiresIn * 1000 - (io.clock ?? systemClock).now()) / 1000 : 0;
    return `Waiting for approval… (the code ${authorization?.userCode} expires in ${clock(left)})`;
  };
  const onCode = (codes: DeviceAuthorization) => {
    authorization = codes;
    interval = codes.interval;
    const page = codes.verificationUriComplete ?? codes.verificationUri;
    const browser = browserCommand(page, { platform: io.platform, env: io.env, interactive: Boolean(io.stdout.isTTY || io.stderr.isTTY) }, options['no-browser']);
    const opened = typeof browser !== 'string' && context.launchBrowser(browser);
    if (out.jsonMode) {
      out.json({
        event: 'code',
        user_code: codes.userCode,
        verification_uri: codes.verificationUri,
        verification_uri_complete: codes.verificationUriComplete ?? null,
        expires_in: codes.expiresIn,
        interval: codes.interval,
        browser_opened: opened,
      });
      return;
    }
    out.line(`To log in to ${out.bold(target.issuer)}, open this page on a device you trust:`);
    out.line();
    out.line(`    ${printable(codes.verificationUri)}`);
    out.line();
    out.line(`and enter the code:  ${out.bold(printable(codes.userCode))}`);
    if (showQr && codes.verificationUriComplete) {
      out.line();
      out.line('Or scan this with your phone (the page opens with the code filled in; check it matches):');
      out.line();
      out.line(renderQr(encodeQr(codes.verificationUriComplete), { color: out.color }));
    }
    out.line();
    if (opened) out.line(`Opened your browser at ${printable(page)}; check that it shows the same code.`);
    if (out.interactive) {
      spinner = out.spinner(waiting());
      ticker = setInterval(() => spinner?.update(waiting()), 1000);
      ticker.unref();
    } else {
      out.line(`Waiting for approval (checking every ${codes.interval} s; the code expires in ${clock(codes.expiresIn)})…`);
    }
  };
  const onEvent = (event: PollEvent) => {
    if (out.jsonMode) {
      if (event.type === 'retry') out.json({ event: 'retry', error: event.error.code, message: event.error.message, retry_in: event.retryInMs / 1000 });
      else out.json({ event: event.type, interval: event.interval });
      return;
    }
    if (event.type === 'slow_down') {
      interval = event.interval;
      spinner?.stop();
      out.line(`The server asked to slow down: checking every ${interval} s.`);
      if (spinner) spinner = out.spinner(waiting());
    } else if (event.type === 'retry') {
      spinner?.stop();
      out.line(`${printable(event.error.message)}; trying again in ${Math.round(event.retryInMs / 1000)} s.`);
      if (spinner) spinner = out.spinner(waiting());
    }
  };
  let credential: Credential;
  try {
    credential = await auth.login({ scope: options.scope, deviceLabel: label, signal: io.signal, onCode, onEvent });
  } finally {
    clearInterval(ticker);
    spinner?.stop();
  }
  const config = await readCliConfig(context.configDirectory);
  config.profiles[target.profile] = { issuer: target.issuer, client_id: target.clientId };
  await writeCliConfig(context.configDirectory, config);
  if (out.jsonMode) {
    out.json({
      event: 'logged_in',
      issuer: target.issuer,
      client_id: target.clientId,
      profile: target.profile,
      user: credential.subject ?? null,
      device_label: credential.deviceLabel ?? null,
      scope: credential.scope ?? null,
      expires_at: credential.expiresAt ?? null,
      refreshable: Boolean(credential.refreshToken),
      store: { kind: context.store.kind, location: context.store.location },
      ...(options['show-token'] ? { access_token: credential.accessToken } : {}),
    });
    return EXIT.ok;
  }
  out.line(`${out.green('✓')} Logged in to ${target.issuer}${describeUser(credential)}.`);
  const details = [
    `device ${printable(credential.deviceLabel)}`,
    credential.scope ? `scopes ${printable(credential.scope.join(' '))}` : undefined,
    credential.expiresAt ? `token expires ${credential.expiresAt}` : undefined,
    credential.refreshToken ? 'refreshed automatically' : undefined,
  ].filter(Boolean);
  out.line(`  ${details.join(' · ')}`);
  out.line(`  Stored in ${context.store.location}.`);
  if (options['show-token']) out.line(`  Access token: ${credential.accessToken}`);
  return EXIT.ok;
}
