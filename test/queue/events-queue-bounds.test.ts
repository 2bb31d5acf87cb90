/**
 * Redis memory stays bounded: the events queue keeps at most EVENTS_KEEP_COMPLETED completed jobs (as well as
 * removing them by age), and trimming completed jobs by count does not let a repeated delivery through.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type RunningHub } from '../../src/hub.js';
import { createLogger } from '../../src/logger.js';
import { deliveryJobOptions } from '../../src/queue/queues.js';
import { testHubSettings, type TestHubFolder } from '../helpers/test-hub.js';

const secret = 'bounds-secret-0123456789';
const keepCompleted = 5;
const events = 20;

let folder: TestHubFolder;
let hub: RunningHub;

function body(index: number): string {
  return JSON.stringify({ data: { favoriteId: 9000 + index, clientId: `c${index}`, mlsNumber: `B${index}` } });
}

async function deliver(index: number): Promise<{ status: number; eventId: string }> {
  const answer = await fetch(`${hub.url}/webhooks/repliers/favorite.deleted`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hook-secret': secret },
    body: body(index),
  });
  return { status: answer.status, eventId: ((await answer.json()) as { eventId: string }).eventId };
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

beforeAll(async () => {
  folder = await testHubSettings({ EVENTS_KEEP_COMPLETED: String(keepCompleted), EVENTS_KEEP_FAILED: '7' });
  hub = await startHub(folder.settings, 'all', createLogger('silent'));
  await hub.secrets.expect('favorite.deleted', 60);
  const answer = await fetch(`${hub.url}/webhooks/repliers/favorite.deleted`, { method: 'POST', headers: { 'x-hook-secret': secret } });
  expect(answer.status).toBe(200);
});

afterAll(async () => {
  await hub?.close();
  await folder?.cleanup();
  // Dedupe keys of trimmed jobs outlive the queue's obliteration; they expire after a day but are removed now.
  const redis = new Redis(folder.settings.redisUrl);
  const keys = await redis.keys(`${folder.settings.queuePrefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('events queue', () => {
  it('keeps completed jobs bounded by count', async () => {
    const ids: string[] = [];
    for (let index = 0; index < events; index += 1) {
      const answer = await deliver(index);
      expect(answer.status).toBe(202);
      ids.push(answer.eventId);
    }

    expect(await eventually(async () => (await hub.store.listEvents({ limit: -1 })).filter((event) => event.finishedAt).length === events)).toBe(true);
    const counts = await hub.eventsQueue.getJobCounts('completed', 'failed', 'waiting', 'active');
    expect(counts.failed).toBe(0);
    expect(counts.completed).toBeLessThanOrEqual(keepCompleted);
    expect(counts.completed).toBeGreaterThan(0);

    const kept = await hub.eventsQueue.getJob(ids[events - 1]!);
    expect(kept?.opts.removeOnComplete).toEqual({ age: 86_400, count: keepCompleted });
    expect(kept?.opts.removeOnFail).toEqual({ age: 7 * 86_400, count: 7 });
    expect(await hub.eventsQueue.getJob(ids[0]!)).toBeUndefined();
  });

  it('drops a repeat of a trimmed job', async () => {
    const before = await hub.eventsQueue.getJobCounts('completed', 'waiting', 'active', 'delayed');

    const repeat = await deliver(0);

    expect(repeat.status).toBe(202);
    expect(await hub.eventsQueue.getJob(repeat.eventId)).toBeUndefined();
    expect(await hub.eventsQueue.getJobCounts('completed', 'waiting', 'active', 'delayed')).toEqual(before);
    expect(await hub.store.listEvents({ limit: -1 })).toHaveLength(events);
  });

  it('delivery jobs are bounded by count too', () => {
    expect(deliveryJobOptions.removeOnComplete).toMatchObject({ count: expect.any(Number) });
    expect(deliveryJobOptions.removeOnFail).toMatchObject({ count: expect.any(Number) });
  });
});
