/**
 * `POST /webhooks/sources/<id>` on a real hub: Standard Webhooks signatures checked, repeats of a webhook-id kept
 * to one event, replays outside the tolerance rejected, and the events worker recording the event with its source.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type RunningHub } from '../../src/hub.js';
import { unauthorizedMessage } from '../../src/ingress/webhook-responder.js';
import { createLogger } from '../../src/logger.js';
import { testHubSettings, type TestHubFolder } from '../helpers/test-hub.js';

const crmKey = randomBytes(32);
const erpKey = randomBytes(24);
const crmSecret = `whsec_${crmKey.toString('base64')}`;

let dir: string;
let folder: TestHubFolder;
let hub: RunningHub;

/** Signs the way a Standard Webhooks sender does, written here apart from the hub's code. */
function signed(key: Buffer, webhookId: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const mac = createHmac('sha256', key).update(`${webhookId}.${timestamp}.${body}`).digest('base64');
  return {
    'content-type': 'application/json',
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': `v1,${mac}`,
  };
}

async function post(source: string, headers: Record<string, string>, body: string): Promise<Response> {
  return fetch(`${hub.url}/webhooks/sources/${source}`, { method: 'POST', headers, body });
}

async function jobTotal(): Promise<number> {
  const counts = await hub.eventsQueue.getJobCounts();
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hub-sources-'));
  const file = path.join(dir, 'sources.json');
  await writeFile(
    file,
    JSON.stringify({
      sources: [
        { id: 'crm', secrets: [`whsec_${randomBytes(32).toString('base64')}`, crmSecret] },
        { id: 'erp', secretEnv: 'HUB_TEST_ERP_SECRET', event: 'erp.order.shipped', toleranceSeconds: 60 },
      ],
    }),
  );
  process.env.HUB_TEST_ERP_SECRET = `whsec_${erpKey.toString('base64')}`;
  folder = await testHubSettings({ SOURCES_FILE: file, WEBHOOK_BODY_LIMIT_BYTES: '4096' });
  hub = await startHub(folder.settings, 'all', createLogger('silent'));
});

afterAll(async () => {
  await hub?.close();
  await folder?.cleanup();
  await rm(dir, { recursive: true, force: true });
  delete process.env.HUB_TEST_ERP_SECRET;
});

describe('signed deliveries', () => {
  it('accepts and records a signed event', async () => {
    const body = JSON.stringify({ type: 'contact.updated', data: { id: 'c-1', email: 'ana@example.com' } });
    const answer = await post('crm', signed(crmKey, 'msg_accept_1', body), body);

    expect(answer.status).toBe(202);
    const { eventId } = (await answer.json()) as { eventId: string };
    expect(eventId).toMatch(/^[0-9a-f]{64}$/);
    expect(await eventually(async () => (await hub.store.getEvent(eventId))?.outcome === 'ignored')).toBe(true);
    expect(await hub.store.getEvent(eventId)).toMatchObject({
      event: 'contact.updated',
      source: 'crm',
      path: '/webhooks/sources/crm',
      verified: true,
      payload: body,
    });
  });

  it('takes the event name from the source config', async () => {
    const body = JSON.stringify({ order: 'o-1', type: 'ignored.here' });
    const answer = await post('erp', signed(erpKey, 'msg_erp_1', body), body);

    expect(answer.status).toBe(202);
    const { eventId } = (await answer.json()) as { eventId: string };
    expect((await hub.eventsQueue.getJob(eventId))?.data).toMatchObject({ event: 'erp.order.shipped', source: 'erp', deliveryId: 'msg_erp_1' });
  });

  it('retry with the same webhook-id is one event', async () => {
    const body = JSON.stringify({ type: 'contact.deleted', data: { id: 'c-2' } });
    const first = await post('crm', signed(crmKey, 'msg_retry_1', body), body);
    const before = await jobTotal();
    // A sender's retry carries the same id with a fresh timestamp and signature.
    const retry = await post('crm', signed(crmKey, 'msg_retry_1', body, Math.floor(Date.now() / 1000) + 1), body);

    expect(retry.status).toBe(202);
    expect(await retry.json()).toEqual(await first.json());
    expect(await jobTotal()).toBe(before);
  });

  it('same body with another webhook-id is another event', async () => {
    const body = JSON.stringify({ type: 'contact.updated', data: { id: 'c-3' } });
    const first = await post('crm', signed(crmKey, 'msg_a', body), body);
    const second = await post('crm', signed(crmKey, 'msg_b', body), body);
    expect(await first.json()).not.toEqual(await second.json());
  });
});

