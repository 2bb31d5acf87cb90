/**
 * Group commit of the intake: the events handed over in one event-loop turn go to Redis together. Dedupe must behave
 * as with one add per event. A group that Redis does not take must resolve false for each of its events, and none
 * may be lost once the senders retry.
 */
import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventIntake } from '../../src/ingress/event-intake.js';
import { eventIdFor } from '../../src/ingress/webhook-route.js';
import { startHub, type RunningHub } from '../../src/hub.js';
import { createLogger } from '../../src/logger.js';
import { createEventsQueue, createRedis, defaultEventQueueLimits, type EventJobData } from '../../src/queue/queues.js';
import { testHubSettings, type TestHubFolder } from '../helpers/test-hub.js';
import { PrivateRedis } from './private-redis.js';

const enqueueTimeoutMs = 1000;

let redis: PrivateRedis;
let producer: Redis;
let queue: Queue<EventJobData>;
let intake: EventIntake;

function event(body: string): { eventId: string; data: EventJobData } {
  return {
    eventId: eventIdFor('favorite.created', Buffer.from(body)),
    data: { event: 'favorite.created', source: 'repliers', path: '/webhooks/repliers/favorite.created', receivedAt: new Date().toISOString(), body },
  };
}

/** Hands every event to the intake in the same turn, so they form one group, and waits for every result. */
function enqueueTogether(events: { eventId: string; data: EventJobData }[]): Promise<boolean[]> {
  return Promise.all(events.map(({ eventId, data }) => intake.enqueue(eventId, data)));
}

async function bodiesInRedis(eventIds: string[]): Promise<(string | null)[]> {
  return Promise.all(eventIds.map(async (eventId) => (await queue.getJob(eventId))?.data.body ?? null));
}

beforeAll(async () => {
  redis = await PrivateRedis.start();
});

afterAll(async () => {
  await redis?.stop();
});

beforeEach(async () => {
  producer = createRedis(redis.url, 'producer');
  queue = createEventsQueue(producer, `group-${randomBytes(4).toString('hex')}`);
  // BullMQ checks the Redis version once, when the queue opens. If Redis stops during that check, the queue keeps
  // the error for good, so the tests stop Redis only after it.
  await queue.waitUntilReady();
  intake = new EventIntake({ queue, logger: createLogger('silent'), limits: defaultEventQueueLimits, enqueueTimeoutMs });
});

afterEach(async () => {
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  producer.disconnect();
});

describe('a group with duplicates in it', () => {
  it('keeps the first job of each id', async () => {
    const queued = event('{"data":{"favoriteId":1}}');
    expect(await intake.enqueue(queued.eventId, queued.data)).toBe(true);

    const first = event('{"data":{"favoriteId":2}}');
    const other = event('{"data":{"favoriteId":3}}');
    const repeat = { eventId: first.eventId, data: { ...first.data, body: 'the repeat, which must not be stored' } };
    const queuedAgain = { eventId: queued.eventId, data: { ...queued.data, body: 'a repeat of the event already queued' } };

    expect(await enqueueTogether([first, other, repeat, queuedAgain])).toEqual([true, true, true, true]);

    expect(await bodiesInRedis([queued.eventId, first.eventId, other.eventId])).toEqual([
      queued.data.body,
      first.data.body,
      other.data.body,
    ]);
    expect((await queue.getJobCounts('waiting')).waiting).toBe(3);
  });
});

describe('a group that Redis does not take', () => {
  it('fails every event while Redis is down', async () => {
    const events = [1, 2, 3, 4, 5].map((id) => event(`{"data":{"favoriteId":${100 + id}}}`));
    await redis.shutdownSaving();
    try {
      const started = Date.now();
      expect(await enqueueTogether(events)).toEqual([false, false, false, false, false]);
      expect(Date.now() - started).toBeLessThan(enqueueTimeoutMs + 1000);
    } finally {
      await redis.launch();
    }

    // The senders retry until they get a 202. Every event is then in Redis once.
    const deadline = Date.now() + 20_000;
    let answers = await enqueueTogether(events);
    while (answers.includes(false) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      answers = await enqueueTogether(events);
    }
    expect(answers).toEqual([true, true, true, true, true]);
    expect(await bodiesInRedis(events.map((one) => one.eventId))).toEqual(events.map((one) => one.data.body));
    expect((await queue.getJobCounts('waiting')).waiting).toBe(5);
  });

  it('fails every event when Redis hangs', async () => {
    const events = [1, 2, 3].map((id) => event(`{"data":{"favoriteId":${200 + id}}}`));
    expect(await intake.enqueue(events[0]!.eventId, events[0]!.data)).toBe(true);

    redis.pause();
    let answers: boolean[];
    const started = Date.now();
    try {
      answers = await enqueueTogether(events);
    } finally {
      redis.resume();
    }
    expect(answers).toEqual([false, false, false]);
    expect(Date.now() - started).toBeLessThan(enqueueTimeoutMs + 1000);

    // Redis runs the late group once it resumes, so the retries are duplicates of its jobs.
    expect(await enqueueTogether(events)).toEqual([true, true, true]);
    expect(await bodiesInRedis(events.map((one) => one.eventId))).toEqual(events.map((one) => one.data.body));
    expect((await queue.getJobCounts('waiting')).waiting).toBe(3);
  });
});

describe('concurrent deliveries through the hub', () => {
  const secret = 'group-secret-0123456789';
  let folder: TestHubFolder;
  let hub: RunningHub;

  beforeAll(async () => {
    folder = await testHubSettings({ REDIS_URL: redis.url });
    hub = await startHub(folder.settings, 'api', createLogger('silent'));
    await hub.secrets.expect('favorite.created', 60);
    const answer = await fetch(`${hub.url}/webhooks/repliers/favorite.created`, { method: 'POST', headers: { 'x-hook-secret': secret } });
    expect(answer.status).toBe(200);
  });

  afterAll(async () => {
    await hub?.close();
    await folder?.cleanup();
  });

  it('accepts each, one id per body', async () => {
    // 30 deliveries of 10 distinct bodies, sent at once so that they share groups.
    const bodies = Array.from({ length: 30 }, (_, index) => JSON.stringify({ data: { favoriteId: 300 + (index % 10) } }));
    const answers = await Promise.all(
      bodies.map((body) =>
        fetch(`${hub.url}/webhooks/repliers/favorite.created`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hook-secret': secret },
          body,
        }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(bodies.map(() => 202));
    const eventIds = await Promise.all(answers.map(async (answer) => ((await answer.json()) as { eventId: string }).eventId));
    expect(new Set(eventIds).size).toBe(10);
    eventIds.forEach((eventId, index) => expect(eventId).toBe(eventIds[index % 10]));
    expect((await hub.eventsQueue.getJobCounts('waiting')).waiting).toBe(10);
  });
});
