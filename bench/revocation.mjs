// How long a revocation takes to reach another instance: two app processes on one database and one
// Redis key prefix; each token is validated on both (so both cache it), revoked through the first
// (DELETE /v1/oauth/authorizations/self), and polled on the second until it is refused. Then what the
// same confirmation costs a refresh: each access token is validated on both, refreshed through the first
// (which answers once the second confirmed it dropped the old token), and shown to the second once.
//
//   npm run bench:revocation                 # 200 revocations, 200 refreshes
//   npm run bench:revocation -- -n 500
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import {
  hashPasswordSync, adminUrl, redisUrl, createDatabase, writeConfig, startApp, accessToken, deviceTokens, deleteKeys, post,
} from './support.mjs';

const args = process.argv.slice(2);
const count = Number(args.includes('-n') ? args[args.indexOf('-n') + 1] : 200);
const CLIENT = 'bench-cli';
const USER = { username: 'bench', password: 'bench-password-0123' };

const database = await createDatabase(adminUrl);
const prefix = `devicegate-bench:${randomUUID()}:`;
const configPath = writeConfig({
  scopes: [{ name: 'read', description: 'Read your data' }],
  clients: [{
    client_id: CLIENT, name: 'Bench CLI', type: 'public', scopes: ['read'], poll_interval: 1,
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
  }],
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
const refreshes = [];
let oldRefusedAtOnce = 0;
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
  for (let i = 0; i < count; i++) {
    const tokens = await deviceTokens(first.base, { clientId: CLIENT, scope: 'read', user: USER, deviceLabel: `refreshed-${i}` });
    if ((await me(first.base, tokens.access_token)) !== 200 || (await me(second.base, tokens.access_token)) !== 200) throw new Error('token not accepted');
    const started = process.hrtime.bigint();
    const refreshed = await post(`${first.base}/oauth/token`, new URLSearchParams({
      grant_type: 'refresh_token', client_id: CLIENT, refresh_token: tokens.refresh_token,
    }).toString());
    if (refreshed.status !== 200) throw new Error(`refresh answered ${refreshed.status}`);
    refreshes.push(microseconds(started));
    if ((await me(second.base, tokens.access_token)) === 401) oldRefusedAtOnce++;
  }
} finally {
  await Promise.all([first.stop(), second.stop()]);
  await deleteKeys(redisUrl, prefix);
  await database.drop();
}

/** p50, p99 and max of microsecond samples, in milliseconds. */
function quantiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1000).toFixed(2);
  return `${at(0.5)} | ${at(0.99)} | ${(sorted[sorted.length - 1] / 1000).toFixed(2)}`;
}
console.log(`\ndevicegate revocation propagation ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, node ${process.version}, ${count} revocations and refreshes\n`);
console.log('| measured | p50 ms | p99 ms | max ms | old token refused on the first request to B |');
console.log('| --- | ---: | ---: | ---: | ---: |');
console.log(`| revoke on A: from DELETE sent to the first 401 on B (GET /v1/me until refused) | ${quantiles(propagation)} | ${refusedAtOnce} of ${count} |`);
console.log(`| refresh on A: from POST /oauth/token sent to its answer, B confirming first | ${quantiles(refreshes)} | ${oldRefusedAtOnce} of ${count} |`);