describe('rejected deliveries', () => {
  const body = JSON.stringify({ type: 'contact.updated', data: { id: 'c-9' } });
  const now = () => Math.floor(Date.now() / 1000);
  const cases: { name: string; source?: string; headers: () => Record<string, string>; body?: string; status: number; reason: string }[] = [
    { name: 'unknown source', source: 'nobody', headers: () => signed(crmKey, 'msg_r1', body), status: 404, reason: 'unknown_source' },
    { name: 'no signature', headers: () => ({ 'content-type': 'application/json' }), status: 401, reason: 'missing_signature_headers' },
    { name: 'wrong key', headers: () => signed(randomBytes(32), 'msg_r2', body), status: 401, reason: 'no_matching_signature' },
    { name: 'key of another source', headers: () => signed(erpKey, 'msg_r3', body), status: 401, reason: 'no_matching_signature' },
    { name: 'tampered body', headers: () => signed(crmKey, 'msg_r4', body), body: body.replace('c-9', 'c-8'), status: 401, reason: 'no_matching_signature' },
    { name: 'replay past the tolerance', headers: () => signed(crmKey, 'msg_r5', body, now() - 301), status: 401, reason: 'timestamp_out_of_tolerance' },
    { name: 'timestamp far ahead', headers: () => signed(crmKey, 'msg_r6', body, now() + 301), status: 401, reason: 'timestamp_out_of_tolerance' },
    { name: 'form body', headers: () => ({ ...signed(crmKey, 'msg_r7', 'a=1'), 'content-type': 'application/x-www-form-urlencoded' }), body: 'a=1', status: 415, reason: 'unsupported_media_type' },
    { name: 'invalid JSON', headers: () => signed(crmKey, 'msg_r8', '{"type":'), body: '{"type":', status: 400, reason: 'invalid_json' },
    { name: 'empty body', headers: () => signed(crmKey, 'msg_r9', ''), body: '', status: 400, reason: 'invalid_json' },
    { name: 'no event name', headers: () => signed(crmKey, 'msg_r10', '{"data":{}}'), body: '{"data":{}}', status: 400, reason: 'missing_event_name' },
    { name: 'invalid event name', headers: () => signed(crmKey, 'msg_r11', '{"type":"a b"}'), body: '{"type":"a b"}', status: 400, reason: 'missing_event_name' },
    { name: 'body over the limit', headers: () => signed(crmKey, 'msg_r12', 'x'.repeat(5000)), body: 'x'.repeat(5000), status: 413, reason: 'body_too_large' },
  ];

  for (const testCase of cases) {
    it(`${testCase.name}: ${testCase.status}, nothing enqueued`, async () => {
      const before = await jobTotal();
      const counted = hub.counters.get(testCase.reason) ?? 0;
      const answer = await post(testCase.source ?? 'crm', testCase.headers(), testCase.body ?? body);
      expect(answer.status).toBe(testCase.status);
      const { error } = (await answer.json()) as { error: string };
      if (testCase.status === 401) expect(error).toBe(unauthorizedMessage);
      expect(await jobTotal()).toBe(before);
      expect(hub.counters.get(testCase.reason)).toBe(counted + 1);
    });
  }

  it('erp tolerance of 60 seconds applies', async () => {
    const erpBody = JSON.stringify({ order: 'o-2' });
    const answer = await post('erp', signed(erpKey, 'msg_erp_old', erpBody, now() - 120), erpBody);
    expect(answer.status).toBe(401);
  });

  it('unknown source ids stay out of metric labels', async () => {
    const text = await (await fetch(`${hub.url}/metrics`)).text();
    expect(text).toMatch(/hub_webhook_requests_total\{source="unknown",outcome="unknown_source",status="404"\} \d+/);
    expect(text).not.toContain('source="nobody"');
  });
});
