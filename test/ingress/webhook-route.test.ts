/** The webhook route against the real Redis: handshakes, secrets and bad bodies, each with nothing enqueued. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type RunningHub } from '../../src/hub.js';
import { createLogger } from '../../src/logger.js';
import { testHubSettings, type TestHubFolder } from '../helpers/test-hub.js';

let folder: TestHubFolder;
let hub: RunningHub;
const secret = 'a1b2c3d4e5f6a7b8c9d0e1f2';

async function post(path: string, init: { headers?: Record<string, string>; body?: string }): Promise<Response> {
  return fetch(`${hub.url}${path}`, { method: 'POST', headers: init.headers, body: init.body });
}

async function jobTotal(): Promise<number> {
  const counts = await hub.eventsQueue.getJobCounts();
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

const favorite = JSON.stringify({ data: { favoriteId: 1, clientId: 2, mlsNumber: 'X1' }, hook: { event: 'favorite.created' } });

beforeAll(async () => {
  folder = await testHubSettings({ WEBHOOK_BODY_LIMIT_BYTES: '4096' });
  // The API role alone: jobs stay in the queue where the tests can count them.
  hub = await startHub(folder.settings, 'api', createLogger('silent'));
  await hub.secrets.expect('favorite.created', 60);
  const answer = await post('/webhooks/repliers/favorite.created', { headers: { 'x-hook-secret': secret } });
  expect(answer.status).toBe(200);
});

afterAll(async () => {
  await hub?.close();
  await folder?.cleanup();
});

describe('handshake', () => {
  it('echoes the secret and stores it inside the window', async () => {
    expect((await hub.store.getHookSubscription('favorite.created'))?.secret).toBe(secret);
  });

  it('keeps the stored secret when another handshake arrives', async () => {
    await hub.secrets.expect('favorite.created', 60);
    const answer = await post('/webhooks/repliers/favorite.created', { headers: { 'x-hook-secret': 'another-secret-value-123' } });
    expect(answer.status).toBe(401);
    expect((await hub.store.getHookSubscription('favorite.created'))?.secret).toBe(secret);
  });

  it('answers a repeated handshake with the stored secret', async () => {
    const answer = await post('/webhooks/repliers/favorite.created', { headers: { 'x-hook-secret': secret } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-hook-secret')).toBe(secret);
  });

  it('rejects a handshake outside any window', async () => {
    const answer = await post('/webhooks/repliers/listing.updated', { headers: { 'x-hook-secret': secret } });
    expect(answer.status).toBe(401);
    expect(await hub.store.getHookSubscription('listing.updated')).toBeNull();
  });
});

describe('deliveries', () => {
  it('accepts a valid delivery with 202 and its event id', async () => {
    const before = await jobTotal();
    const answer = await post('/webhooks/repliers/favorite.created', {
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-hook-secret': secret },
      body: favorite,
    });
    expect(answer.status).toBe(202);
    const { eventId } = (await answer.json()) as { eventId: string };
    expect(eventId).toMatch(/^[0-9a-f]{64}$/);
    expect(await jobTotal()).toBe(before + 1);
    expect((await hub.eventsQueue.getJob(eventId))?.data.event).toBe('favorite.created');
  });

  const rejected: { name: string; path?: string; headers: Record<string, string>; body?: string; status: number }[] = [
    { name: 'missing secret', headers: { 'content-type': 'application/json' }, body: favorite, status: 401 },
    { name: 'wrong secret', headers: { 'content-type': 'application/json', 'x-hook-secret': 'b1b2c3d4e5f6a7b8c9d0e1f2' }, body: favorite, status: 401 },
    { name: 'secret differing in case', headers: { 'content-type': 'application/json', 'x-hook-secret': secret.toUpperCase() }, body: favorite, status: 401 },
    { name: 'multi-byte secret', headers: { 'content-type': 'application/json', 'x-hook-secret': encodeURIComponent('é') + secret }, body: favorite, status: 401 },
    { name: 'form body', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-hook-secret': secret }, body: 'a=1', status: 415 },
    { name: 'invalid JSON', headers: { 'content-type': 'application/json', 'x-hook-secret': secret }, body: '{"data":', status: 400 },
    { name: 'JSON without data', headers: { 'content-type': 'application/json', 'x-hook-secret': secret }, body: '{"hello":1}', status: 400 },
    { name: 'JSON scalar', headers: { 'content-type': 'application/json', 'x-hook-secret': secret }, body: '42', status: 400 },
    { name: 'empty array', headers: { 'content-type': 'application/json', 'x-hook-secret': secret }, body: '[]', status: 400 },
    {
      name: 'hook.event of another path',
      headers: { 'content-type': 'application/json', 'x-hook-secret': secret },
      body: JSON.stringify({ data: { favoriteId: 1 }, hook: { event: 'favorite.deleted' } }),
      status: 400,
    },
    { name: 'body over the limit', headers: { 'content-type': 'application/json', 'x-hook-secret': secret }, body: JSON.stringify({ data: { pad: 'x'.repeat(5000) } }), status: 413 },
    { name: 'empty body without secret', headers: {}, status: 400 },
    { name: 'unknown event path', path: '/webhooks/repliers/favorite.exploded', headers: { 'content-type': 'application/json', 'x-hook-secret': secret }, body: favorite, status: 404 },
  ];

  for (const testCase of rejected) {
    it(`answers ${testCase.status} for ${testCase.name} and enqueues nothing`, async () => {
      const before = await jobTotal();
      const answer = await post(testCase.path ?? '/webhooks/repliers/favorite.created', { headers: testCase.headers, body: testCase.body });
      expect(answer.status).toBe(testCase.status);
      expect(((await answer.json()) as { error: string }).error).toEqual(expect.any(String));
      expect(await jobTotal()).toBe(before);
    });
  }

  it('accepts a bare array of resources', async () => {
    const answer = await post('/webhooks/repliers/favorite.created', {
      headers: { 'content-type': 'application/json', 'x-hook-secret': secret },
      body: JSON.stringify([{ favoriteId: 7, clientId: 2, mlsNumber: 'X7' }]),
    });
    expect(answer.status).toBe(202);
  });
});

describe('readiness', () => {
  it('reports Redis and the store ready', async () => {
    const answer = await fetch(`${hub.url}/readyz`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ status: 'ready', redis: 'ok', store: 'ok' });
  });
});
