/**
 * A private redis-server for drills that stop and start Redis: append-only, on a free port of 127.0.0.1, with its
 * files in a folder of the drill. Never the shared Redis of the machine, which other test runs use.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from '../../bench/support/child-hub.js';

export interface RedisServerProcess {
  url: string;
  port: number;
  /** Stops the server; SIGTERM makes Redis write and sync its append-only file before it exits. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port and folder, and waits until it responds to PING. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts `redis-server --appendonly yes --dir <dir>` on a free port and waits for PING. `extraArgs` are passed on,
 * such as `['--appendfsync', 'always']`.
 */
export async function startRedisServer(dir: string, extraArgs: string[] = []): Promise<RedisServerProcess> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;

  const start = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--dir', dir, '--save', '', '--logfile', 'redis.log', ...extraArgs];
    const started = spawn('redis-server', args, { stdio: 'ignore' });
    child = started;
    await waitForPing(url, started);
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
    child = null;
  };

  await start();
  return { url, port, stop, start, close: () => stop('SIGTERM') };
}

async function waitForPing(url: string, child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode} before it responded to PING (see redis.log in its folder)`);
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    probe.on('error', () => {});
    const ready = await probe.connect().then(() => probe.ping(), () => null).catch(() => null);
    probe.disconnect();
    if (ready === 'PONG') return;
    if (Date.now() > deadline) throw new Error(`redis-server at ${url} did not respond to PING within ${timeoutMs} ms`);
    await sleep(100);
  }
}
