/** The scheduled reconcile on the real Redis, with its own queue prefix, against the Repliers stand-in. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRepliersStandIn, type RepliersStandIn } from '../../src/demo/repliers-stand-in.js';
import { createLogger } from '../../src/logger.js';
import { metricsRegistry } from '../../src/metrics/registry.js';
import { SqliteStore } from '../../src/mirror/sqlite/sqlite-store.js';
import { RepliersApi } from '../../src/repliers/api-client.js';
import { reconcileQueueName, startReconcileScheduler, type ReconcileScheduler } from '../../src/sync/reconcile-scheduler.js';
import { redisUrl } from '../helpers/test-hub.js';

const logger = createLogger('silent');

let standIn: RepliersStandIn;
let producer: Redis;
let worker: Redis;
let prefix: string;
let directory: string;
let store: SqliteStore;
let scheduler: ReconcileScheduler | null;

beforeAll(async () => {
  standIn = await startRepliersStandIn({
    listings: [],
    agents: [{ agentId: 101, fname: 'Maya', email: 'maya@agents.example' }],
    clients: [{ clientId: 5001, agentId: 101, fname: 'Ada', email: 'ada@clients.example' }],
    favorites: [{ favoriteId: 90001, clientId: 5001, mlsNumber: 'X100', boardId: 12 }],
  });
  producer = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  worker = new Redis(redisUrl, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  await standIn?.close();
  producer?.disconnect();
  worker?.disconnect();
});

beforeEach(async () => {
  prefix = `hub-test-${randomBytes(5).toString('hex')}`;
  directory = mkdtempSync(path.join(tmpdir(), 'hub-scheduler-'));
  store = new SqliteStore(path.join(directory, 'hub.sqlite'));
  await store.migrate();
  scheduler = null;
});

afterEach(async () => {
  await scheduler?.close();
  const queue = new Queue(reconcileQueueName, { connection: { url: redisUrl }, prefix });
  await queue.obliterate({ force: true });
  await queue.close();
  await producer.del(`${prefix}:${reconcileQueueName}:running`);
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(50);
  }
}

function start(everyMs: number, withKey = true): Promise<ReconcileScheduler> {
  const repliers = withKey ? new RepliersApi({ baseUrl: standIn.url, apiKey: standIn.apiKey }) : null;
  return startReconcileScheduler({ producer, worker, prefix, everyMs, store, repliers, logger, concurrency: 2 });
}

describe('reconcile scheduler', () => {
  it('runs a reconcile after one interval', async () => {
    scheduler = await start(400);

    expect(scheduler.scheduled).toBe(true);
    await waitFor(async () => (await store.getFavorites(['90001'])).has('90001'));
    const entry = (await store.getFavorites(['90001'])).get('90001');
    expect(entry?.client?.email).toBe('ada@clients.example');
    expect(entry?.agent?.fname).toBe('Maya');
  });

  it('reports drift in the metrics', async () => {
    scheduler = await start(300);
    await waitFor(async () => (await store.getFavorites(['90001'])).has('90001'));
    const queue = new Queue(reconcileQueueName, { connection: producer, prefix });
    await waitFor(async () => (await queue.getCompletedCount()) >= 1);
    await queue.close();

    const text = await metricsRegistry.metrics();

    expect(text).toContain('hub_mirror_drift_last{entity="favorite",kind="added"}');
    expect(text).toMatch(/hub_mirror_drift_repaired_total\{entity="client",kind="added"\} [1-9]/);
    expect(text).toMatch(/hub_mirror_reconcile_runs_total\{outcome="ok"\} [1-9]/);
    expect(text).toMatch(/^hub_mirror_reconcile_last_success_seconds [1-9]\d*(\.\d+)?$/m);
  });

  it('skips a run while another holds the lock', async () => {
    await producer.set(`${prefix}:${reconcileQueueName}:running`, 'other-process', 'PX', 60_000);
    scheduler = await start(300);
    const queue = new Queue(reconcileQueueName, { connection: producer, prefix });

    await waitFor(async () => (await queue.getCompletedCount()) >= 1);
    const [job] = await queue.getCompleted();
    await queue.close();

    expect(job?.returnvalue).toBe('skipped: another reconcile is running');
    expect((await store.getFavorites(['90001'])).size).toBe(0);
  });

  it('restart keeps the next run', async () => {
    scheduler = await start(3_600_000);
    const queue = new Queue(reconcileQueueName, { connection: producer, prefix });
    const first = await queue.getJobScheduler('mirror-reconcile');
    await scheduler.close();

    scheduler = await start(3_600_000);
    const second = await queue.getJobScheduler('mirror-reconcile');
    await queue.close();

    expect(first?.next).toBeGreaterThan(Date.now() + 3_500_000);
    expect(second?.next).toBe(first?.next);
  });

  it('interval 0 removes the schedule', async () => {
    scheduler = await start(3_600_000);
    await scheduler.close();

    scheduler = await start(0);
    const queue = new Queue(reconcileQueueName, { connection: producer, prefix });
    const found = await queue.getJobScheduler('mirror-reconcile');
    await queue.close();

    expect(scheduler.scheduled).toBe(false);
    expect(found).toBeUndefined();
  });

  it('interval 0 writes nothing to Redis', async () => {
    scheduler = await start(0);
    await scheduler.close();
    scheduler = null;

    expect(await producer.keys(`${prefix}:*`)).toEqual([]);
  });

  it('no API key schedules nothing', async () => {
    scheduler = await start(300, false);
    await sleep(600);

    expect(scheduler.scheduled).toBe(false);
    expect((await store.getFavorites(['90001'])).size).toBe(0);
  });
});
