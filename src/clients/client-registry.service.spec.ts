import type { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { sha256Hex } from '../common/crypto';
import { InvalidClient, InvalidRequest } from '../common/oauth-errors';
import { type AppConfig, type ClientDefinition, DEVICE_CODE_GRANT } from '../config/app-config';
import { CLIENT_CACHE_TTL_MS, ClientRegistry } from './client-registry.service';
import type { ClientsRepository } from './clients.repository';

class FakeClock extends Clock {
  private current = 1_700_000_000_000;

  override now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }
}

const CONFIDENTIAL_SECRET = 'a confidential secret: with spaces, colons & a plus+sign/=';

function client(overrides: Partial<ClientDefinition> & Pick<ClientDefinition, 'clientId'>): ClientDefinition {
  return {
    name: overrides.clientId,
    type: 'public',
    grantTypes: [DEVICE_CODE_GRANT],
    allowedScopes: ['profile'],
    defaultScopes: ['profile'],
    enabled: true,
    ...overrides,
  };
}

const CONFIGURED = {
  cli: client({ clientId: 'cli' }),
  service: client({ clientId: 'svc:reporting', type: 'confidential', secretHash: sha256Hex(CONFIDENTIAL_SECRET) }),
  disabled: client({ clientId: 'disabled', enabled: false }),
};

