// Load test of devicegate against the machine's Postgres and Redis, printing a markdown table.
//
//   npm run bench                 # build, then 3 runs of 10 s per scenario, 50 connections (median reported)
//   HTTP_ADAPTER=fastify npm run bench   # the same on Fastify (Express by default)
//   npm run bench -- --quick      # 1 run of 5 s per scenario
//   npm run bench -- -c 50 -d 10 -n 3 --only devauth,pending,me,me-uncached,introspect,introspect-uncached
//
// The *-uncached scenarios run against a second instance (same database and Redis) whose token caches are
// off (TOKEN_CACHE_TTL=0, TOKEN_SHARED_CACHE_TTL=0): every check reads Postgres.
//
// The app runs as a separate process (node dist/src/main.js) on its own database and Redis key
// prefix; autocannon runs in this process, so both share the machine, as in ../shared/BENCHMARKS.md.
import autocannon from 'autocannon';
import { writeFileSync, mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  root, hashPasswordSync, adminUrl, redisUrl, httpAdapter, DEVICE_GRANT, FORM, createDatabase, writeConfig, startApp, deviceCode, accessToken,
} from './support.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const quick = args.includes('--quick');
const connections = Number(option('-c', 50));
const duration = Number(option('-d', quick ? 5 : 10));
const runs = Number(option('-n', quick ? 1 : 3));
const warmup = quick ? 1 : 3;
const only = option('--only', 'devauth,pending,me,me-uncached,introspect,introspect-uncached').split(',');
const logLevel = option('--log-level', 'info');

const CLIENT = 'bench-cli';
const SCOPE = 'read';
const USER = { username: 'bench', password: 'bench-password-0123' };
const API = { id: 'bench-api', secret: `${randomUUID()}${randomUUID()}` };
const UNCACHED = { TOKEN_CACHE_TTL: '0', TOKEN_SHARED_CACHE_TTL: '0' };

