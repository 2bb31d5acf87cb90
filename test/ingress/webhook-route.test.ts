/** The webhook route against the real Redis: handshakes, secrets and bad bodies, each with nothing enqueued. */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type RunningHub } from '../../src/hub.js';
import { unauthorizedMessage } from '../../src/ingress/webhook-responder.js';
import { createLogger } from '../../src/logger.js';
import { testHubSettings, type TestHubFolder } from '../helpers/test-hub.js';
import { rawRequest } from './raw-http.js';

let folder: TestHubFolder;
let hub: RunningHub;
const secret = 'a1b2c3d4e5f6a7b8c9d0e1f2';
const path = '/webhooks/repliers/favorite.created';

async function post(url: string, init: { headers?: Record<string, string>; body?: string | Buffer }): Promise<Response> {
  return fetch(`${hub.url}${url}`, { method: 'POST', headers: init.headers, body: init.body });
}

async function jobTotal(): Promise<number> {
  const counts = await hub.eventsQueue.getJobCounts();
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

const favorite = JSON.stringify({ data: { favoriteId: 1, clientId: 2, mlsNumber: 'X1' }, hook: { event: 'favorite.created' } });
const json = { 'content-type': 'application/json' };

beforeAll(async () => {
  folder = await testHubSettings({ WEBHOOK_BODY_LIMIT_BYTES: '4096' });
  // The API role alone: jobs stay in the queue where the tests can count them.
  hub = await startHub(folder.settings, 'api', createLogger('silent'));
  await hub.secrets.expect('favorite.created', 60);
  const answer = await post(path, { headers: { 'x-hook-secret': secret } });
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
    const answer = await post(path, { headers: { 'x-hook-secret': 'another-secret-value-123' } });
    expect(answer.status).toBe(401);
    expect(await answer.json()).toEqual({ error: unauthorizedMessage });
    expect((await hub.store.getHookSubscription('favorite.created'))?.secret).toBe(secret);
  });

  it('repeated handshake gets the stored secret', async () => {
    const answer = await post(path, { headers: { 'x-hook-secret': secret } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-hook-secret')).toBe(secret);
  });

  it('rejects a handshake outside any window', async () => {
    const answer = await post('/webhooks/repliers/listing.updated', { headers: { 'x-hook-secret': secret } });
    expect(answer.status).toBe(401);
    expect(await hub.store.getHookSubscription('listing.updated')).toBeNull();
  });

  it('rejects an implausible secret inside a window', async () => {
    await hub.secrets.expect('client.created', 60);
    const answer = await post('/webhooks/repliers/client.created', { headers: { 'x-hook-secret': 'short' } });
    expect(answer.status).toBe(401);
    expect(await answer.json()).toEqual({ error: unauthorizedMessage });
    expect(await hub.store.getHookSubscription('client.created')).toBeNull();
    expect(await hub.secrets.isExpected('client.created')).toBe(true);
  });

  it('handshake in x-api-key responds there', async () => {
    const apiKey = 'k9k8k7k6k5k4k3k2k1k0';
    await hub.secrets.expect('favorite.deleted', 60);
    const answer = await post('/webhooks/repliers/favorite.deleted', { headers: { 'x-api-key': apiKey } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-api-key')).toBe(apiKey);
    expect(answer.headers.get('x-hook-secret')).toBeNull();

    const delivery = await post('/webhooks/repliers/favorite.deleted', {
      headers: { ...json, 'x-api-key': apiKey },
      body: JSON.stringify({ data: { favoriteId: 3 }, hook: { event: 'favorite.deleted' } }),
    });
    expect(delivery.status).toBe(202);
  });

  it('closes the window once a secret is stored', async () => {
    await hub.secrets.expect('agent.created', 60);
    await post('/webhooks/repliers/agent.created', { headers: { 'x-hook-secret': 'agent-secret-0001' } });
    expect(await hub.secrets.isExpected('agent.created')).toBe(false);
  });
});

describe('secret header values', () => {
  const cases: { name: string; headers: [string, string | Buffer][] }[] = [
    { name: 'missing', headers: [] },
    { name: 'short', headers: [['X-Hook-Secret', secret.slice(0, 7)]] },
    { name: 'long', headers: [['X-Hook-Secret', secret.repeat(22)]] },
    { name: 'multi-byte', headers: [['X-Hook-Secret', Buffer.concat([Buffer.from('é', 'utf8'), Buffer.from(secret)])]] },
    { name: 'sent twice', headers: [['X-Hook-Secret', secret], ['X-Hook-Secret', secret]] },
    { name: 'differently cased', headers: [['X-Hook-Secret', secret.toUpperCase()]] },
    { name: 'empty', headers: [['X-Hook-Secret', '']] },
    { name: 'with a suffix', headers: [['X-Hook-Secret', `${secret}x`]] },
    { name: 'wrong first header', headers: [['X-Hook-Secret', 'b1b2c3d4e5f6a7b8c9d0e1f2'], ['X-Api-Key', secret]] },
  ];

  for (const testCase of cases) {
    it(`${testCase.name} value gets a generic 401`, async () => {
      const before = await jobTotal();
      const answer = await rawRequest(hub.url!, {
        path,
        headers: [['Content-Type', 'application/json'], ...testCase.headers],
        body: favorite,
      });
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body)).toEqual({ error: unauthorizedMessage });
      expect(await jobTotal()).toBe(before);
    });
  }

  it('control character is rejected by the HTTP parser', async () => {
    // Node's HTTP parser responds 400 to a header value with a control character before any route runs.
    const before = await jobTotal();
    const answer = await rawRequest(hub.url!, {
      path,
      headers: [['Content-Type', 'application/json'], ['X-Hook-Secret', `${secret}\u0001`]],
      body: favorite,
    });
    expect(answer.status).toBe(400);
    expect(await jobTotal()).toBe(before);
  });

  it('sent-twice handshake is rejected', async () => {
    await hub.secrets.expect('client.deleted', 60);
    const answer = await rawRequest(hub.url!, {
      path: '/webhooks/repliers/client.deleted',
      headers: [['X-Hook-Secret', secret], ['X-Hook-Secret', secret]],
    });
    expect(answer.status).toBe(401);
    expect(await hub.store.getHookSubscription('client.deleted')).toBeNull();
  });

  it('secret in x-api-key alone is accepted', async () => {
    const answer = await post(path, { headers: { ...json, 'x-api-key': secret }, body: JSON.stringify({ data: { favoriteId: 41 } }) });
    expect(answer.status).toBe(202);
  });
});

describe('deliveries', () => {
  it('accepts a valid delivery with 202 and its event id', async () => {
    const before = await jobTotal();
    const answer = await post(path, {
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-hook-secret': secret },
      body: favorite,
    });
    expect(answer.status).toBe(202);
    const { eventId } = (await answer.json()) as { eventId: string };
    expect(eventId).toMatch(/^[0-9a-f]{64}$/);
    expect(await jobTotal()).toBe(before + 1);
    const job = await hub.eventsQueue.getJob(eventId);
    expect(job?.data).toMatchObject({ event: 'favorite.created', source: 'repliers', path, body: favorite });
  });

  const withSecret = { ...json, 'x-hook-secret': secret };
  const rejected: { name: string; path?: string; headers: Record<string, string>; body?: string | Buffer; status: number; reason: string }[] = [
    { name: 'missing secret', headers: json, body: favorite, status: 401, reason: 'missing_secret' },
    { name: 'wrong secret', headers: { ...json, 'x-hook-secret': 'b1b2c3d4e5f6a7b8c9d0e1f2' }, body: favorite, status: 401, reason: 'bad_secret' },
    { name: 'secret differing in case', headers: { ...json, 'x-hook-secret': secret.toUpperCase() }, body: favorite, status: 401, reason: 'bad_secret' },
    { name: 'multi-byte secret', headers: { ...json, 'x-hook-secret': encodeURIComponent('é') + secret }, body: favorite, status: 401, reason: 'bad_secret' },
    { name: 'form body', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-hook-secret': secret }, body: 'a=1', status: 415, reason: 'unsupported_media_type' },
    { name: 'no content type', headers: { 'x-hook-secret': secret }, body: Buffer.from(favorite), status: 415, reason: 'unsupported_media_type' },
    { name: 'JSON in Latin-1', headers: { 'content-type': 'application/json; charset=iso-8859-1', 'x-hook-secret': secret }, body: favorite, status: 415, reason: 'unsupported_charset' },
    { name: 'unknown content encoding', headers: { ...withSecret, 'content-encoding': 'compress' }, body: favorite, status: 415, reason: 'unsupported_encoding' },
    { name: 'corrupt gzip', headers: { ...withSecret, 'content-encoding': 'gzip' }, body: favorite, status: 400, reason: 'invalid_encoding' },
    { name: 'invalid JSON', headers: withSecret, body: '{"data":', status: 400, reason: 'invalid_json' },
    { name: 'invalid UTF-8', headers: withSecret, body: Buffer.from([0x7b, 0x22, 0x64, 0xff, 0x22, 0x3a, 0x31, 0x7d]), status: 400, reason: 'invalid_utf8' },
    { name: 'JSON without data', headers: withSecret, body: '{"hello":1}', status: 400, reason: 'invalid_body' },
    { name: 'JSON scalar', headers: withSecret, body: '42', status: 400, reason: 'invalid_body' },
    { name: 'JSON null', headers: withSecret, body: 'null', status: 400, reason: 'invalid_body' },
    { name: 'empty array', headers: withSecret, body: '[]', status: 400, reason: 'invalid_body' },
    { name: 'array of scalars', headers: withSecret, body: '[1,2]', status: 400, reason: 'invalid_body' },
    {
      name: 'hook.event of another path',
      headers: withSecret,
      body: JSON.stringify({ data: { favoriteId: 1 }, hook: { event: 'favorite.deleted' } }),
      status: 400,
      reason: 'event_mismatch',
    },
    { name: 'body over the limit', headers: withSecret, body: JSON.stringify({ data: { pad: 'x'.repeat(5000) } }), status: 413, reason: 'body_too_large' },
    { name: 'gzip body over the limit once decoded', headers: { ...withSecret, 'content-encoding': 'gzip' }, body: gzipSync(JSON.stringify({ data: { pad: 'x'.repeat(50_000) } })), status: 413, reason: 'body_too_large' },
    { name: 'empty body without secret', headers: {}, status: 400, reason: 'empty_body' },
    { name: 'unknown event path', path: '/webhooks/repliers/favorite.exploded', headers: withSecret, body: favorite, status: 404, reason: 'unknown_event' },
  ];

  for (const testCase of rejected) {
    it(`${testCase.name}: ${testCase.status}, nothing enqueued`, async () => {
      const before = await jobTotal();
      const counted = hub.counters.get(testCase.reason) ?? 0;
      const answer = await post(testCase.path ?? path, { headers: testCase.headers, body: testCase.body });
      expect(answer.status).toBe(testCase.status);
      const { error } = (await answer.json()) as { error: string };
      expect(error).toEqual(expect.any(String));
      if (testCase.status === 401) expect(error).toBe(unauthorizedMessage);
      expect(await jobTotal()).toBe(before);
      expect(hub.counters.get(testCase.reason)).toBe(counted + 1);
    });
  }

  it('chunked body over the limit: 413', async () => {
    const before = await jobTotal();
    const answer = await rawRequest(hub.url!, {
      path,
      headers: [['Content-Type', 'application/json'], ['X-Hook-Secret', secret]],
      body: JSON.stringify({ data: { pad: 'x'.repeat(10_000) } }),
      chunked: true,
    });
    expect(answer.status).toBe(413);
    expect(await jobTotal()).toBe(before);
  });

  it('accepts a chunked body under the limit', async () => {
    const answer = await rawRequest(hub.url!, {
      path,
      headers: [['Content-Type', 'application/json'], ['X-Hook-Secret', secret]],
      body: JSON.stringify({ data: { favoriteId: 51, pad: 'y'.repeat(3000) } }),
      chunked: true,
    });
    expect(answer.status).toBe(202);
  });

  it('accepts a bare array of resources', async () => {
    const answer = await post(path, {
      headers: withSecret,
      body: JSON.stringify([{ favoriteId: 7, clientId: 2, mlsNumber: 'X7' }]),
    });
    expect(answer.status).toBe(202);
  });

  it('accepts a +json media type', async () => {
    const answer = await post(path, {
      headers: { 'content-type': 'application/vnd.repliers+json', 'x-hook-secret': secret },
      body: JSON.stringify({ data: { favoriteId: 8 } }),
    });
    expect(answer.status).toBe(202);
  });

  it('accepts a body with a byte order mark', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ data: { favoriteId: 9 } }))]);
    const answer = await post(path, { headers: withSecret, body });
    expect(answer.status).toBe(202);
    const { eventId } = (await answer.json()) as { eventId: string };
    expect(JSON.parse((await hub.eventsQueue.getJob(eventId))!.data.body)).toEqual({ data: { favoriteId: 9 } });
  });

  it('gzip body has the event id of the plain one', async () => {
    const body = JSON.stringify({ data: { favoriteId: 10 } });
    const plain = await post(path, { headers: withSecret, body });
    const zipped = await post(path, { headers: { ...withSecret, 'content-encoding': 'gzip' }, body: gzipSync(body) });
    expect(zipped.status).toBe(202);
    expect(await zipped.json()).toEqual(await plain.json());
  });

  it('trailing slash reaches the route through Express', async () => {
    const answer = await post(`${path}/`, { headers: withSecret, body: JSON.stringify({ data: { favoriteId: 12 } }) });
    expect(answer.status).toBe(202);
  });

  it('percent-encoded event name is decoded', async () => {
    const answer = await post('/webhooks/repliers/favorite%2Ecreated', { headers: withSecret, body: JSON.stringify({ data: { favoriteId: 13 } }) });
    expect(answer.status).toBe(202);
  });

  it('other methods are not webhook deliveries', async () => {
    const before = await jobTotal();
    const answer = await fetch(`${hub.url}${path}`, { method: 'PUT', headers: withSecret, body: favorite });
    expect(answer.status).toBe(404);
    expect(await jobTotal()).toBe(before);
  });

  it('query string keeps the route', async () => {
    const answer = await post(`${path}?attempt=2`, { headers: withSecret, body: JSON.stringify({ data: { favoriteId: 11 } }) });
    expect(answer.status).toBe(202);
  });
});

