import type { ClientRegistry } from '../clients/client-registry.service';
import { Clock } from '../common/clock';
import { sha256Hex } from '../common/crypto';
import { Metrics } from '../common/metrics';
import type { AppConfig, ClientDefinition } from '../config/app-config';
import type { LastUsedService } from './last-used.service';
import { MemoryTokenCacheStore } from './token-cache.store';
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

describe('TokenValidationService', () => {
  it('does not cache a row it read before a revocation that landed while it was reading', async () => {
    const clock = new Clock();
    const cache = new MemoryTokenCacheStore(clock);
    let answer!: (record: TokenRecord) => void;
    const findByHash = jest
      .fn()
      .mockImplementationOnce(() => new Promise<TokenRecord>((resolve) => (answer = resolve)))
      .mockResolvedValue({ ...row(), revokedAt: new Date() });
    const validation = new TokenValidationService(
      { scopes: [{ name: 'read', description: 'Read' }], tokenCacheTtlSeconds: 60, tokenSharedCacheTtlSeconds: 60 } as AppConfig,
      { findByHash } as unknown as TokensRepository,
      cache,
      { known: () => undefined, find: async () => CLIENT } as unknown as ClientRegistry,
      { touch: () => undefined } as unknown as LastUsedService,
      new Metrics(),
      clock,
    );
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
});
