import { InvalidIssuer } from '../discovery';
import {
  AccessDenied,
  Cancelled,
  CredentialStoreError,
  ExpiredToken,
  InsecureCredentialFile,
  InsufficientScope,
  InvalidClient,
  InvalidGrant,
  NetworkError,
  NotAvailable,
  NotFound,
  NotLoggedIn,
  ProtocolError,
  RefreshOutcomeUnknown,
  ServerError,
  TemporarilyUnavailable,
  TooManyRequests,
} from '../errors';
import { timeFilter } from './audit.command';
import { browserCommand } from './browser';
import { AuditChainBroken, UsageError } from './cli-errors';
import { describeFailure } from './exit-codes';
import { deviceLabel } from './login.command';
import { printable } from './output';

describe('exit codes', () => {
  it.each([
    { error: new UsageError('x'), exitCode: 1 },
    { error: new InvalidIssuer('x'), exitCode: 1 },
    { error: new Error('bug'), exitCode: 1 },
    { error: new NotLoggedIn('none', 'x'), exitCode: 2 },
    { error: new AccessDenied('access_denied'), exitCode: 3, command: 'login' },
    { error: new ExpiredToken('expired_token'), exitCode: 4 },
    { error: new NetworkError('x', true), exitCode: 5 },
    { error: new ProtocolError('x'), exitCode: 5 },
    { error: new RefreshOutcomeUnknown(), exitCode: 5 },
    { error: new ServerError('server_error'), exitCode: 5 },
    { error: new TemporarilyUnavailable('temporarily_unavailable'), exitCode: 5 },
    { error: new TooManyRequests('too_many_requests', { retryAfter: 3 }), exitCode: 5 },
    { error: new InvalidClient('invalid_client'), exitCode: 6 },
    { error: new InsufficientScope('insufficient_scope', { description: 'This resource needs the scope audit:read' }), exitCode: 6 },
    { error: new AccessDenied('access_denied'), exitCode: 6, command: 'devices' },
    { error: new InvalidGrant('invalid_grant'), exitCode: 6 },
    { error: new NotFound('not_found'), exitCode: 6 },
    { error: new NotAvailable('x'), exitCode: 7 },
    { error: new CredentialStoreError('x'), exitCode: 8 },
    { error: new InsecureCredentialFile('/x', 'has mode 0644'), exitCode: 8 },
    { error: new AuditChainBroken('x'), exitCode: 9 },
    { error: new Cancelled(), exitCode: 130 },
  ] as { error: Error; exitCode: number; command?: string }[])('$error.name exits $exitCode', ({ error, exitCode, command }) => {
    expect(describeFailure(error, { command }).exitCode).toBe(exitCode);
  });

  it('tells how to get a missing scope', () => {
    const failure = describeFailure(new InsufficientScope('insufficient_scope', { description: 'This resource needs the scope audit:read' }));
    expect(failure.hint).toBe('Log in with it: devicegate login --scope "audit:read" (with a client allowed it).');
  });
});

describe('browserCommand', () => {
  const url = 'https://login.example.com/device?user_code=BCDF-GHJK';
  const at = (platform: NodeJS.Platform, env: NodeJS.ProcessEnv = {}, interactive = true) => browserCommand(url, { platform, env, interactive });

  it('opens with the platform opener', () => {
    expect(at('darwin')).toEqual({ command: 'open', args: [url] });
    expect(at('win32')).toEqual({ command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] });
    expect(at('linux', { DISPLAY: ':0' })).toEqual({ command: 'xdg-open', args: [url] });
    expect(at('linux', { WAYLAND_DISPLAY: 'wayland-0' })).toEqual({ command: 'xdg-open', args: [url] });
  });

  it('runs BROWSER when set, with %s or the URL appended', () => {
    expect(at('linux', { BROWSER: 'firefox --new-tab:chromium' })).toEqual({ command: 'firefox', args: ['--new-tab', url] });
    expect(at('linux', { BROWSER: 'w3m %s' })).toEqual({ command: 'w3m', args: [url] });
  });

  it('does not open without a terminal, in CI, over SSH, on Linux without a display, or with --no-browser', () => {
    expect(at('linux', { DISPLAY: ':0' }, false)).toBe('not a terminal');
    expect(at('darwin', { CI: 'true' })).toBe('CI');
    expect(at('darwin', { SSH_CONNECTION: '1 2 3 4' })).toBe('an SSH session');
    expect(at('linux', {})).toBe('no display');
    expect(browserCommand(url, { platform: 'darwin', env: {}, interactive: true }, true)).toBe('--no-browser');
    expect(browserCommand('file:///etc/passwd', { platform: 'darwin', env: {}, interactive: true })).toBe('not a web address');
  });
});

describe('small parts', () => {
  it('reads --since as a duration back from now or an RFC 3339 time', () => {
    const now = Date.parse('2030-01-02T00:00:00Z');
    expect(timeFilter('since', '24h', now)).toBe('2030-01-01T00:00:00.000Z');
    expect(timeFilter('since', '90m', now)).toBe('2030-01-01T22:30:00.000Z');
    expect(timeFilter('since', '2029-12-31T00:00:00Z', now)).toBe('2029-12-31T00:00:00Z');
    expect(timeFilter('since', undefined, now)).toBeUndefined();
    expect(() => timeFilter('since', 'yesterday', now)).toThrow(UsageError);
  });

  it('labels the device with 1–64 printable characters, the host name by default', () => {
    expect(deviceLabel('build-agent-7')).toBe('build-agent-7');
    expect(deviceLabel(undefined).length).toBeGreaterThan(0);
    expect(() => deviceLabel('x'.repeat(65))).toThrow(UsageError);
    expect(() => deviceLabel('\u0007')).toThrow(UsageError);
  });

  it('strips control characters from what a server says before printing it', () => {
    expect(printable('Alice\u001b[2J\u0007 <a@x>')).toBe('Alice[2J <a@x>');
  });
});