function basic(id: string, secret: string, encode = true): string {
  const pair = encode ? `${encodeURIComponent(id)}:${encodeURIComponent(secret)}` : `${id}:${secret}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

async function failure(promise: Promise<unknown>): Promise<InvalidClient | InvalidRequest> {
  try {
    await promise;
  } catch (error) {
    return error as InvalidClient | InvalidRequest;
  }
  throw new Error('expected the authentication to fail');
}

describe('ClientRegistry', () => {
  let repository: { find: jest.Mock<Promise<ClientDefinition | undefined>, [string]> };
  let clock: FakeClock;
  let registry: ClientRegistry;

  beforeEach(() => {
    repository = { find: jest.fn(async (_clientId: string): Promise<ClientDefinition | undefined> => undefined) };
    clock = new FakeClock();
    const config = { clients: Object.values(CONFIGURED) } as unknown as AppConfig;
    registry = new ClientRegistry(config, repository as unknown as ClientsRepository, clock, {} as AuditService);
  });

  describe('find', () => {
    it('answers a client of the config file without asking the database', async () => {
      repository.find.mockResolvedValue(client({ clientId: 'cli', name: 'shadowed by the database' }));
      await expect(registry.find('cli')).resolves.toBe(CONFIGURED.cli);
      expect(repository.find).not.toHaveBeenCalled();
    });

    it('asks the database for any other client and keeps the answer for CLIENT_CACHE_TTL_MS', async () => {
      const stored = client({ clientId: 'db-client' });
      repository.find.mockResolvedValue(stored);

      await expect(registry.find('db-client')).resolves.toEqual(stored);
      clock.advance(CLIENT_CACHE_TTL_MS - 1);
      await expect(registry.find('db-client')).resolves.toEqual(stored);
      expect(repository.find).toHaveBeenCalledTimes(1);
      expect(repository.find).toHaveBeenCalledWith('db-client');

      const changed = client({ clientId: 'db-client', enabled: false });
      repository.find.mockResolvedValue(changed);
      clock.advance(1);
      await expect(registry.find('db-client')).resolves.toEqual(changed);
      expect(repository.find).toHaveBeenCalledTimes(2);
    });

    it('caches the absence of a client too, and forgets it after the TTL', async () => {
      await expect(registry.find('nobody')).resolves.toBeUndefined();
      await expect(registry.find('nobody')).resolves.toBeUndefined();
      expect(repository.find).toHaveBeenCalledTimes(1);

      const registered = client({ clientId: 'nobody' });
      repository.find.mockResolvedValue(registered);
      clock.advance(CLIENT_CACHE_TTL_MS);
      await expect(registry.find('nobody')).resolves.toEqual(registered);
      expect(repository.find).toHaveBeenCalledTimes(2);
    });

    it('caches each client id on its own', async () => {
      repository.find.mockImplementation(async (clientId) => client({ clientId }));
      await registry.find('one');
      await registry.find('two');
      await registry.find('one');
      expect(repository.find.mock.calls).toEqual([['one'], ['two']]);
    });

    it('does not ask the database about an id no client can have', async () => {
      for (const clientId of ['test-cli\u0000', 'tab\there', 'x'.repeat(129)]) {
        await expect(registry.find(clientId)).resolves.toBeUndefined();
        await expect(registry.authenticate({ clientId })).rejects.toBeInstanceOf(InvalidClient);
      }
      expect(repository.find).not.toHaveBeenCalled();
      await registry.find('x'.repeat(128));
      expect(repository.find).toHaveBeenCalledTimes(1);
    });

    it('does not cache a database failure', async () => {
      repository.find.mockRejectedValueOnce(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
      await expect(registry.find('db-client')).rejects.toThrow('ECONNREFUSED');
      const stored = client({ clientId: 'db-client' });
      repository.find.mockResolvedValue(stored);
      await expect(registry.find('db-client')).resolves.toEqual(stored);
    });
  });

  describe('authenticate (RFC 6749 §2.3)', () => {
    it('accepts a public client by client_id alone', async () => {
      await expect(registry.authenticate({ clientId: 'cli' })).resolves.toBe(CONFIGURED.cli);
    });

    it('accepts a public client registered in the database', async () => {
      const stored = client({ clientId: 'db-cli' });
      repository.find.mockResolvedValue(stored);
      await expect(registry.authenticate({ clientId: 'db-cli' })).resolves.toEqual(stored);
    });

    it('accepts client_secret_post', async () => {
      await expect(registry.authenticate({ clientId: 'svc:reporting', clientSecret: CONFIDENTIAL_SECRET })).resolves.toBe(
        CONFIGURED.service,
      );
    });

    it('accepts client_secret_basic with a url-encoded id and secret', async () => {
      const header = basic('svc:reporting', CONFIDENTIAL_SECRET);
      expect(Buffer.from(header.slice(6), 'base64').toString()).toContain('svc%3Areporting:');
      await expect(registry.authenticate({ authorization: header })).resolves.toBe(CONFIGURED.service);
    });

    it('decodes + in client_secret_basic as a space (application/x-www-form-urlencoded)', async () => {
      const secret = 'plus as space secret 0123456789abcdef';
      const stored = client({ clientId: 'db-svc', type: 'confidential', secretHash: sha256Hex(secret) });
      repository.find.mockResolvedValue(stored);
      const header = `Basic ${Buffer.from(`db-svc:${secret.replace(/ /g, '+')}`).toString('base64')}`;
      await expect(registry.authenticate({ authorization: header })).resolves.toEqual(stored);
    });

    it('accepts a secret with a colon sent without encoding (only the first colon separates)', async () => {
      const secret = 'a:b:c-secret-0123456789abcdefghijkl';
      const stored = client({ clientId: 'db-svc', type: 'confidential', secretHash: sha256Hex(secret) });
      repository.find.mockResolvedValue(stored);
      await expect(registry.authenticate({ authorization: basic('db-svc', secret, false) })).resolves.toEqual(stored);
    });

    it('accepts the scheme name in any case and a body client_id equal to the Basic one', async () => {
      const header = basic('svc:reporting', CONFIDENTIAL_SECRET).replace('Basic', 'bAsIc');
      await expect(registry.authenticate({ authorization: header, clientId: 'svc:reporting' })).resolves.toBe(CONFIGURED.service);
    });

    it('ignores an Authorization header of another scheme', async () => {
      await expect(registry.authenticate({ authorization: 'Bearer abc.def', clientId: 'cli' })).resolves.toBe(CONFIGURED.cli);
    });

    describe('refuses', () => {
      it('two authentication methods at once, with invalid_request', async () => {
        const error = await failure(
          registry.authenticate({ authorization: basic('svc:reporting', CONFIDENTIAL_SECRET), clientSecret: CONFIDENTIAL_SECRET }),
        );
        expect(error).toBeInstanceOf(InvalidRequest);
      });

      it('a body client_id that differs from the Basic one, with invalid_request', async () => {
        const error = await failure(
          registry.authenticate({ authorization: basic('svc:reporting', CONFIDENTIAL_SECRET), clientId: 'cli' }),
        );
        expect(error).toBeInstanceOf(InvalidRequest);
        expect(error.description).toBe('client_id in the body does not match the Authorization header');
      });

      it('a request without client_id, with invalid_client (challenging only when a header was sent)', async () => {
        const bare = await failure(registry.authenticate({}));
        expect(bare).toBeInstanceOf(InvalidClient);
        expect(bare.description).toBe('client_id is missing');
        expect(bare.headers['WWW-Authenticate']).toBeUndefined();

        const withHeader = await failure(registry.authenticate({ authorization: 'Bearer abc' }));
        expect(withHeader).toBeInstanceOf(InvalidClient);
        expect(withHeader.headers['WWW-Authenticate']).toBe('Basic realm="devicegate"');
      });

      it('an unknown client', async () => {
        const error = await failure(registry.authenticate({ clientId: 'nobody' }));
        expect(error).toBeInstanceOf(InvalidClient);
        expect(error.description).toBe('Unknown or disabled client');
        expect(error.headers['WWW-Authenticate']).toBeUndefined();
      });

      it('an unknown client sent with Basic, with the challenge', async () => {
        const error = await failure(registry.authenticate({ authorization: basic('nobody', 'whatever-secret') }));
        expect(error).toBeInstanceOf(InvalidClient);
        expect(error.headers['WWW-Authenticate']).toBe('Basic realm="devicegate"');
      });

      it('a disabled client, from the config file or the database', async () => {
        await expect(registry.authenticate({ clientId: 'disabled' })).rejects.toBeInstanceOf(InvalidClient);
        repository.find.mockResolvedValue(client({ clientId: 'db-off', enabled: false }));
        await expect(registry.authenticate({ clientId: 'db-off' })).rejects.toBeInstanceOf(InvalidClient);
      });

      it('a secret sent by a public client', async () => {
        const post = await failure(registry.authenticate({ clientId: 'cli', clientSecret: 'anything' }));
        expect(post).toBeInstanceOf(InvalidClient);
        expect(post.description).toBe('A public client has no secret to send');
        const viaBasic = await failure(registry.authenticate({ authorization: basic('cli', 'anything') }));
        expect(viaBasic).toBeInstanceOf(InvalidClient);
        expect(viaBasic.headers['WWW-Authenticate']).toBe('Basic realm="devicegate"');
      });

      it('a confidential client without its secret, with the challenge', async () => {
        const error = await failure(registry.authenticate({ clientId: 'svc:reporting' }));
        expect(error).toBeInstanceOf(InvalidClient);
        expect(error.description).toBe('This client must authenticate with its secret');
        expect(error.headers['WWW-Authenticate']).toBe('Basic realm="devicegate"');
      });

      it('a wrong secret (post: no challenge; basic: challenge)', async () => {
        const post = await failure(registry.authenticate({ clientId: 'svc:reporting', clientSecret: `${CONFIDENTIAL_SECRET}x` }));
        expect(post).toBeInstanceOf(InvalidClient);
        expect(post.description).toBe('Client authentication failed');
        expect(post.headers['WWW-Authenticate']).toBeUndefined();

        const viaBasic = await failure(registry.authenticate({ authorization: basic('svc:reporting', 'wrong') }));
        expect(viaBasic).toBeInstanceOf(InvalidClient);
        expect(viaBasic.headers['WWW-Authenticate']).toBe('Basic realm="devicegate"');
      });

      it('the secret sent without url-encoding when it needs it', async () => {
        // '+' decodes to a space, so the raw secret no longer matches.
        const error = await failure(registry.authenticate({ authorization: basic('svc:reporting', CONFIDENTIAL_SECRET, false) }));
        expect(error).toBeInstanceOf(InvalidClient);
      });

      it('a confidential client of the database without a stored secret', async () => {
        repository.find.mockResolvedValue(client({ clientId: 'db-svc', type: 'confidential' }));
        await expect(registry.authenticate({ clientId: 'db-svc', clientSecret: 'anything' })).rejects.toBeInstanceOf(InvalidClient);
      });

      it.each([
        ['no colon', `Basic ${Buffer.from('svc-reporting').toString('base64')}`],
        ['characters outside base64', 'Basic !!!not*base64!!!'],
        ['nothing after the scheme', 'Basic'],
        ['two credentials', `Basic ${Buffer.from('a:b').toString('base64')} ${Buffer.from('c:d').toString('base64')}`],
        ['a broken percent-escape', `Basic ${Buffer.from('svc%3Areporting:%E0%A4%A').toString('base64')}`],
        ['a lone percent sign in the id', `Basic ${Buffer.from('svc%:secret').toString('base64')}`],
      ])('a malformed Basic header (%s), with the challenge', async (_what, header) => {
        const error = await failure(registry.authenticate({ authorization: header }));
        expect(error).toBeInstanceOf(InvalidClient);
        expect(error.headers['WWW-Authenticate']).toBe('Basic realm="devicegate"');
        expect(repository.find).not.toHaveBeenCalled();
      });
    });
  });
});
