// Throughput of 1, 2 and 3 devicegate instances (separate processes, one Postgres database, one Redis key prefix)
// behind a round-robin balancer on loopback (bench/balancer.mjs), under a mixed load: device authorization,
// pending poll and cached bearer check in the ratio 1 : 4 : 5. Prints one row per instance count, then what each
// hot path costs in Redis commands and Postgres transactions (measured alone, on one instance, before the load).
//
//   npm run bench:scale                                   # build, then 15 s per instance count, 50 connections
//   npm run bench:scale -- -d 30 -c 100 --instances 1,2,3,4
//
// Everything runs on this machine: the instances, the balancer, autocannon (in this process), Postgres and Redis
// share its cores.
import autocannon from 'autocannon';
import { fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import {
  root, hashPasswordSync, adminUrl, redisUrl, httpAdapter, DEVICE_GRANT, FORM, createDatabase, writeConfig, startApp, deviceCode, accessToken,
  deleteKeys, freePort,
} from './support.mjs';

const require = createRequire(import.meta.url);
const { Client } = require('pg');

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const connections = Number(option('-c', 50));
const duration = Number(option('-d', 15));
const warmup = Number(option('--warmup', 3));
const instanceCounts = option('--instances', '1,2,3').split(',').map(Number);
const poolSize = Number(option('--pool', 4000));
const profileRequests = Number(option('--profile-requests', 200));
const logLevel = option('--log-level', 'info');

const CLIENT = 'bench-cli';
const SCOPE = 'read';
const USER = { username: 'bench', password: 'bench-password-0123' };
const prefix = `devicegate-bench:${randomUUID()}:`;
const CLOCK_TICKS = 100;
const cores = cpus().length;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const database = await createDatabase(adminUrl);
const configPath = writeConfig({
  scopes: [{ name: SCOPE, description: 'Read your data' }],
  // Codes outlive the whole run; a 1 s interval keeps the pool of pending codes small.
  clients: [{ client_id: CLIENT, name: 'Bench CLI', type: 'public', scopes: [SCOPE], poll_interval: 1, device_code_ttl: 1800 }],
  users: [{ username: USER.username, email: 'bench@example.com', password_hash: hashPasswordSync(USER.password) }],
});
// One deployment: every instance shares the key prefix and the secret keys.
const env = {
  REDIS_KEY_PREFIX: prefix,
  SECRET_KEYS: `bench:${randomUUID()}${randomUUID()}`,
  LOG_LEVEL: logLevel,
  // The load generator is one IP and one client: lift the per-IP and per-client limits (still counted in Redis).
  RATE_LIMIT_DEVICE_CODE_PER_IP: '100000000/1m',
  RATE_LIMIT_DEVICE_CODE_PER_CLIENT: '100000000/1m',
  RATE_LIMIT_LOGIN_PER_IP: '1000000/1m',
  RATE_LIMIT_APPROVAL_PER_IP: '1000000/1m',
};

/** CPU seconds a process has used so far (user + system), from /proc. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Busy and total CPU seconds of the whole machine, from /proc/stat. */
function machineSeconds() {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = values[3] + values[4];
  return { busy: (total - idle) / CLOCK_TICKS, total: total / CLOCK_TICKS };
}

async function startBalancer(upstreams) {
  const port = await freePort();
  const child = fork(join(root, 'bench/balancer.mjs'), [String(port), ...upstreams], { stdio: 'inherit' });
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`the balancer exited (${code})`)));
  });
  return {
    base: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); }),
  };
}

/**
 * Redis commands (sent by the app, and run inside its Lua scripts) while `work` runs, and Postgres transactions and
 * rows written from its start until the database has reported them.
 */
async function measureCosts(work) {
  // redis-cli prints one line per command: `<time> [<db> <client address, or lua>] "<command>" "<arg>" …`.
  const monitor = spawn('redis-cli', ['-u', redisUrl, 'monitor'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: monitor.stdout });
  const sent = new Map();
  let scripted = 0;
  let counting = true;
  await new Promise((resolve, reject) => {
    lines.once('line', (line) => (line === 'OK' ? resolve() : reject(new Error(`redis-cli monitor: ${line}`))));
    monitor.once('error', reject);
  });
  lines.on('line', (line) => {
    const match = /^\S+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line);
    if (!counting || !match || !line.includes(prefix)) return;
    const command = match[2].toLowerCase();
    if (match[1] === 'lua') scripted += 1;
    else sent.set(command, (sent.get(command) ?? 0) + 1);
  });
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  const stats = async () => (await admin.query(
    `SELECT xact_commit + xact_rollback AS transactions, tup_inserted + tup_updated + tup_deleted AS written
       FROM pg_stat_database WHERE datname = $1`, [database.name])).rows[0];
  try {
    const before = await stats();
    const started = Date.now();
    await work();
    counting = false;
    const seconds = (Date.now() - started) / 1000;
    // A backend reports its counters when idle, at the latest 10 s later (PostgreSQL 15).
    await sleep(11_000);
    const after = await stats();
    return {
      seconds,
      windowSeconds: (Date.now() - started) / 1000,
      sent,
      scripted,
      transactions: Number(after.transactions) - Number(before.transactions),
      written: Number(after.written) - Number(before.written),
    };
  } finally {
    await admin.end();
    monitor.kill();
  }
}

