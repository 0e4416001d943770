import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { freePort } from './test-app';

const REDIS_SERVER_PATH = process.env.REDIS_SERVER_PATH ?? 'redis-server';
const REDIS_CLI_PATH = process.env.REDIS_CLI_PATH ?? 'redis-cli';
const MASTER_NAME = 'devicegate';

/** One redis-server process on a loopback port, in the folder of its topology. */
export interface RedisNode {
  port: number;
  /** SIGKILL: no shutdown, no save. */
  kill(): Promise<void>;
  /** A plain connection to this node alone (no key prefix); the caller disconnects it. */
  connect(): Redis;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `check` is true, trying every 100 ms; errors count as not yet. */
export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * One command to one node on a connection of its own, so a dead node answers with an error rather than hanging.
 * disconnectTimeout 0: for a dead node's socket, closed already, ioredis would otherwise hold a 2 s timer.
 */
async function ask(port: number, ...command: string[]): Promise<unknown> {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    commandTimeout: 2000,
    disconnectTimeout: 0,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await redis.call(command[0], ...command.slice(1));
  } finally {
    redis.disconnect();
  }
}

class Topology {
  readonly folder = mkdtempSync(join(tmpdir(), 'devicegate-redis-'));
  private readonly children = new Set<ChildProcess>();

