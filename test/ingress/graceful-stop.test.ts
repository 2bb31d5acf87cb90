/**
 * `hub start` as a real child process receiving SIGTERM: it stops taking connections at once, closes connections
 * that carry no request, finishes the request in flight (which gets 202 and is enqueued), and exits with code 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/mirror/open-store.js';
import { eventsQueueName } from '../../src/queue/queues.js';
import { redisUrl, repoRoot } from '../helpers/test-hub.js';
import { freePort } from './private-redis.js';

const secret = 'graceful-secret-0123456789';
const tsxLoader = path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs');
const queuePrefix = `hub-test-${randomBytes(5).toString('hex')}`;

let dir: string;
let port: number;
let child: ChildProcess;
let output = '';
let exit: Promise<number | null>;

/** Resolves once the child's output contains `text`, or rejects after `timeoutMs`. */
function waitForOutput(text: string, timeoutMs = 30_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`"${text}" not printed within ${timeoutMs} ms; output: ${output}`)), timeoutMs);
    const check = (): void => {
      if (!output.includes(text)) return;
      clearTimeout(deadline);
      child.stdout?.off('data', check);
      resolve();
    };
    child.stdout?.on('data', check);
    check();
  });
}

/** Reads from `socket` until the received text contains `text`. */
function readUntil(socket: net.Socket, received: { text: string }, text: string, timeoutMs = 10_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`"${text}" not received; got ${JSON.stringify(received.text)}`)), timeoutMs);
    const check = (): void => {
      if (!received.text.includes(text)) return;
      clearTimeout(deadline);
      socket.off('data', check);
      resolve();
    };
    socket.on('data', check);
    check();
  });
}

function connect(): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Polls for up to 10 s until a new connection is refused. The port may still accept for a moment after the signal,
 * because the listening socket is closed asynchronously.
 */
async function connectionRefused(): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      const socket = await connect();
      socket.destroy();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hub-stop-'));
  port = await freePort();
  const databaseUrl = path.join(dir, 'hub.sqlite');
  const store = await openStore(databaseUrl);
  await store.createHookSubscription('favorite.created', secret, new Date().toISOString());
  await store.close();

  child = spawn(process.execPath, ['--import', tsxLoader, 'src/cli/main.ts', 'start', '--role', 'api'], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: queuePrefix,
      DATABASE_URL: databaseUrl,
      OUTBOX_DIR: path.join(dir, 'outbox'),
      RULES_DIR: path.join(repoRoot, 'rules'),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => (output += chunk));
  child.stderr?.on('data', (chunk: string) => (output += chunk));
  exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  await waitForOutput('webhook ingress listening');
});

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  const queue = new Queue(eventsQueueName, { connection: { url: redisUrl }, prefix: queuePrefix });
  await queue.obliterate({ force: true });
  await queue.close();
  await rm(dir, { recursive: true, force: true });
});

/** Resolves once the hub has closed `socket`. */
function closedByHub(socket: net.Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
}

describe('on SIGTERM', () => {
  it('closes idle connections, finishes the request in flight', async () => {
    // A client that connected and sent nothing, and one whose keep-alive connection is idle after its response.
    const silent = await connect();
    silent.on('error', () => {});
    const keepAlive = await connect();
    keepAlive.on('error', () => {});
    const keepAliveReceived = { text: '' };
    keepAlive.setEncoding('latin1');
    keepAlive.on('data', (chunk: string) => (keepAliveReceived.text += chunk));
    keepAlive.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    await readUntil(keepAlive, keepAliveReceived, '"status":"ok"');

    const body = JSON.stringify({ data: { favoriteId: 77, clientId: 2, mlsNumber: 'X77' } });
    const half = Math.floor(body.length / 2);
    const socket = await connect();
    const received = { text: '' };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received.text += chunk));

    // Expect: 100-continue makes the server respond once it has parsed the headers, so the request is surely in
    // flight before the signal.
    socket.write(
      `POST /webhooks/repliers/favorite.created HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
        `X-Hook-Secret: ${secret}\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n${body.slice(0, half)}`,
    );
    await readUntil(socket, received, '100 Continue');

    child.kill('SIGTERM');
    await waitForOutput('stopping: finishing requests and jobs in flight');
    expect(await connectionRefused()).toBe(true);

    // Both close while the request in flight is still waiting for its body. Without that, they would stay open
    // until the drain deadline, which also cuts the request in flight.
    await closedByHub(silent);
    await closedByHub(keepAlive);
    expect(socket.destroyed).toBe(false);
    expect(received.text).not.toMatch(/HTTP\/1\.1 202/);

    socket.write(body.slice(half));
    await readUntil(socket, received, '"eventId"');
    expect(received.text).toMatch(/HTTP\/1\.1 202 Accepted/);
    const eventId = /"eventId":"([0-9a-f]{64})"/.exec(received.text)?.[1];

    expect(await exit).toBe(0);
    const queue = new Queue(eventsQueueName, { connection: { url: redisUrl }, prefix: queuePrefix });
    try {
      expect((await queue.getJob(eventId!))?.data.body).toBe(body);
    } finally {
      await queue.close();
    }
  });
});
