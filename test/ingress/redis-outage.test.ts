/**
 * The ingress while its Redis goes away: it responds 503 within seconds instead of hanging, reports not ready, takes
 * events again by itself when Redis returns, and every event it accepted with 202 is a job afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type RunningHub } from '../../src/hub.js';
import { createLogger } from '../../src/logger.js';
import { testHubSettings, type TestHubFolder } from '../helpers/test-hub.js';
import { PrivateRedis } from './private-redis.js';

const secret = 'outage-secret-0123456789';
const enqueueTimeoutMs = 1500;

let redis: PrivateRedis;
let folder: TestHubFolder;
let hub: RunningHub;
let sequence = 0;

async function send(): Promise<{ status: number; eventId?: string; elapsedMs: number }> {
  sequence += 1;
  const started = Date.now();
  const answer = await fetch(`${hub.url}/webhooks/repliers/favorite.created`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hook-secret': secret },
    body: JSON.stringify({ data: { favoriteId: sequence, clientId: 2, mlsNumber: `X${sequence}` } }),
  });
  const body = (await answer.json()) as { eventId?: string };
  return { status: answer.status, eventId: body.eventId, elapsedMs: Date.now() - started };
}

async function readiness(): Promise<{ status: number; redis: string }> {
  const answer = await fetch(`${hub.url}/readyz`);
  return { status: answer.status, redis: ((await answer.json()) as { redis: string }).redis };
}

/** Polls `check` every 200 ms until it returns true or `timeoutMs` passes. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return check();
}

/** Sends requests from `senders` loops until stopped, at most `maxRequests` in all, and records every response. */
function startTraffic(senders: number, maxRequests: number) {
  const accepted = new Set<string>();
  const statuses = new Map<number, number>();
  let stopped = false;
  let sent = 0;
  const loops = Array.from({ length: senders }, async () => {
    while (!stopped && sent < maxRequests) {
      sent += 1;
      const answer = await send();
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status === 202 && answer.eventId) accepted.add(answer.eventId);
      if (answer.status !== 202) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  return {
    accepted,
    statuses,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

beforeAll(async () => {
  redis = await PrivateRedis.start();
  folder = await testHubSettings({ REDIS_URL: redis.url, ENQUEUE_TIMEOUT_MS: String(enqueueTimeoutMs) });
  hub = await startHub(folder.settings, 'api', createLogger('silent'));
  await hub.secrets.expect('favorite.created', 60);
  const answer = await fetch(`${hub.url}/webhooks/repliers/favorite.created`, { method: 'POST', headers: { 'x-hook-secret': secret } });
  expect(answer.status).toBe(200);
});

afterAll(async () => {
  await hub?.close();
  await folder?.cleanup();
  await redis?.stop();
});

describe('when Redis stops', () => {
  it('responds 503 and loses nothing', async () => {
    const traffic = startTraffic(4, 5000);
    expect(await eventually(async () => traffic.accepted.size >= 20)).toBe(true);

    await redis.shutdownSaving();

    const down = await send();
    expect(down.status).toBe(503);
    expect(down.elapsedMs).toBeLessThan(5000);
    expect(await readiness()).toEqual({ status: 503, redis: 'unavailable' });

    await redis.launch();

    expect(await eventually(async () => (await send()).status === 202)).toBe(true);
    expect(await eventually(async () => (await readiness()).status === 200)).toBe(true);
    const acceptedAfter = traffic.accepted.size;
    expect(await eventually(async () => traffic.accepted.size > acceptedAfter)).toBe(true);
    await traffic.stop();

    expect([...traffic.statuses.keys()].filter((status) => status !== 202 && status !== 503)).toEqual([]);
    const missing: string[] = [];
    for (const eventId of traffic.accepted) {
      if (!(await hub.eventsQueue.getJob(eventId))) missing.push(eventId);
    }
    expect(missing).toEqual([]);
  });
});

describe('when Redis hangs', () => {
  it('responds 503 within the timeout', async () => {
    expect((await send()).status).toBe(202);

    redis.pause();
    try {
      const hung = await send();
      expect(hung.status).toBe(503);
      expect(hung.elapsedMs).toBeLessThan(enqueueTimeoutMs + 3000);
      expect((await readiness()).status).toBe(503);
    } finally {
      redis.resume();
    }

    expect(await eventually(async () => (await send()).status === 202)).toBe(true);
    expect((await readiness()).status).toBe(200);
  });
});
