// What the benchmark scripts share: a bench database, a config file, the app as a child process
// (node dist/src/main.js, NODE_ENV=production) on its own Redis key prefix, and an access token
// obtained the way a user would get one (device code, local sign-in, approve, token).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
/** The project's root folder (bench/..). */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { Client } = require('pg');
const Redis = require('ioredis');
/** The app's own password hashing, for `password_hash` in a config (needs a build). */
export const { hashPasswordSync } = require(join(root, 'dist/src/common/crypto.js'));

/** A Postgres database the bench may create databases from, and the Redis the app uses. */
export const adminUrl = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The HTTP adapter under test: HTTP_ADAPTER=express (default) or fastify, as for the app itself. */
export const httpAdapter = process.env.HTTP_ADAPTER === 'fastify' ? 'fastify' : 'express';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

const READY_TIMEOUT_MS = 20_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** POSTs `body` (form-encoded unless `headers` say otherwise); `json` is the parsed body, or its text. */
export async function post(url, body, headers = {}) {
  const response = await fetch(url, { method: 'POST', headers: { ...FORM, ...headers }, body, redirect: 'manual' });
  const text = await response.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: response.status, headers: response.headers, json };
}

/** Creates an empty database `<prefix>_<now>` next to `adminUrl`'s; drop() removes it, connections and all. */
export async function createDatabase(adminUrl, { prefix = 'devicegate_bench' } = {}) {
  const name = `${prefix}_${Date.now()}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const cleanup = new Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

/** Writes `config` as devicegate.json in a fresh temporary folder and returns its path. */
export function writeConfig(config) {
  const path = join(mkdtempSync(join(tmpdir(), 'devicegate-bench-')), 'devicegate.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** Deletes every Redis key that starts with `prefix`. */
export async function deleteKeys(redisUrl, prefix) {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * Starts the built app on a free port with production settings (metrics on a second free port, at
 * `metrics`), migrations at boot and a Redis key prefix of its own, and resolves once /readyz answers
 * 200. `env` is added to (and wins over) those settings; `nodeOptions`, when given, becomes NODE_OPTIONS. Rejects, after stopping the child, if it
 * exits first or is not ready within 20 s. stop() ends it (SIGTERM) and deletes its Redis keys.
 */
export async function startApp({ databaseUrl, redisUrl, configPath, env = {}, nodeOptions }) {
  const port = await freePort();
  const metricsPort = await freePort();
  const prefix = `devicegate-bench:${randomUUID()}:`;
  const child = spawn(process.execPath, [join(root, 'dist/src/main.js')], {
    env: {
      ...process.env,
      ...(nodeOptions === undefined ? {} : { NODE_OPTIONS: nodeOptions }),
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      SECRET_KEYS: `bench:${randomUUID()}${randomUUID()}`,
      DEVICEGATE_CONFIG: configPath,
      MIGRATE_ON_BOOT: 'true',
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: '127.0.0.1',
      HTTP_ADAPTER: httpAdapter,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let ended = null;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => { ended = signal ? `signal ${signal}` : `code ${code}`; resolve(); });
    child.once('error', (error) => { ended = error.message; resolve(); });
  });
  const stop = async () => {
    if (!ended) child.kill('SIGTERM');
    await exited;
    await deleteKeys(redisUrl, prefix);
  };

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      if (ended) throw new Error(`the app exited before it was ready (${ended})`);
      if (Date.now() > deadline) throw new Error(`the app was not ready within ${READY_TIMEOUT_MS / 1000} s`);
      const ready = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) })
        .then((response) => response.ok, () => false);
      if (ready) break;
      await sleep(200);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { base, metrics: `http://127.0.0.1:${metricsPort}/metrics`, pid: child.pid, stop };
}

/** Starts a device authorization for `clientId` and `scope`; throws unless it is answered 200. */
export async function deviceCode(base, { clientId, scope, deviceLabel = '' }) {
  const reply = await post(`${base}/oauth/device/code`, new URLSearchParams({ client_id: clientId, scope, device_label: deviceLabel }).toString());
  if (reply.status !== 200) throw new Error(`device code: ${reply.status} ${JSON.stringify(reply.json)}`);
  return reply.json;
}

/**
 * An access token for `user` ({ username, password }, a local user of the config): device code, sign-in,
 * approve, token. Tokens of the same user, client and `deviceLabel` replace each other.
 */
export async function accessToken(base, options) {
  return (await deviceTokens(base, options)).access_token;
}

/** A device flow through to its token answer (access token, and a refresh token where the client is allowed one). */
export async function deviceTokens(base, { clientId, scope, user, deviceLabel = '' }) {
  const started = await deviceCode(base, { clientId, scope, deviceLabel });
  const login = await post(`${base}/oauth/device/sso/local/login`,
    new URLSearchParams({ user_code: started.user_code, username: user.username, password: user.password }).toString());
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
  const context = await (await fetch(`${base}/oauth/device/approval-context`, { headers: { cookie } })).json();
  await post(`${base}/oauth/device/approve`, JSON.stringify({ user_code: started.user_code }),
    { 'content-type': 'application/json', cookie, 'x-csrf-token': context.csrf_token });
  const token = await post(`${base}/oauth/token`,
    `grant_type=${encodeURIComponent(DEVICE_GRANT)}&client_id=${clientId}&device_code=${started.device_code}`);
  if (token.status !== 200) throw new Error(`token: ${JSON.stringify(token.json)}`);
  return token.json;
}
