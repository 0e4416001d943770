import { CredentialStoreError } from '../errors';
import type { Credential } from './credential';
import { type CommandResult, LibsecretCredentialStore, MacosKeychainCredentialStore } from './keychain-credential.store';

const KEY = { issuer: 'https://login.example.com', clientId: 'acme-cli', profile: 'default' };
const CREDENTIAL: Credential = { version: 1, ...KEY, accessToken: 'dgat_secret', tokenType: 'Bearer', obtainedAt: '2030-01-01T00:00:00.000Z' };

/** Records the commands; answers from a script. */
function fakeRunner(...answers: Partial<CommandResult>[]) {
  const calls: { command: string; args: string[]; input?: string }[] = [];
  const runner = async (command: string, args: string[], input?: string): Promise<CommandResult> => {
    calls.push({ command, args, input });
    return { code: 0, stdout: '', stderr: '', ...(answers.length > 1 ? answers.shift() : answers[0]) };
  };
  return { calls, runner };
}

describe('MacosKeychainCredentialStore', () => {
  it('adds the item through `security -i` with the secret as hex on stdin, never in the arguments', async () => {
    const { calls, runner } = fakeRunner({ code: 0 });
    await new MacosKeychainCredentialStore('/usr/bin/security', runner).save(CREDENTIAL);
    expect(calls).toHaveLength(1);
    expect(calls[0].command).toBe('/usr/bin/security');
    expect(calls[0].args).toEqual(['-i']);
    const hex = Buffer.from(JSON.stringify(CREDENTIAL)).toString('hex');
    expect(calls[0].input).toBe(
      `add-generic-password -U -s devicegate -a "default:acme-cli@https://login.example.com" -l "devicegate https://login.example.com (acme-cli, default)" -X ${hex}\n`,
    );
    expect(JSON.stringify(calls[0].args)).not.toContain('dgat_');
  });

  it('reads the item back (text or hex), and says undefined for errSecItemNotFound (44)', async () => {
    const text = JSON.stringify(CREDENTIAL);
    const { calls, runner } = fakeRunner({ stdout: `${text}\n` }, { stdout: `${Buffer.from(text).toString('hex')}\n` }, { code: 44, stderr: 'not found' });
    const store = new MacosKeychainCredentialStore('/usr/bin/security', runner);
    expect(await store.load(KEY)).toEqual(CREDENTIAL);
    expect(await store.load(KEY)).toEqual(CREDENTIAL);
    expect(await store.load(KEY)).toBeUndefined();
    expect(calls[0].args).toEqual(['find-generic-password', '-s', 'devicegate', '-a', 'default:acme-cli@https://login.example.com', '-w']);
  });

  it('deletes, and reports a keychain failure with the way out', async () => {
    const { runner } = fakeRunner({ code: 0 }, { code: 44 }, { code: 51, stderr: 'User interaction is not allowed.' });
    const store = new MacosKeychainCredentialStore('/usr/bin/security', runner);
    expect(await store.delete(KEY)).toBe(true);
    expect(await store.delete(KEY)).toBe(false);
    await expect(store.load(KEY)).rejects.toThrow('User interaction is not allowed.');
    await expect(store.load(KEY)).rejects.toThrow('DEVICEGATE_CREDENTIAL_STORE=file');
  });
});

describe('LibsecretCredentialStore', () => {
  const ATTRIBUTES = ['service', 'devicegate', 'issuer', KEY.issuer, 'client_id', 'acme-cli', 'profile', 'default'];

  it('stores with attributes and the secret on stdin', async () => {
    const { calls, runner } = fakeRunner({ code: 0 });
    await new LibsecretCredentialStore('/usr/bin/secret-tool', runner).save(CREDENTIAL);
    expect(calls).toEqual([
      {
        command: '/usr/bin/secret-tool',
        args: ['store', '--label=devicegate https://login.example.com (acme-cli, default)', ...ATTRIBUTES],
        input: JSON.stringify(CREDENTIAL),
      },
    ]);
  });

  it('looks up by the same attributes; exit 1 with no output is "none"', async () => {
    const { calls, runner } = fakeRunner({ stdout: JSON.stringify(CREDENTIAL) }, { code: 1 });
    const store = new LibsecretCredentialStore('/usr/bin/secret-tool', runner);
    expect(await store.load(KEY)).toEqual(CREDENTIAL);
    expect(await store.load(KEY)).toBeUndefined();
    expect(calls[0].args).toEqual(['lookup', ...ATTRIBUTES]);
  });

  it('fails clearly when there is no Secret Service to talk to', async () => {
    const { runner } = fakeRunner({ code: 1, stderr: 'secret-tool: Cannot autolaunch D-Bus without X11 $DISPLAY' });
    await expect(new LibsecretCredentialStore('/usr/bin/secret-tool', runner).load(KEY)).rejects.toBeInstanceOf(CredentialStoreError);
  });

  it('clears, saying whether there was an item', async () => {
    const { calls, runner } = fakeRunner({ stdout: JSON.stringify(CREDENTIAL) }, { code: 0 }, { code: 1 }, { code: 0 });
    const store = new LibsecretCredentialStore('/usr/bin/secret-tool', runner);
    expect(await store.delete(KEY)).toBe(true);
    expect(await store.delete(KEY)).toBe(false);
    expect(calls.map((call) => call.args[0])).toEqual(['lookup', 'clear', 'lookup', 'clear']);
  });
});