/** The app on a database of its own; stop() also drops the database. */
async function startBench() {
  const database = await createDatabase(adminUrl);
  try {
    const configPath = writeConfig({
      scopes: [{ name: 'read', description: 'Read your data' }],
      // A 1 s interval keeps the pool of pending codes small enough to create before the run.
      clients: [
        { client_id: CLIENT, name: 'Bench CLI', type: 'public', scopes: ['read'], poll_interval: 1 },
        { client_id: API.id, name: 'Bench API', type: 'confidential', client_secret: API.secret, grant_types: [], scopes: [], resource_server: true },
      ],
      users: [{ username: USER.username, email: 'bench@example.com', password_hash: hashPasswordSync(USER.password) }],
    });
    const env = {
      LOG_LEVEL: logLevel,
      // The load generator is one IP and one client: lift the per-IP and per-client limits (still counted in Redis).
      RATE_LIMIT_DEVICE_CODE_PER_IP: '100000000/1m',
      RATE_LIMIT_DEVICE_CODE_PER_CLIENT: '100000000/1m',
    };
    const app = await startApp({ databaseUrl: database.url, redisUrl, configPath, env });
    let uncached;
    /** The second instance, without token caches, started when a scenario first needs it. */
    const withoutCaches = async () => {
      uncached ??= await startApp({ databaseUrl: database.url, redisUrl, configPath, env: { ...env, ...UNCACHED, MIGRATE_ON_BOOT: 'false' } });
      return uncached.base;
    };
    const stop = async () => {
      try {
        await Promise.all([app.stop(), uncached?.stop()]);
      } finally {
        await database.drop();
      }
    };
    return { ...app, withoutCaches, stop };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

const outcomes = new Map();
const count = (key) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
const outcomeOf = (status, body) => `${status} ${/"error":"([^"]+)"/.exec(body)?.[1] ?? (body.includes('access_token') ? 'token' : 'ok')}`;

const basic = `Basic ${Buffer.from(`${API.id}:${API.secret}`).toString('base64')}`;

async function scenario(name, app) {
  const base = app.base;
  switch (name) {
    case 'devauth':
      return {
        label: 'device authorization (POST /oauth/device/code)',
        requests: [{ method: 'POST', path: '/oauth/device/code', headers: FORM, body: `client_id=${CLIENT}&scope=${SCOPE}`,
          onResponse: (status, body) => count(outcomeOf(status, body)) }],
      };
    case 'pending': {
      // Enough codes that each one is polled no more often than its 1 s interval at ~15k req/s.
      const size = Number(option('--pool', 20000));
      const bodies = [];
      for (let batch = 0; batch < size / 100; batch++) {
        const codes = await Promise.all(Array.from({ length: 100 },
          () => deviceCode(base, { clientId: CLIENT, scope: SCOPE })));
        for (const code of codes) {
          bodies.push(`grant_type=${encodeURIComponent(DEVICE_GRANT)}&client_id=${CLIENT}&device_code=${code.device_code}`);
        }
      }
      let next = 0;
      return {
        label: `pending poll over ${size} codes (POST /oauth/token)`,
        requests: [{ method: 'POST', path: '/oauth/token', headers: FORM,
          setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }),
          onResponse: (status, body) => count(outcomeOf(status, body)) }],
      };
    }
    case 'me':
    case 'me-uncached': {
      const token = await accessToken(base, { clientId: CLIENT, scope: SCOPE, user: USER, deviceLabel: name });
      const cached = name === 'me';
      return {
        label: `bearer check, guard in process (GET /v1/me), ${cached ? 'cached' : 'uncached: Postgres every time'}`,
        base: cached ? base : await app.withoutCaches(),
        requests: [{ method: 'GET', path: '/v1/me', headers: { authorization: `Bearer ${token}` },
          onResponse: (status, body) => count(outcomeOf(status, body)) }],
      };
    }
    case 'introspect':
    case 'introspect-uncached': {
      const token = await accessToken(base, { clientId: CLIENT, scope: SCOPE, user: USER, deviceLabel: name });
      const cached = name === 'introspect';
      return {
        label: `introspection (POST /oauth/introspect), ${cached ? 'cached' : 'uncached: Postgres every time'}`,
        base: cached ? base : await app.withoutCaches(),
        requests: [{ method: 'POST', path: '/oauth/introspect', headers: { ...FORM, authorization: basic }, body: `token=${token}`,
          onResponse: (status, body) => count(`${status} ${body.includes('"active":true') ? 'active' : body.slice(0, 40)}`) }],
      };
    }
    default:
      throw new Error(`unknown scenario ${name}`);
  }
}

function load(base, requests, seconds) {
  return new Promise((resolve, reject) => {
    autocannon({ url: base, connections, duration: seconds, requests }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const app = await startBench();
const rows = [];
try {
  for (const name of only) {
    const { label, requests, base = app.base } = await scenario(name, app);
    await load(base, requests, warmup);
    outcomes.clear();
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await load(base, requests, duration));
    const mix = [...outcomes.entries()].sort((a, b) => b[1] - a[1])
      .map(([key, value]) => `${key} ${Math.round((value / [...outcomes.values()].reduce((a, b) => a + b, 0)) * 1000) / 10}%`)
      .join(', ');
    rows.push({
      label,
      rps: Math.round(median(results.map((r) => r.requests.average))),
      p50: median(results.map((r) => r.latency.p50)),
      p99: median(results.map((r) => r.latency.p99)),
      errors: results.reduce((sum, r) => sum + r.errors + r.timeouts, 0),
      mix,
    });
  }
} finally {
  await app.stop();
}

const header = `devicegate ${new Date().toISOString().slice(0, 10)} on ${httpAdapter}, ${cpus().length} cores, node ${process.version}, ` +
  `${connections} connections, ${runs} × ${duration} s (median), log level ${logLevel}`;
console.log(`\n${header}\n`);
console.log('| scenario | req/s | p50 ms | p99 ms | answers |');
console.log('| --- | ---: | ---: | ---: | --- |');
for (const row of rows) console.log(`| ${row.label} | ${row.rps} | ${row.p50} | ${row.p99} | ${row.mix}${row.errors ? `, ${row.errors} socket errors` : ''} |`);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/latest.json'), JSON.stringify({ adapter: httpAdapter, header, rows }, null, 2));