  /** Starts redis-server with `args` (or a config file first) and waits until it answers PING. */
  async start(args: string[]): Promise<RedisNode> {
    const port = Number(args[args.indexOf('--port') + 1]);
    const child = spawn(REDIS_SERVER_PATH, [...args, '--bind', '127.0.0.1', '--dir', this.folder], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    let output = '';
    for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => (output = (output + String(chunk)).slice(-4000)));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited:\n${output}`);
      return (await ask(port, 'PING')) === 'PONG';
    }, `redis-server on ${port}`).catch((error: Error) => {
      throw new Error(`${error.message}\n${output}`);
    });
    return {
      port,
      kill: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
      },
      connect: () => new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0 }),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.children].map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(this.folder, { recursive: true, force: true });
  }
}

/** Plain nodes: no persistence, as the test Redis of the machine. */
const NODE_ARGS = ['--save', '', '--appendonly', 'no'];

export interface RedisCluster {
  /** `redis-cluster://127.0.0.1:<port>,…`, every node as a seed. */
  url: string;
  nodes: RedisNode[];
  /** Which nodes are masters now, the slots each serves and the replicas that follow it (CLUSTER NODES of a live node). */
  masters(): Promise<{ master: RedisNode; slots: [number, number][]; replicas: RedisNode[] }[]>;
  /** CLUSTER INFO's cluster_state as a live node sees it. */
  state(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A Redis Cluster on loopback: `masters` masters with `replicas` replicas
 * each, made by `redis-cli --cluster create`; a node is considered failed
 * after 1 s, so a replica takes over within a few seconds.
 */
export async function startRedisCluster({ masters, replicas }: { masters: number; replicas: number }): Promise<RedisCluster> {
  const topology = new Topology();
  try {
    const nodes: RedisNode[] = [];
    for (let n = 0; n < masters * (1 + replicas); n++) {
      const [port, busPort] = [await freePort(), await freePort()];
      nodes.push(
        await topology.start([
          '--port', String(port),
          '--cluster-enabled', 'yes',
          '--cluster-port', String(busPort),
          '--cluster-config-file', `nodes-${port}.conf`,
          '--cluster-node-timeout', '1000',
          // A replica may take over however long it was cut off from its master.
          '--cluster-replica-validity-factor', '0',
          ...NODE_ARGS,
        ]),
      );
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await promisify(execFile)(REDIS_CLI_PATH, ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes']);
    const byPort = new Map(nodes.map((node) => [node.port, node]));
    const live = async () => {
      for (const node of nodes) if (await ask(node.port, 'PING').catch(() => undefined)) return node;
      throw new Error('no node of the cluster answers');
    };
    const cluster: RedisCluster = {
      url: `redis-cluster://${addresses.join(',')}`,
      nodes,
      async masters() {
        const lines = String(await ask((await live()).port, 'CLUSTER', 'NODES')).trim().split('\n').map((line) => line.split(' '));
        const port = (fields: string[]) => Number(fields[1].split('@')[0].split(':')[1]);
        return lines
          .filter((fields) => fields[2].includes('master') && !fields[2].includes('fail'))
          .map((master) => ({
            master: byPort.get(port(master)) as RedisNode,
            slots: master.slice(8).map((range) => {
              const [from, to = from] = range.split('-').map(Number);
              return [from, to] as [number, number];
            }),
            replicas: lines
              .filter((fields) => fields[3] === master[0] && !fields[2].includes('fail'))
              .map((fields) => byPort.get(port(fields)) as RedisNode),
          }));
      },
      async state() {
        return /cluster_state:(\w+)/.exec(String(await ask((await live()).port, 'CLUSTER', 'INFO')))?.[1] ?? 'unknown';
      },
      stop: () => topology.stop(),
    };
    // Every node must know every other and agree the slots are covered before clients connect.
    await waitFor(async () => {
      const states = await Promise.all(nodes.map((node) => ask(node.port, 'CLUSTER', 'INFO')));
      return states.every((info) => /cluster_state:ok/.test(String(info)) && /cluster_known_nodes:(\d+)/.exec(String(info))?.[1] === String(nodes.length));
    }, 'cluster_state:ok on every node');
    return cluster;
  } catch (error) {
    await topology.stop();
    throw error;
  }
}

export interface RedisSentinels {
  /** `redis-sentinel://127.0.0.1:<port>,…/<master name>`. */
  url: string;
  master: RedisNode;
  replica: RedisNode;
  sentinels: RedisNode[];
  /** The port the sentinels name as the master now, once a majority of them agree. */
  masterPort(): Promise<number | undefined>;
  stop(): Promise<void>;
}

/**
 * A master, one replica and three sentinels on loopback (quorum 2); a
 * master is down after 1 s of silence and the replica is promoted within a
 * few seconds.
 */
export async function startRedisSentinels(): Promise<RedisSentinels> {
  const topology = new Topology();
  try {
    const master = await topology.start(['--port', String(await freePort()), ...NODE_ARGS]);
    const replica = await topology.start(['--port', String(await freePort()), '--replicaof', '127.0.0.1', String(master.port), ...NODE_ARGS]);
    await waitFor(async () => /master_link_status:up/.test(String(await ask(replica.port, 'INFO', 'replication'))), 'the replica in sync');
    const sentinels: RedisNode[] = [];
    for (let n = 0; n < 3; n++) {
      const port = await freePort();
      const conf = join(topology.folder, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
          `sentinel failover-timeout ${MASTER_NAME} 5000`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      sentinels.push(await topology.start([conf, '--sentinel', '--port', String(port)]));
    }
    const masterPort = async () => {
      const named = await Promise.all(
        sentinels.map((sentinel) => ask(sentinel.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME).catch(() => undefined)),
      );
      const ports = named.map((address) => Number((address as string[] | undefined)?.[1]));
      return ports.find((port) => ports.filter((other) => other === port).length >= 2);
    };
    // The sentinels must have found the replica and each other before a failover can happen.
    await waitFor(async () => {
      const views = await Promise.all(sentinels.map((sentinel) => ask(sentinel.port, 'SENTINEL', 'MASTER', MASTER_NAME)));
      return views.every((view) => {
        const fields = view as string[];
        const field = (name: string) => fields[fields.indexOf(name) + 1];
        return field('num-slaves') === '1' && field('num-other-sentinels') === '2';
      });
    }, 'the sentinels to know the replica and each other');
    return {
      url: `redis-sentinel://${sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(',')}/${MASTER_NAME}`,
      master,
      replica,
      sentinels,
      masterPort,
      stop: () => topology.stop(),
    };
  } catch (error) {
    await topology.stop();
    throw error;
  }
}
