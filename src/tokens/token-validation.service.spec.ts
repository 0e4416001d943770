import type { ClientRegistry } from '../clients/client-registry.service';
import { Clock } from '../common/clock';
import { sha256Hex } from '../common/crypto';
import { Metrics } from '../common/metrics';
import type { AppConfig, ClientDefinition } from '../config/app-config';
import type { LastUsedService } from './last-used.service';
import { MemoryTokenCacheStore, type TokenCacheStore } from './token-cache.store';
import { generateToken } from './token-format';
import { TokenValidationService } from './token-validation.service';
import type { TokenRecord, TokensRepository } from './tokens.repository';

const CLIENT = { clientId: 'cli', enabled: true, allowedScopes: ['read'] } as ClientDefinition;

function row(): TokenRecord {
  const now = Date.now();
  return {
    id: 'a1',
    kind: 'dgat',
    subjectId: 's1',
    subjectIssuer: 'urn:devicegate:local',
    subjectExternalId: 'alice',
    subjectEmail: 'alice@example.com',
    subjectName: 'Alice',
    clientId: 'cli',
    deviceLabel: '',
    scopes: ['read'],
    organizationId: null,
    createdAt: new Date(now),
    issuedAt: new Date(now),
    expiresAt: new Date(now + 3600_000),
    revokedAt: null,
  };
}

function service(cache: TokenCacheStore, tokens: Partial<TokensRepository>, metrics = new Metrics()): TokenValidationService {
  return new TokenValidationService(
    { scopes: [{ name: 'read', description: 'Read' }], tokenCacheTtlSeconds: 60, tokenSharedCacheTtlSeconds: 60 } as AppConfig,
    tokens as TokensRepository,
    cache,
    { known: () => undefined, find: async () => CLIENT } as unknown as ClientRegistry,
    { touch: () => undefined } as unknown as LastUsedService,
    metrics,
    new Clock(),
  );
}

describe('TokenValidationService', () => {
  it('does not cache a row it read before a revocation that landed while it was reading', async () => {
    const cache = new MemoryTokenCacheStore(new Clock());
    let answer!: (record: TokenRecord) => void;
    const findByHash = jest
      .fn()
      .mockImplementationOnce(() => new Promise<TokenRecord>((resolve) => (answer = resolve)))
      .mockResolvedValue({ ...row(), revokedAt: new Date() });
    const validation = service(cache, { findByHash });
    const token = generateToken('dgat');

    const inFlight = validation.validate(token);
    await new Promise((resolve) => setImmediate(resolve));
    await validation.invalidate([sha256Hex(token)]);
    answer(row());
    await inFlight;

    // Neither this instance's cache nor the shared one kept the stale row: the next check is refused.
    expect(await validation.validate(token)).toBeUndefined();
    cache.onApplicationShutdown();
  });

  it('counts the instances that did not confirm an invalidation in time, and still succeeds', async () => {
    const cache = new MemoryTokenCacheStore(new Clock());
    jest.spyOn(cache, 'invalidate').mockResolvedValue({ unconfirmed: 2 });
    const metrics = new Metrics();
    await service(cache, {}, metrics).invalidate([sha256Hex(generateToken('dgat'))]);
    expect((await metrics.tokenInvalidationsUnconfirmed.get()).values[0].value).toBe(2);
    cache.onApplicationShutdown();
  });
});
