// Memory of GET /v1/audit/events/export over 100,000 events (acceptance 5 of the audit trail).
//
//   npm run bench:audit-export                            # build, then 100,000 events
//   node bench/audit-export.mjs --rows 1000000 --rate 50  # after a build: a million rows, reader at 50 MB/s
//
// One database of its own, migrated at boot, filled with one INSERT … SELECT generate_series. The app
// runs as its own process (node dist/src/main.js), twice: with V8's default heap, and with its old
// space capped (--cap, 96 MB) below what holding the export would take. Against each, three exports
// are read over HTTP while the server's heap and RSS are sampled from its metrics port every 25 ms: a tenth of
// the rows, all of them, and all of them by a reader slower than the server (so that only backpressure
// keeps memory flat). Printed: the NDJSON size and the peak growth of heap and RSS over the idle server.
import http from 'node:http';
import { createRequire } from 'node:module';
import {
  hashPasswordSync, adminUrl, redisUrl, createDatabase, writeConfig, startApp, accessToken,
} from './support.mjs';

const { Client } = createRequire(import.meta.url)('pg');

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const rows = Number(option('--rows', 100_000));
const slowRate = Number(option('--rate', 10)) * 1024 * 1024;
const keep = args.includes('--keep');
const cap = Number(option('--cap', 96));

const CLIENT = 'bench-auditor';
const SCOPE = 'audit:read';
const USER = { username: 'auditor', password: 'auditor-password-0123' };
const MB = 1024 * 1024;
const mb = (bytes) => `${(bytes / MB).toFixed(1)} MB`;

const configPath = writeConfig({
  scopes: [{ name: 'audit:read', description: 'Read and export the audit trail' }],
  clients: [{ client_id: CLIENT, name: 'Bench auditor', type: 'public', scopes: ['audit:read'], poll_interval: 1 }],
  users: [{ username: USER.username, email: 'auditor@example.com', password_hash: hashPasswordSync(USER.password) }],
});

/** The app on `databaseUrl` (migrated at boot), quiet, with `nodeOptions` as NODE_OPTIONS. */
function startServer(databaseUrl, nodeOptions) {
  return startApp({
    databaseUrl,
    redisUrl,
    configPath,
    nodeOptions,
    env: {
      LOG_LEVEL: 'warn',
      // Nothing else may allocate in the server while it is measured.
      AUDIT_SEAL_INTERVAL: '0',
      RETENTION_SCHEDULE: 'off',
    },
  });
}

/** Events shaped like the ones the flows write, one millisecond apart from `start`. */
async function insertEvents(databaseUrl, count, start) {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const began = Date.now();
  await client.query(
    `INSERT INTO audit_events (occurred_at, type, outcome, actor_type, actor_issuer, actor_email, actor_subject_id,
                               actor_external_id, client_id, device_label, token_id, ip, user_agent, request_id, details)
     SELECT $1::timestamptz + i * interval '1 millisecond',
            (ARRAY['device_code.issued', 'sso.assertion_accepted', 'device.approved', 'token.minted'])[1 + i % 4],
            'success', 'user', 'https://idp.example.com/saml/metadata', 'user' || (i % 5000) || '@example.com',
            md5('subject' || (i % 5000))::uuid, 'user-' || (i % 5000), 'mycli', 'laptop-' || (i % 997),
            gen_random_uuid(), '10.' || (i % 250) || '.' || (i % 199) || '.7',
            'mycli/2.14.0 (linux; x86_64) node/22.11.0', gen_random_uuid()::text,
            jsonb_build_object('scopes', jsonb_build_array('profile', 'read'), 'attempt', 1,
                               'expires_at', to_char($1::timestamptz + interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
       FROM generate_series(0, $2::int - 1) i ORDER BY i`,
    [start.toISOString(), count],
  );
  const [{ size }] = (await client.query(`SELECT pg_total_relation_size('audit_events') AS size`)).rows;
  await client.query('ANALYZE audit_events');
  await client.end();
  return { seconds: (Date.now() - began) / 1000, tableBytes: Number(size) };
}

async function memory(metricsUrl) {
  const text = await (await fetch(metricsUrl)).text();
  const value = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { heap: value('nodejs_heap_size_used_bytes'), rss: value('process_resident_memory_bytes') };
}

