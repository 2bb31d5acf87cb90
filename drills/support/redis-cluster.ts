/**
 * A small local Redis Cluster: three redis-server masters on free ports of 127.0.0.1, no replicas, joined with
 * `redis-cli --cluster create`. For the cluster tests and drills only; its files live in a temporary folder.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from '../../bench/support/child-hub.js';

const run = promisify(execFile);

export interface LocalRedisCluster {
  /** `host:port` of each master, as REDIS_CLUSTER_NODES takes them. */
  nodes: string[];
  close(): Promise<void>;
}

/** True when redis-server and redis-cli are on the PATH. */
export async function redisClusterToolsAvailable(): Promise<boolean> {
  try {
    await run('redis-server', ['--version']);
    await run('redis-cli', ['--version']);
    return true;
  } catch {
    return false;
  }
}

/** Starts three cluster-enabled masters, creates the cluster and waits until every node reports `cluster_state:ok`. */
export async function startLocalRedisCluster(timeoutMs = 30_000): Promise<LocalRedisCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-redis-cluster-'));
  const children: ChildProcess[] = [];
  const nodes: string[] = [];
  const close = async () => {
    await Promise.all(
      children.map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        return exited;
      }),
    );
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (let index = 0; index < 3; index++) {
      // The cluster bus port is chosen too, because the default (port + 10000) may be taken or out of range.
      const port = await freePort();
      const busPort = await freePort();
      const child = spawn(
        'redis-server',
        [
          '--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
          '--cluster-config-file', `nodes-${port}.conf`, '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', `redis-${port}.log`,
        ],
        { stdio: 'ignore' },
      );
      children.push(child);
      nodes.push(`127.0.0.1:${port}`);
    }
    await waitFor(async () => (await Promise.all(nodes.map((node) => cli(node, ['ping'])))).every((answer) => answer === 'PONG'), timeoutMs, 'the cluster nodes to answer PING');
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], { timeout: timeoutMs });
    await waitFor(
      async () => (await Promise.all(nodes.map((node) => cli(node, ['cluster', 'info'])))).every((info) => info.includes('cluster_state:ok')),
      timeoutMs,
      'cluster_state:ok on every node',
    );
  } catch (error) {
    await close();
    throw error;
  }
  return { nodes, close };
}

async function cli(node: string, args: string[]): Promise<string> {
  const [host, port] = node.split(':');
  try {
    const { stdout } = await run('redis-cli', ['-h', host!, '-p', port!, ...args], { timeout: 5000 });
    return stdout.trim();
  } catch {
    return '';
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}
