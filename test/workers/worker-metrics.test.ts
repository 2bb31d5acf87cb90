/**
 * A worker-role process serves its own metrics on METRICS_PORT: `hub start --role worker` runs as a child process
 * beside an API-role hub in this process, and the events it processes show up on the child's `/metrics`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRepliersStandIn, webhookBody, type RepliersStandIn } from '../../src/demo/repliers-stand-in.js';
import { waitForEvents } from '../../src/demo/wait-for-events.js';
import { startHub, type RunningHub } from '../../src/hub.js';
import { createLogger } from '../../src/logger.js';
import { freePort } from '../ingress/private-redis.js';
import { repoRoot, testHubSettings, type TestHubFolder } from '../helpers/test-hub.js';

const tsxLoader = path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs');

let folder: TestHubFolder;
let api: RunningHub;
let standIn: RepliersStandIn;
let worker: ChildProcess;
let workerOutput = '';
let metricsUrl: string;

/** Resolves once the worker's output contains `text`, or rejects after `timeoutMs`. */
async function waitForWorkerOutput(text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!workerOutput.includes(text)) {
    if (Date.now() > deadline) throw new Error(`"${text}" not printed within ${timeoutMs} ms; output: ${workerOutput}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  folder = await testHubSettings({ QUEUE_PREFIX: `hub-test-${randomBytes(5).toString('hex')}`, RECONCILE_INTERVAL_MINUTES: '0' });
  api = await startHub(folder.settings, 'api', createLogger('silent'));
  standIn = await startRepliersStandIn({ listings: [], agents: [], clients: [], favorites: [] });
  await api.secrets.expect('favorite.created', 60);
  expect((await standIn.subscribe(`${api.url}/webhooks/repliers/favorite.created`, 'favorite.created')).status).toBe(200);

  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}`;
  const settings = folder.settings;
  worker = spawn(process.execPath, ['--import', tsxLoader, 'src/cli/main.ts', 'start', '--role', 'worker'], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      METRICS_PORT: String(port),
      REDIS_URL: settings.redisUrl,
      QUEUE_PREFIX: settings.queuePrefix,
      DATABASE_URL: settings.databaseUrl,
      OUTBOX_DIR: settings.outboxDir,
      RULES_DIR: settings.rulesDir,
      RECONCILE_INTERVAL_MINUTES: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout?.setEncoding('utf8');
  worker.stderr?.setEncoding('utf8');
  worker.stdout?.on('data', (chunk: string) => (workerOutput += chunk));
  worker.stderr?.on('data', (chunk: string) => (workerOutput += chunk));
  await waitForWorkerOutput('metrics listening');
}, 60_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGTERM');
    await exited;
  }
  await api?.close();
  await standIn?.close();
  await folder?.cleanup();
});

describe('worker metrics', () => {
  it('counts events the worker processed', async () => {
    const favorite = { favoriteId: 9101, clientId: 7101, mlsNumber: 'X9101', boardId: 1 };
    const answer = await standIn.deliver('favorite.created', webhookBody('favorite.created', favorite));
    expect(answer.status).toBe(202);
    await waitForEvents(api.store, [(JSON.parse(answer.body) as { eventId: string }).eventId], 30_000);

    const response = await fetch(`${metricsUrl}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/^hub_events_processed_total\{event="favorite\.created",outcome="\w+"\} 1$/m);
    expect(text).toContain('process_cpu_seconds_total');
  }, 60_000);

  it('reports readiness', async () => {
    const response = await fetch(`${metricsUrl}/readyz`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready', redis: 'ok', store: 'ok' });
  });

  it('serves no webhooks', async () => {
    const response = await fetch(`${metricsUrl}/webhooks/repliers/favorite.created`, { method: 'POST', body: '{}' });

    expect(response.status).toBe(404);
  });
});