/** Per request of `measured` (`requests` of them), after taking off what the idle instance does in as much time. */
function costPerRequest(measured, idle, requests) {
  const net = (value, idleValue, seconds, idleSeconds) => Math.max(0, (value - (idleValue * seconds) / idleSeconds) / requests);
  const redis = (value, idleValue) => net(value, idleValue, measured.seconds, idle.seconds);
  const postgres = (value, idleValue) => net(value, idleValue, measured.windowSeconds, idle.windowSeconds);
  const byName = [...measured.sent.entries()]
    .map(([command, count]) => [command, redis(count, idle.sent.get(command) ?? 0)])
    .filter(([, count]) => count >= 0.005);
  return {
    redisSent: byName.reduce((sum, [, count]) => sum + count, 0),
    redisScripted: redis(measured.scripted, idle.scripted),
    commands: byName.map(([command, count]) => `${command} ${count.toFixed(2)}`).join(', '),
    pgTransactions: postgres(measured.transactions, idle.transactions),
    pgRowsWritten: postgres(measured.written, idle.written),
  };
}

/** What each path answers when all is well; anything else (a slow_down included) is counted as unexpected. */
const EXPECTED = new Set(['device authorization\t200 ok', 'pending poll\t400 authorization_pending', 'bearer check (cached)\t200 ok']);
const outcomeOf = (status, body) => `${status} ${/"error":"([^"]+)"/.exec(body)?.[1] ?? (body.includes('access_token') ? 'token' : 'ok')}`;

