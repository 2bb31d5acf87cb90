/** `hub sync` and `hub subscribe` as a user runs them, in a child process, against the Repliers stand-in. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoWorld } from '../../src/demo/demo-world.js';
import { readListingsFile } from '../../src/demo/listings-file.js';
import { startRepliersStandIn, type RepliersStandIn } from '../../src/demo/repliers-stand-in.js';
import { startHub, type RunningHub } from '../../src/hub.js';
import { createLogger } from '../../src/logger.js';
import { mirrorEvents } from '../../src/sync/subscribe-hub.js';
import { createProgressReporter } from '../../src/sync/sync-progress.js';
import { freePort } from '../ingress/private-redis.js';
import { repoRoot, testHubSettings, type TestHubFolder } from '../helpers/test-hub.js';

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const tsxLoader = pathToFileURL(path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;

function runHub(args: string[], env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, path.join(repoRoot, 'src/cli/main.ts'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let standIn: RepliersStandIn;
let folder: TestHubFolder;
let env: Record<string, string>;

beforeAll(async () => {
  const listings = await readListingsFile(path.join(repoRoot, 'src/demo/sample-listings.json'));
  standIn = await startRepliersStandIn(buildDemoWorld(listings));
  folder = await testHubSettings();
  env = {
    REDIS_URL: folder.settings.redisUrl,
    QUEUE_PREFIX: folder.settings.queuePrefix,
    DATABASE_URL: folder.settings.databaseUrl,
    RULES_DIR: folder.settings.rulesDir,
    REPLIERS_API_URL: standIn.url,
    REPLIERS_API_KEY: standIn.apiKey,
    LOG_LEVEL: 'warn',
  };
});

afterAll(async () => {
  await standIn?.close();
  await folder?.cleanup();
});

describe('hub sync', () => {
  it('backfills, then finds nothing to repair', async () => {
    const first = await runHub(['sync'], env);
    const second = await runHub(['sync'], env);

    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^Mirror synced with Repliers in \d+\.\d s:$/m);
    expect(first.stdout).toMatch(/agents +2 read, 2 added, 0 changed, 0 removed/);
    expect(first.stdout).toMatch(/clients +6 read, 6 added, 0 changed, 0 removed/);
    expect(first.stdout).toMatch(/favorites +7 read, 7 added, 0 changed, 0 removed/);
    // Without a TTY, progress comes as plain lines on stderr.
    expect(first.stderr).toContain('clients and favorites: 6 of 6 (100%)');
    // The last phase only checks the mirrored clients, so its line must not read as a count of removed clients.
    expect(first.stderr).toContain('checking mirrored clients against Repliers: 6 of 6 (100%)');
    expect(first.stderr).not.toContain('no longer in Repliers');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/favorites +7 read, 0 added, 0 changed, 0 removed/);
  }, 60_000);

  it('says what to set without a key', async () => {
    const result = await runHub(['sync'], { ...env, REPLIERS_API_KEY: '' });

    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('hub: the sync command needs REPLIERS_API_KEY: set it to the API key of the Repliers account.');
  });

  it('names the URL it could not reach', async () => {
    // A port freed a moment ago refuses the connection. Port 1 would not do: fetch rejects it before connecting.
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;

    const result = await runHub(['sync'], { ...env, REPLIERS_API_URL: url });

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    // The client retries a refused connection four times before it gives up, so 5 attempts.
    expect(result.stderr.trim()).toBe(
      `hub: Repliers request GET /agents at ${url} failed: fetch failed (connect ECONNREFUSED 127.0.0.1:${port}), ` +
        '5 attempts. Check that REPLIERS_API_URL is the address of the Repliers API and that the service is reachable ' +
        'from this machine.',
    );
  }, 30_000);

  it('explains a rejected key in one line', async () => {
    const result = await runHub(['sync'], { ...env, REPLIERS_API_KEY: 'not-the-key' });

    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^hub: Repliers rejected the API key \(HTTP 401\) on GET \/agents: check that REPLIERS_API_KEY/);
  });
});

describe('hub subscribe', () => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startHub(folder.settings, 'api', createLogger('silent'));
  });

  afterAll(async () => {
    await hub?.close();
  });

  it('subscribes every event once, and twice changes nothing', async () => {
    const first = await runHub(['subscribe', '--url', `${hub.url}/`], env);
    const second = await runHub(['subscribe', '--url', hub.url!], env);

    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    for (const event of mirrorEvents) expect(first.stdout).toMatch(new RegExp(`${event.replace('.', '\\.')} +subscribed \\(webhook \\d+\\)`));
    expect(second.code).toBe(0);
    expect(second.stdout.match(/already subscribed/g)).toHaveLength(mirrorEvents.length);
    expect(standIn.webhooks().map((webhook) => webhook.target_url).sort()).toEqual(
      mirrorEvents.map((event) => `${hub.url}/webhooks/repliers/${event}`).sort(),
    );
    for (const event of mirrorEvents) {
      expect((await hub.store.getHookSubscription(event))?.secret).toBe(standIn.secretOf(event));
    }
  }, 60_000);

  it('rejects a URL that is not http', async () => {
    const result = await runHub(['subscribe', '--url', 'ftp://hub.example.com'], env);

    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('hub: --url must use https or http; got "ftp:"');
  });
});

describe('sync progress', () => {
  it('redraws one bar on a TTY', () => {
    const written: string[] = [];
    let clock = 0;
    const reporter = createProgressReporter({ isTTY: true, columns: 80, write: (text) => written.push(text) }, () => clock);

    reporter.update({ phase: 'clients', done: 100, total: 400 });
    clock += 10;
    reporter.update({ phase: 'clients', done: 200, total: 400 });
    clock += 200;
    reporter.update({ phase: 'clients', done: 400, total: 400 });
    reporter.finish();

    expect(written).toEqual([
      '\r\x1b[2Kclients and favorites [##########------------------------------]  25% 100/400',
      '\r\x1b[2Kclients and favorites [########################################] 100% 400/400',
      '\n',
    ]);
  });

  it('prints plain lines per tenth otherwise', () => {
    const written: string[] = [];
    const reporter = createProgressReporter({ write: (text) => written.push(text) }, () => 0);

    for (let done = 1; done <= 20; done++) reporter.update({ phase: 'clients', done, total: 20 });

    expect(written).toHaveLength(11);
    expect(written[0]).toBe('clients and favorites: 1 of 20 (5%)\n');
    expect(written.at(-1)).toBe('clients and favorites: 20 of 20 (100%)\n');
  });
});
