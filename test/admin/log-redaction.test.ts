/**
 * An end-to-end run with every log line captured in memory at trace level: webhooks over HTTP, a rejected email,
 * admin calls, a failed sign-in and a webhook with a wrong secret. No line may contain a secret, a token, a hook
 * secret, or an email address or phone number of the test data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionValue } from '../../src/admin/admin-auth.js';
import { webhookBody } from '../../src/demo/repliers-stand-in.js';
import { createLogger } from '../../src/logger.js';
import { adminCall, adminToken, startAdminWorld, waitUntil, type AdminWorld } from './admin-world.js';

const lines: string[] = [];
let world: AdminWorld;

beforeAll(async () => {
  world = await startAdminWorld(createLogger('trace', { write: (line: string) => void lines.push(line) }), { rejectFirst: 1 });
  const eventId = await world.sendPriceDrop(0, '640000.00');

  const failed = (await adminCall(world.url, 'GET', '/admin/api/deliveries?status=failed')).body.deliveries[0];
  await adminCall(world.url, 'POST', `/admin/api/deliveries/${failed.key}/retry`);
  await waitUntil(() => world.hub.store.getDelivery(failed.key), (delivery) => delivery?.status === 'sent');
  await adminCall(world.url, 'GET', `/admin/api/events/${eventId}`);
  await adminCall(world.url, 'POST', '/admin/api/rules/preview', { eventId });
  const replay = await adminCall(world.url, 'POST', `/admin/api/events/${eventId}/replay`, { force: true });
  await waitUntil(() => world.hub.eventsQueue.getJobState(replay.body.jobId), (state) => state === 'completed');
  await fetch(`${world.url}/admin/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'wrong' }) });
  await fetch(`${world.url}/admin/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: adminToken }) });
  await fetch(`${world.url}/webhooks/repliers/listing.updated`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hook-secret': 'forged-secret-0123456789abcdef' },
    body: JSON.stringify(webhookBody('listing.updated', world.listings[0])),
  });
  // Let the workers finish logging what the replay queued.
  await waitUntil(async () => (await world.hub.store.listDeliveries(eventId)).every((delivery) => delivery.status === 'sent'), Boolean);
}, 120_000);

afterAll(async () => {
  await world?.close();
});

function forbiddenValues(): [string, string][] {
  const values: [string, string][] = [
    ['admin token', adminToken],
    ['admin session cookie', sessionValue(adminToken)],
    ['Repliers API key', world.standIn.apiKey],
    ['forged hook secret', 'forged-secret-0123456789abcdef'],
  ];
  for (const event of ['favorite.created', 'listing.updated']) values.push([`hook secret of ${event}`, world.standIn.secretOf(event)!]);
  for (const person of [...world.world.clients, ...world.world.agents]) {
    if (person.email) values.push(['email address', person.email]);
    if (person.phone) values.push(['phone number', String(person.phone)]);
  }
  return values;
}

describe('log lines of an end-to-end run', () => {
  it('were written', () => {
    expect(lines.length).toBeGreaterThan(50);
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.some((line) => line.msg === 'delivery failed permanently' || line.level === 50)).toBe(true);
    expect(parsed.some((line) => line.msg === 'delivery retried')).toBe(true);
  });

  it('contain no secret or contact detail', () => {
    const values = forbiddenValues();
    expect(values.length).toBeGreaterThan(10);
    for (const line of lines) {
      for (const [what, value] of values) {
        expect(line.includes(value), `${what} in ${line.slice(0, 300)}`).toBe(false);
      }
    }
  });

  it('contain no email address at all', () => {
    const withEmail = lines.filter((line) => /[\w.+-]+@[\w-]+\.[\w.-]+/.test(line.replace(/@hub\.invalid/g, '')));

    expect(withEmail).toEqual([]);
  });

  it('carry the request id on request lines', () => {
    const requests = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'request finished');

    expect(requests.length).toBeGreaterThan(5);
    expect(requests.every((line) => typeof line.requestId === 'string' && line.requestId !== '')).toBe(true);
  });

  it('carry the event id on event lines', () => {
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const about = parsed.filter((line) => ['event routed', 'delivery sent', 'delivery retried', 'event replay queued'].includes(String(line.msg)));

    expect(about.length).toBeGreaterThan(3);
    expect(about.filter((line) => typeof line.eventId !== 'string')).toEqual([]);
  });

  it('level follows the outcome', () => {
    const parsed = lines.map((line) => JSON.parse(line) as { msg: string; status?: number; level: number });
    const finished = parsed.filter((line) => line.msg === 'request finished');

    expect(finished.filter((line) => line.status! >= 400 && line.status! < 500).every((line) => line.level === 40)).toBe(true);
    const accepted = finished.filter((line) => line.status! < 400);
    const webhooks = accepted.filter((line) => String((line as { path?: string }).path).startsWith('/webhooks/'));
    expect(webhooks.length).toBeGreaterThan(0);
    expect(webhooks.every((line) => line.level === 20)).toBe(true);
    expect(accepted.filter((line) => !webhooks.includes(line)).every((line) => line.level === 30)).toBe(true);
    expect(finished.some((line) => line.status === 401)).toBe(true);
  });
});
