/** `hub demo repliers` as a user runs it: the Repliers stand-in served on its own, then `hub sync` against it. */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnHub, startHubProcess } from '../helpers/run-hub.js';
import { sharedData } from '../helpers/test-hub.js';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface ServedStandIn {
  url: string;
  apiKey: string;
  stdout(): string;
  /** Sends SIGTERM and resolves with how the process ended. */
  stop(): Promise<Exit>;
}

let cwd: string;
let running: ServedStandIn[] = [];

beforeEach(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), 'hub-demo-repliers-'));
});

afterEach(async () => {
  for (const standIn of running) await standIn.stop();
  running = [];
  await rm(cwd, { recursive: true, force: true });
});

/** Starts `hub <args>` and waits until it has printed the settings that point a hub at it. */
async function serveStandIn(args: string[]): Promise<ServedStandIn> {
  const child = startHubProcess(args, { ...process.env }, cwd);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));

  // The last line of the description, after the settings.
  const readyLine = 'Serving until Ctrl-C or SIGTERM. Requests:\n';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes(readyLine)) resolve();
    });
    void exited.then((exit) => reject(new Error(`hub ${args.join(' ')} exited (${exit.code ?? exit.signal}) before it was ready: ${stderr}`)));
  });
  const settings = stdout.match(/^ {2}export REPLIERS_API_URL=(\S+) REPLIERS_API_KEY=(\S+)$/m);
  if (!settings) throw new Error(`hub ${args.join(' ')} printed no export line:\n${stdout}`);

  let stopped: Promise<Exit> | null = null;
  const standIn: ServedStandIn = {
    url: settings[1]!,
    apiKey: settings[2]!,
    stdout: () => stdout,
    stop() {
      if (!stopped) {
        child.kill('SIGTERM');
        stopped = exited;
      }
      return stopped;
    },
  };
  running.push(standIn);
  return standIn;
}

describe('hub demo repliers', () => {
  it('serves the demo people to hub sync', async () => {
    const standIn = await serveStandIn(['demo', 'repliers', '--port', '0']);

    expect(standIn.url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    expect(standIn.apiKey).toMatch(/^[0-9a-f]{24}$/);
    expect(standIn.stdout()).toContain(`Repliers stand-in listening on ${standIn.url}\n`);
    expect(standIn.stdout()).toContain(`API key: ${standIn.apiKey}\n`);
    expect(standIn.stdout()).toContain('2 agents, 6 clients, 7 favorites on 6 listings');
    expect(standIn.stdout()).toMatch(/^ {2}D901001 +14 Juniper Lane, Ottawa +favoriteIds 90001, 90003, 90004$/m);
    expect(standIn.stdout()).toContain(`\n  REPLIERS_API_URL=${standIn.url}\n  REPLIERS_API_KEY=${standIn.apiKey}\n`);

    const sync = await spawnHub(
      ['sync'],
      {
        ...process.env,
        DATABASE_URL: path.join(cwd, 'hub.sqlite'),
        REPLIERS_API_URL: standIn.url,
        REPLIERS_API_KEY: standIn.apiKey,
        LOG_LEVEL: 'warn',
      },
      cwd,
    );

    expect(sync.code).toBe(0);
    expect(sync.stdout).toMatch(/agents +2 read, 2 added, 0 changed, 0 removed/);
    expect(sync.stdout).toMatch(/clients +6 read, 6 added, 0 changed, 0 removed/);
    expect(sync.stdout).toMatch(/favorites +7 read, 7 added, 0 changed, 0 removed/);
    expect(standIn.stdout()).toMatch(/^ {2}200 GET \/agents\?pageNum=1&resultsPerPage=100$/m);
    expect(standIn.stdout()).toMatch(/^ {2}200 GET \/favorites\?clientId=5001&pageNum=1&resultsPerPage=100$/m);

    const exit = await standIn.stop();

    expect(exit).toEqual({ code: 0, signal: null });
    expect(standIn.stdout()).toContain('SIGTERM: stopping the Repliers stand-in');
  }, 60_000);

  it('rejects a request without the key', async () => {
    const standIn = await serveStandIn(['demo', 'repliers', '--port', '0']);

    const response = await fetch(`${standIn.url}/agents`);

    expect(response.status).toBe(401);
    await expect.poll(() => standIn.stdout()).toMatch(/^ {2}401 GET \/agents$/m);
  }, 30_000);

  it('takes --listings before or after repliers', async () => {
    const file = path.join(sharedData, 'repliers/listings-search-ottawa.json');

    const after = await serveStandIn(['demo', 'repliers', '--port', '0', '--listings', file]);
    const before = await serveStandIn(['demo', '--listings', file, 'repliers', '--port', '0']);

    expect(after.stdout()).toContain(`Data from ${file}: 2 agents, 6 clients, 7 favorites on 96 listings`);
    expect(before.stdout()).toContain(`Data from ${file}: 2 agents, 6 clients, 7 favorites on 96 listings`);
  }, 30_000);

  it('says when the port is taken', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const result = await spawnHub(['demo', 'repliers', '--port', String(port)], { ...process.env }, cwd);

      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim()).toBe(
        `hub: port ${port} on 127.0.0.1 is already in use: stop the program that listens there, or choose another port with --port`,
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 30_000);

  it('rejects a port out of range', async () => {
    const result = await spawnHub(['demo', 'repliers', '--port', '65536'], { ...process.env }, cwd);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error: option '--port <n>' argument '65536' is invalid. expected a port number from 0 to 65535");
  }, 30_000);
});