const instances = [];
let balancer;
const rows = [];
let costs;
try {
  instances.push(await startApp({ databaseUrl: database.url, redisUrl, configPath, env }));
  // What the idle instance's own timers (outbox drainer, sealer) do, before anything is written and once the
  // migrations' counters are reported.
  await sleep(11_000);
  const idle = await measureCosts(() => sleep(5000));
  const token = await accessToken(instances[0].base, { clientId: CLIENT, scope: SCOPE, user: USER, deviceLabel: 'bench-scale' });
  const pollBodies = [];
  for (let batch = 0; batch < poolSize / 100; batch++) {
    const codes = await Promise.all(Array.from({ length: 100 }, () => deviceCode(instances[0].base, { clientId: CLIENT, scope: SCOPE })));
    for (const code of codes) pollBodies.push(`grant_type=${encodeURIComponent(DEVICE_GRANT)}&client_id=${CLIENT}&device_code=${code.device_code}`);
  }
  let nextPoll = 0;
  const paths = {
    'device authorization': {
      method: 'POST', path: '/oauth/device/code', headers: FORM, body: `client_id=${CLIENT}&scope=${SCOPE}`,
    },
    'pending poll': {
      method: 'POST', path: '/oauth/token', headers: FORM, setupRequest: (request) => ({ ...request, body: pollBodies[nextPoll++ % pollBodies.length] }),
    },
    'bearer check (cached)': { method: 'GET', path: '/v1/me', headers: { authorization: `Bearer ${token}` } },
  };

  // What one request of each path costs, alone on one instance, sequentially, once the pool's own events are
  // drained and sealed; what the idle instance does in as much time is taken off.
  const send = async (base, request) => {
    const { setupRequest, ...rest } = request;
    const { method, path, headers, body } = setupRequest ? setupRequest(rest) : rest;
    const response = await fetch(`${base}${path}`, { method, headers, body });
    await response.text();
  };
  await sleep(12_000);
  costs = {};
  for (const [name, request] of Object.entries(paths)) {
    const measured = await measureCosts(async () => {
      for (let i = 0; i < profileRequests; i++) await send(instances[0].base, request);
    });
    costs[name] = costPerRequest(measured, idle, profileRequests);
  }

  // Per connection, autocannon sends these in turn: 1 device authorization, 4 polls, 5 bearer checks.
  const counts = new Map();
  const latencies = new Map();
  const order = ['device authorization', 'pending poll', 'bearer check (cached)', 'pending poll', 'bearer check (cached)',
    'pending poll', 'bearer check (cached)', 'pending poll', 'bearer check (cached)', 'bearer check (cached)'];
  const requests = order.map((name) => ({
    ...paths[name],
    setupRequest: (request, context) => {
      context.sentAt = process.hrtime.bigint();
      return paths[name].setupRequest ? paths[name].setupRequest(request) : request;
    },
    onResponse: (status, body, context) => {
      const key = `${name}\t${outcomeOf(status, body)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (!latencies.has(name)) latencies.set(name, []);
      latencies.get(name).push(Number(process.hrtime.bigint() - context.sentAt) / 1e6);
    },
  }));
  const load = (base, seconds) => new Promise((resolve, reject) => {
    autocannon({ url: base, connections, duration: seconds, requests }, (error, result) => (error ? reject(error) : resolve(result)));
  });

  for (const count of instanceCounts) {
    while (instances.length < count) {
      instances.push(await startApp({ databaseUrl: database.url, redisUrl, configPath, env: { ...env, MIGRATE_ON_BOOT: 'false' } }));
    }
    const serving = instances.slice(0, count);
    balancer = await startBalancer(serving.map((instance) => instance.base));
    await load(balancer.base, warmup);
    counts.clear();
    latencies.clear();
    const cpuBefore = { balancer: cpuSeconds(balancer.pid), instances: serving.map((i) => cpuSeconds(i.pid)), self: process.cpuUsage(), machine: machineSeconds() };
    const result = await load(balancer.base, duration);
    const machine = machineSeconds();
    const share = (seconds) => Math.round((seconds / (machine.total - cpuBefore.machine.total)) * 1000) / 10;
    const self = process.cpuUsage(cpuBefore.self);
    const perPath = Object.keys(paths).map((name) => {
      const sorted = (latencies.get(name) ?? []).sort((a, b) => a - b);
      const at = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(1) : '-');
      return { name, rps: Math.round(sorted.length / duration), p50: at(0.5), p99: at(0.99) };
    });
    rows.push({
      instances: count,
      rps: Math.round(result.requests.average),
      p50: result.latency.p50,
      p99: result.latency.p99,
      perPath,
      unexpected: result.errors + result.timeouts +
        [...counts.entries()].filter(([key]) => !EXPECTED.has(key)).reduce((sum, [, value]) => sum + value, 0),
      answers: [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([key, value]) => `${key.replace('\t', ': ')} ${value}`).join(', '),
      cpu: {
        balancer: share(cpuSeconds(balancer.pid) - cpuBefore.balancer),
        instances: share(serving.reduce((sum, instance, index) => sum + cpuSeconds(instance.pid) - cpuBefore.instances[index], 0)),
        autocannon: share((self.user + self.system) / 1e6),
        machine: share(machine.busy - cpuBefore.machine.busy),
      },
    });
    await balancer.stop();
    balancer = undefined;
  }
} finally {
  await balancer?.stop();
  await Promise.all(instances.map((instance) => instance.stop()));
  await deleteKeys(redisUrl, prefix);
  await database.drop();
}

const header = `devicegate scale ${new Date().toISOString().slice(0, 10)} on ${httpAdapter}, ${cores} cores, node ${process.version}, ` +
  `${connections} connections through the balancer, ${duration} s per instance count after ${warmup} s of warm-up, log level ${logLevel}, ` +
  `mix per connection 1 device authorization : 4 pending polls : 5 cached bearer checks`;
console.log(`\n${header}\n`);
console.log('| instances | req/s | device authorization req/s (p50 / p99 ms) | pending poll req/s (p50 / p99 ms) | bearer check req/s (p50 / p99 ms) | p50 ms | p99 ms | CPU: instances / balancer / autocannon / machine busy | unexpected answers |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |');
for (const row of rows) {
  const paths = row.perPath.map((path) => `${path.rps} (${path.p50} / ${path.p99})`).join(' | ');
  console.log(`| ${row.instances} | ${row.rps} | ${paths} | ${row.p50} | ${row.p99} | ${row.cpu.instances}% / ${row.cpu.balancer}% / ${row.cpu.autocannon}% / ${row.cpu.machine}% | ${row.unexpected} |`);
}
console.log('\nCPU shares are of all cores together over the measured run; the rest of "machine busy" is Postgres, Redis and anything else running.');
console.log(`\nWhat one request costs, measured alone on one instance (${profileRequests} sequential requests per path, the idle instance's own timers taken off)\n`);
console.log('| path | Redis commands sent | Redis commands inside Lua scripts | commands sent, by name | Postgres transactions | Postgres rows written |');
console.log('| --- | ---: | ---: | --- | ---: | ---: |');
for (const [name, cost] of Object.entries(costs)) {
  console.log(`| ${name} | ${cost.redisSent.toFixed(2)} | ${cost.redisScripted.toFixed(2)} | ${cost.commands} | ${cost.pgTransactions.toFixed(2)} | ${cost.pgRowsWritten.toFixed(2)} |`);
}
console.log('\nanswers:');
for (const row of rows) console.log(`  ${row.instances}: ${row.answers}`);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/scale.json'), JSON.stringify({ header, rows, costs }, null, 2));
