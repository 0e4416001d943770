// Load test of devicegate against the machine's Postgres and Redis, printing a markdown table.
//
//   npm run bench                 # build, then 3 runs of 10 s per scenario, 50 connections (median reported)
//   npm run bench -- --quick      # 1 run of 5 s per scenario
//   npm run bench -- -c 50 -d 10 -n 3 --only devauth,pending,me
//
// The app runs as a separate process (node dist/src/main.js) on its own database and Redis key
// prefix; autocannon runs in this process, so both share the machine, as in ../shared/BENCHMARKS.md.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { Client } = require('pg');
const Redis = require('ioredis');
const { hashPasswordSync } = require(join(root, 'dist/src/common/crypto.js'));

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const quick = args.includes('--quick');
const connections = Number(option('-c', 50));
const duration = Number(option('-d', quick ? 5 : 10));
const runs = Number(option('-n', quick ? 1 : 3));
const warmup = quick ? 1 : 3;
const only = option('--only', 'devauth,pending,me').split(',');
const logLevel = option('--log-level', 'info');
const adminUrl = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const CLIENT = 'bench-cli';
const USER = { username: 'bench', password: 'bench-password-0123' };

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function post(url, body, headers = {}) {
  const response = await fetch(url, { method: 'POST', headers: { ...FORM, ...headers }, body, redirect: 'manual' });
  const text = await response.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: response.status, headers: response.headers, json };
}

async function startApp() {
  const database = `devicegate_bench_${Date.now()}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${database}`;

  const folder = mkdtempSync(join(tmpdir(), 'devicegate-bench-'));
  const configPath = join(folder, 'devicegate.json');
  writeFileSync(configPath, JSON.stringify({
    scopes: [{ name: 'read', description: 'Read your data' }],
    // A 1 s interval keeps the pool of pending codes small enough to create before the run.
    clients: [{ client_id: CLIENT, name: 'Bench CLI', type: 'public', scopes: ['read'], poll_interval: 1 }],
    users: [{ username: USER.username, email: 'bench@example.com', password_hash: hashPasswordSync(USER.password) }],
  }));

  const port = await freePort();
  const prefix = `devicegate-bench:${randomUUID()}:`;
  const child = spawn(process.execPath, [join(root, 'dist/src/main.js')], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: databaseUrl.toString(),
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      SECRET_KEYS: `bench:${randomUUID()}${randomUUID()}`,
      DEVICEGATE_CONFIG: configPath,
      MIGRATE_ON_BOOT: 'true',
      LOG_LEVEL: logLevel,
      // The load generator is one IP and one client: lift the per-IP and per-client limits (still counted in Redis).
      RATE_LIMIT_DEVICE_CODE_PER_IP: '100000000/1m',
      RATE_LIMIT_DEVICE_CODE_PER_CLIENT: '100000000/1m',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch { /* not up yet */ }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    const redis = new Redis(redisUrl);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
    const cleanup = new Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await cleanup.end();
  };
  return { base, pid: child.pid, stop };
}

async function deviceCode(base) {
  const reply = await post(`${base}/oauth/device/code`, `client_id=${CLIENT}&scope=read`);
  if (reply.status !== 200) throw new Error(`device code: ${reply.status} ${JSON.stringify(reply.json)}`);
  return reply.json;
}

async function accessToken(base) {
  const started = await deviceCode(base);
  const login = await post(`${base}/oauth/device/sso/local/login`,
    new URLSearchParams({ user_code: started.user_code, ...USER }).toString());
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
  const context = await (await fetch(`${base}/oauth/device/approval-context`, { headers: { cookie } })).json();
  await post(`${base}/oauth/device/approve`, JSON.stringify({ user_code: started.user_code }),
    { 'content-type': 'application/json', cookie, 'x-csrf-token': context.csrf_token });
  const token = await post(`${base}/oauth/token`,
    `grant_type=${encodeURIComponent(DEVICE_GRANT)}&client_id=${CLIENT}&device_code=${started.device_code}`);
  if (token.status !== 200) throw new Error(`token: ${JSON.stringify(token.json)}`);
  return token.json.access_token;
}

const outcomes = new Map();
const count = (key) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
const outcomeOf = (status, body) => `${status} ${/"error":"([^"]+)"/.exec(body)?.[1] ?? (body.includes('access_token') ? 'token' : 'ok')}`;

async function scenario(name, base) {
  switch (name) {
    case 'devauth':
      return {
        label: 'device authorization (POST /oauth/device/code)',
        requests: [{ method: 'POST', path: '/oauth/device/code', headers: FORM, body: `client_id=${CLIENT}&scope=read`,
          onResponse: (status, body) => count(outcomeOf(status, body)) }],
      };
    case 'pending': {
      // Enough codes that each one is polled no more often than its 1 s interval at ~15k req/s.
      const size = Number(option('--pool', 20000));
      const bodies = [];
      for (let batch = 0; batch < size / 100; batch++) {
        const codes = await Promise.all(Array.from({ length: 100 }, () => deviceCode(base)));
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
    case 'me': {
      const token = await accessToken(base);
      return {
        label: 'bearer check (GET /v1/me)',
        requests: [{ method: 'GET', path: '/v1/me', headers: { authorization: `Bearer ${token}` },
          onResponse: (status, body) => count(outcomeOf(status, body)) }],
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

const app = await startApp();
const rows = [];
try {
  for (const name of only) {
    const { label, requests } = await scenario(name, app.base);
    await load(app.base, requests, warmup);
    outcomes.clear();
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await load(app.base, requests, duration));
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

const header = `devicegate ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, node ${process.version}, ` +
  `${connections} connections, ${runs} × ${duration} s (median), log level ${logLevel}`;
console.log(`\n${header}\n`);
console.log('| scenario | req/s | p50 ms | p99 ms | answers |');
console.log('| --- | ---: | ---: | ---: | --- |');
for (const row of rows) console.log(`| ${row.label} | ${row.rps} | ${row.p50} | ${row.p99} | ${row.mix}${row.errors ? `, ${row.errors} socket errors` : ''} |`);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/latest.json'), JSON.stringify({ header, rows }, null, 2));
