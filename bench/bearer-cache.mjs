// Cached bearer validation inside one process: TokenValidationService.authenticate() on tokens already in its
// per-instance cache (format and checksum check, SHA-256, map lookup, the client, the scope ceiling, the last use),
// beside the floor of a bare SHA-256 and map lookup. No Postgres or Redis is touched after the first lookup.
//
//   npm run bench:bearer-cache                 # builds, then 5 rounds of 1 s over 1,000 cached tokens (median)
//   npm run bench:bearer-cache -- --tokens 50000 --rounds 7 --seconds 2
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { root } from './support.mjs';

const require = createRequire(import.meta.url);
const { TokenValidationService } = require(join(root, 'dist/src/tokens/token-validation.service.js'));
const { ClientRegistry } = require(join(root, 'dist/src/clients/client-registry.service.js'));
const { LastUsedService } = require(join(root, 'dist/src/tokens/last-used.service.js'));
const { Metrics } = require(join(root, 'dist/src/common/metrics.js'));
const { Clock } = require(join(root, 'dist/src/common/clock.js'));
const { generateToken } = require(join(root, 'dist/src/tokens/token-format.js'));

const args = process.argv.slice(2);
const option = (name, fallback) => Number(args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const TOKENS = option('--tokens', 1000);
const ROUNDS = option('--rounds', 5);
const SECONDS = option('--seconds', 1);

const client = {
  clientId: 'bench-cli', name: 'Bench CLI', type: 'public', grantTypes: [], allowedScopes: ['read', 'write'], defaultScopes: ['read'], enabled: true,
};
const config = {
  clients: [client],
  scopes: [{ name: 'read', description: 'Read' }, { name: 'write', description: 'Write' }],
  tokenCacheTtlSeconds: 3600,
  tokenSharedCacheTtlSeconds: 3600,
  lastUsedFlushSeconds: 3600,
};
const now = new Date();
const records = new Map();
const tokens = Array.from({ length: TOKENS }, (_, index) => {
  const token = generateToken('dgat');
  records.set(createHash('sha256').update(token).digest('hex'), {
    id: `token-${index}`, kind: 'dgat', subjectId: `subject-${index}`, subjectIssuer: 'local', subjectExternalId: `user-${index}`,
    subjectEmail: `user-${index}@example.com`, subjectName: `User ${index}`, clientId: client.clientId, deviceLabel: 'laptop',
    scopes: ['read', 'write'], organizationId: null, createdAt: now, issuedAt: now, expiresAt: new Date(now.getTime() + 3600_000), revokedAt: null,
  });
  return token;
});
// Only the first lookup of each token reaches these; the rounds below are served from the per-instance cache.
const repository = { findByHash: async (hash) => records.get(hash), recordLastUse: async () => undefined };
const sharedCache = { get: async () => undefined, set: async () => undefined, invalidate: async () => undefined, subscribe: async () => undefined };
const clock = new Clock();
const metrics = new Metrics();
const clients = new ClientRegistry(config, { find: async () => undefined }, clock, undefined);
const validation = new TokenValidationService(config, repository, sharedCache, clients, new LastUsedService(config, repository), metrics, clock);
const headers = tokens.map((token) => `Bearer ${token}`);
for (const header of headers) await validation.authenticate(header, '127.0.0.1');

/**
 * Checks per second of `check` over the cached tokens, median of the rounds: by the clock, and per second of this
 * process's CPU time (what the figure is on an idle machine; on a shared one the clock counts other work too).
 */
async function measure(check) {
  const wall = [];
  const cpu = [];
  for (let round = 0; round < ROUNDS; round++) {
    let done = 0;
    const started = process.hrtime.bigint();
    const cpuStarted = process.cpuUsage();
    const until = started + BigInt(SECONDS * 1e9);
    while (process.hrtime.bigint() < until) {
      for (let i = 0; i < 1000; i++) await check(headers[(done + i) % headers.length]);
      done += 1000;
    }
    const used = process.cpuUsage(cpuStarted);
    wall.push(done / (Number(process.hrtime.bigint() - started) / 1e9));
    cpu.push(done / ((used.user + used.system) / 1e6));
  }
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return { wall: median(wall), cpu: median(cpu) };
}

const floor = await measure(async (header) => records.get(createHash('sha256').update(header.slice(7)).digest('hex')));
const cached = await measure((header) => validation.authenticate(header, '127.0.0.1'));
const format = (rate) => Math.round(rate).toLocaleString('en-US');
console.log(`\n${TOKENS} cached tokens, ${ROUNDS} × ${SECONDS} s (median), node ${process.version}\n`);
console.log('| check | checks/s | checks per CPU second |');
console.log('| --- | ---: | ---: |');
console.log(`| SHA-256 + map lookup (the floor) | ${format(floor.wall)} | ${format(floor.cpu)} |`);
console.log(`| TokenValidationService.authenticate, cached | ${format(cached.wall)} | ${format(cached.cpu)} |`);