/** Samples the server's memory every `intervalMs` until stop() is called. */
function sampler(metricsUrl, intervalMs = 25) {
  const samples = [];
  let running = true;
  const done = (async () => {
    while (running) {
      samples.push(await memory(metricsUrl));
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return { samples, stop: async () => { running = false; await done; return samples; } };
}

/** Reads the export, optionally no faster than `bytesPerSecond`; returns bytes, lines and seconds. */
function readExport(base, token, query, bytesPerSecond) {
  return new Promise((resolve, reject) => {
    const began = Date.now();
    const request = http.get(`${base}/v1/audit/events/export?${new URLSearchParams(query)}`,
      { headers: { authorization: `Bearer ${token}` } }, (response) => {
        if (response.statusCode !== 200) return reject(new Error(`export answered ${response.statusCode}`));
        if (response.headers['content-type'] !== 'application/x-ndjson') return reject(new Error('not NDJSON'));
        let bytes = 0;
        let lines = 0;
        response.on('data', (chunk) => {
          bytes += chunk.length;
          for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
          if (bytesPerSecond) {
            response.pause();
            setTimeout(() => response.resume(), (chunk.length / bytesPerSecond) * 1000);
          }
        });
        response.on('end', () => resolve({ bytes, lines, seconds: (Date.now() - began) / 1000 }));
        response.on('error', reject);
      });
    request.on('error', reject);
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const max = (values) => values.reduce((a, b) => Math.max(a, b), -Infinity);

/** Exports a tenth of the rows, all of them, and all of them to a slow reader, against one server. */
async function measure(app, start) {
  const token = await accessToken(app.base, { clientId: CLIENT, scope: SCOPE, user: USER });
  // Warm up: JIT, the connection pool, the first batch of every path.
  await readExport(app.base, token, { until: new Date(start.getTime() + 5000).toISOString() });
  const idle = sampler(app.metrics);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const baselineSamples = await idle.stop();
  const baseline = { heap: median(baselineSamples.map((s) => s.heap)), rss: median(baselineSamples.map((s) => s.rss)) };
  const tenth = new Date(start.getTime() + Math.floor(rows / 10)).toISOString();
  const runs = [
    { label: `${rows / 10} events`, query: { until: tenth } },
    { label: `${rows} events`, query: {} },
    { label: `${rows} events, reader at ${slowRate / MB} MB/s`, query: {}, rate: slowRate },
  ];
  const results = [];
  for (const run of runs) {
    const watch = sampler(app.metrics);
    const read = await readExport(app.base, token, run.query, run.rate);
    const samples = await watch.stop();
    results.push({
      label: run.label,
      lines: read.lines,
      ndjson: read.bytes,
      seconds: read.seconds,
      samples: samples.length,
      heapGrowth: max(samples.map((s) => s.heap)) - baseline.heap,
      rssGrowth: max(samples.map((s) => s.rss)) - baseline.rss,
    });
  }
  return { baseline, results };
}

const servers = [
  { label: 'default heap', nodeOptions: '' },
  // Below what holding the export would take: V8 must collect as it goes, so the peak is the working set.
  { label: `--max-old-space-size=${cap}`, nodeOptions: `--max-old-space-size=${cap}` },
];
const database = await createDatabase(adminUrl, { prefix: 'devicegate_bench_audit' });
const tables = [];
try {
  let start;
  for (const server of servers) {
    const app = await startServer(database.url, server.nodeOptions);
    try {
      if (!start) {
        start = new Date(Date.now() - rows - 60_000);
        const inserted = await insertEvents(database.url, rows, start);
        console.log(`inserted ${rows} events in ${inserted.seconds.toFixed(1)} s; audit_events with its indexes: ${mb(inserted.tableBytes)}`);
      }
      tables.push({ server, ...(await measure(app, start)) });
    } finally {
      await app.stop();
    }
  }
} finally {
  if (keep) console.log(`kept database ${database.name}`);
  else await database.drop();
}

console.log(`\ndevicegate audit export, ${new Date().toISOString().slice(0, 10)}, node ${process.version}, batches of 1000 rows\n`);
console.log('| server | export | lines | NDJSON | time | peak heap growth | peak RSS growth |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const { server, baseline, results } of tables) {
  for (const r of results) {
    console.log(`| ${server.label} (idle heap ${mb(baseline.heap)}, RSS ${mb(baseline.rss)}) | ${r.label} | ${r.lines} | ${mb(r.ndjson)} | ` +
      `${r.seconds.toFixed(1)} s | ${mb(r.heapGrowth)} | ${mb(r.rssGrowth)} |`);
  }
}
