// How long a revocation takes to reach another instance: two app processes on one database and one
// Redis key prefix; each token is validated on both (so both cache it), revoked through the first
// (DELETE /v1/oauth/authorizations/self), and polled on the second until it is refused.
//
//   npm run bench:revocation                 # 200 revocations
//   npm run bench:revocation -- -n 500
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import {
  hashPasswordSync, adminUrl, redisUrl, createDatabase, writeConfig, startApp, accessToken, deleteKeys,
} from './support.mjs';

const args = process.argv.slice(2);
const count = Number(args.includes('-n') ? args[args.indexOf('-n') + 1] : 200);
const CLIENT = 'bench-cli';
const USER = { username: 'bench', password: 'bench-password-0123' };

const database = await createDatabase(adminUrl);
const prefix = `devicegate-bench:${randomUUID()}:`;
const configPath = writeConfig({
  scopes: [{ name: 'read', description: 'Read your data' }],
  clients: [{ client_id: CLIENT, name: 'Bench CLI', type: 'public', scopes: ['read'], poll_interval: 1 }],
  users: [{ username: USER.username, email: 'bench@example.com', password_hash: hashPasswordSync(USER.password) }],
});
// A local cache far longer than the run: only the announcement can make the second instance refuse in time.
const env = {
  REDIS_KEY_PREFIX: prefix,
  TOKEN_CACHE_TTL: '60s',
  LOG_LEVEL: 'warn',
  // One load generator signs in over and over from one IP.
  RATE_LIMIT_DEVICE_CODE_PER_IP: '1000000/1m',
  RATE_LIMIT_LOGIN_PER_IP: '1000000/1m',
  RATE_LIMIT_APPROVAL_PER_IP: '1000000/1m',
};
const first = await startApp({ databaseUrl: database.url, redisUrl, configPath, env });
const second = await startApp({ databaseUrl: database.url, redisUrl, configPath, env: { ...env, MIGRATE_ON_BOOT: 'false' } });

const me = (base, token) => fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${token}` } }).then((response) => response.status);
const microseconds = (start) => Number(process.hrtime.bigint() - start) / 1000;

const propagation = [];
let refusedAtOnce = 0;
try {
  for (let i = 0; i < count; i++) {
    const token = await accessToken(first.base, { clientId: CLIENT, scope: 'read', user: USER, deviceLabel: `device-${i}` });
    if ((await me(first.base, token)) !== 200 || (await me(second.base, token)) !== 200) throw new Error('token not accepted');
    const started = process.hrtime.bigint();
    const revoked = await fetch(`${first.base}/v1/oauth/authorizations/self`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    if (revoked.status !== 204) throw new Error(`revocation answered ${revoked.status}`);
    let attempts = 0;
    while ((await me(second.base, token)) !== 401) {
      attempts++;
      if (microseconds(started) > 5_000_000) throw new Error('the second instance still accepts the token after 5 s');
    }
    propagation.push(microseconds(started));
    if (attempts === 0) refusedAtOnce++;
  }
} finally {
  await Promise.all([first.stop(), second.stop()]);
  await deleteKeys(redisUrl, prefix);
  await database.drop();
}

const sorted = [...propagation].sort((a, b) => a - b);
const at = (q) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1000).toFixed(2);
console.log(`\ndevicegate revocation propagation ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, node ${process.version}, ${count} revocations\n`);
console.log('| from DELETE sent on instance A to the first 401 on instance B | p50 ms | p99 ms | max ms | refused on the first request to B |');
console.log('| --- | ---: | ---: | ---: | ---: |');
console.log(`| revoke, then GET /v1/me on B until refused | ${at(0.5)} | ${at(0.99)} | ${(sorted[sorted.length - 1] / 1000).toFixed(2)} | ${refusedAtOnce} of ${count} |`);