describe('duplicates', () => {
  const withSecret = { ...json, 'x-hook-secret': secret };

  it('repeated delivery becomes one event', async () => {
    const body = JSON.stringify({ data: { favoriteId: 21, clientId: 2, mlsNumber: 'X21' } });
    const first = await post(path, { headers: withSecret, body });
    const before = await jobTotal();
    const second = await post(path, { headers: withSecret, body });

    expect(second.status).toBe(202);
    expect(await second.json()).toEqual(await first.json());
    expect(await jobTotal()).toBe(before);
  });

  it('event id is the digest of event and body', async () => {
    // The id must not change between versions, or a retry across an upgrade would be queued twice.
    for (const favoriteId of [41, 42]) {
      const body = JSON.stringify({ data: { favoriteId, clientId: 2, mlsNumber: `X${favoriteId}` } });
      const answer = await post(path, { headers: withSecret, body });
      const expected = createHash('sha256').update(`favorite.created\n${body}`).digest('hex');
      expect(await answer.json()).toEqual({ eventId: expected });
    }
  });

  it('later change of a listing is a second event', async () => {
    await hub.secrets.expect('listing.updated', 60);
    await post('/webhooks/repliers/listing.updated', { headers: { 'x-hook-secret': secret } });
    const listing = (listPrice: string) =>
      JSON.stringify({ data: { mlsNumber: '1421130', boardId: 12, listPrice }, previous: { listPrice: '709900.00' }, hook: { event: 'listing.updated' } });
    const before = await jobTotal();

    const first = await post('/webhooks/repliers/listing.updated', { headers: withSecret, body: listing('699900.00') });
    const second = await post('/webhooks/repliers/listing.updated', { headers: withSecret, body: listing('689900.00') });

    const firstId = ((await first.json()) as { eventId: string }).eventId;
    const secondId = ((await second.json()) as { eventId: string }).eventId;
    expect(firstId).not.toBe(secondId);
    expect(await jobTotal()).toBe(before + 2);
    expect(JSON.parse((await hub.eventsQueue.getJob(secondId))!.data.body).data.listPrice).toBe('689900.00');
  });

  it('same body on another event path is another event', async () => {
    const body = JSON.stringify({ data: { favoriteId: 22 } });
    const created = await post(path, { headers: withSecret, body });
    const deleted = await post('/webhooks/repliers/favorite.deleted', { headers: { ...json, 'x-api-key': 'k9k8k7k6k5k4k3k2k1k0' }, body });
    expect(created.status).toBe(202);
    expect(deleted.status).toBe(202);
    expect(await created.json()).not.toEqual(await deleted.json());
  });

  const awkward = [
    { name: 'colons', data: { favoriteId: 'a:b:c', mlsNumber: 'X:1', comments: 'job:id:123' } },
    { name: 'unicode', data: { favoriteId: 31, comments: 'Maison près du parc 🏡 — 日本語' } },
  ];
  for (const testCase of awkward) {
    it(`payload with ${testCase.name} gets a valid job id`, async () => {
      const answer = await post(path, { headers: withSecret, body: JSON.stringify([testCase.data]) });
      expect(answer.status).toBe(202);
      const { eventId } = (await answer.json()) as { eventId: string };
      expect(eventId).toMatch(/^[0-9a-f]{64}$/);
      expect((await hub.eventsQueue.getJob(eventId))?.id).toBe(eventId);
    });
  }
});

describe('metrics', () => {
  it('serves ingress counters', async () => {
    const answer = await fetch(`${hub.url}/metrics`);
    expect(answer.status).toBe(200);
    const text = await answer.text();
    expect(text).toMatch(/hub_webhook_requests_total\{source="repliers",outcome="accepted",status="202"\} \d+/);
    expect(text).toMatch(/hub_webhook_requests_total\{source="repliers",outcome="bad_secret",status="401"\} \d+/);
    expect(text).toContain('hub_webhook_ack_seconds_bucket');
  });
});

describe('readiness', () => {
  it('reports Redis and the store ready', async () => {
    const answer = await fetch(`${hub.url}/readyz`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ status: 'ready', redis: 'ok', store: 'ok' });
  });
});
