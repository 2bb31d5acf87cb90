/**
 * The admin API against a running hub on the real Redis, with real SMTP: authentication on every documented route,
 * the event log and its filters, the rule trace, replays, retries of failed deliveries and the rule tester.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminOpenApi } from '../../src/admin/openapi.js';
import { createLogger } from '../../src/logger.js';
import { deliveryQueueName } from '../../src/queue/queues.js';
import { adminCall, adminToken, startAdminWorld, waitUntil, type AdminWorld } from './admin-world.js';

let world: AdminWorld;
/** The price drop on listing 0, favorited by three clients; its first email was rejected by the sink. */
let priceDropId: string;

beforeAll(async () => {
  world = await startAdminWorld(createLogger('silent'), { rejectFirst: 1 });
  priceDropId = await world.sendPriceDrop(0, '650000.00');
}, 120_000);

afterAll(async () => {
  await world?.close();
});

/** Lists every (method, path) of the OpenAPI document, with path parameters filled in. */
function documentedRoutes(): { method: string; path: string }[] {
  return Object.entries(adminOpenApi.paths).flatMap(([template, operations]) =>
    Object.keys(operations).map((method) => ({ method: method.toUpperCase(), path: template.replace(/\{[^}]+\}/g, 'some-id') })),
  );
}

describe('admin authentication', () => {
  it('answers 401 without a token on every route', async () => {
    const routes = documentedRoutes();
    expect(routes.length).toBeGreaterThan(5);
    for (const route of routes) {
      const answer = await adminCall(world.url, route.method, route.path, route.method === 'POST' ? {} : undefined, null);
      expect(answer.status, `${route.method} ${route.path}`).toBe(401);
      expect(answer.body.code).toBe('ADMIN_UNAUTHORIZED');
    }
  });

  it('answers 401 with a wrong token on every route', async () => {
    for (const route of documentedRoutes()) {
      const answer = await adminCall(world.url, route.method, route.path, undefined, `${adminToken}x`);
      expect(answer.status, `${route.method} ${route.path}`).toBe(401);
    }
  });

  it('accepts the token on every route', async () => {
    for (const route of documentedRoutes()) {
      // The bulk retry gets a filter that matches nothing, so this test changes no delivery.
      const body = route.path === '/admin/api/deliveries/retry' ? { eventId: 'no-such-event' } : {};
      const answer = await adminCall(world.url, route.method, route.path, route.method === 'POST' ? body : undefined);
      expect(answer.status, `${route.method} ${route.path}`).not.toBe(401);
      expect(answer.status, `${route.method} ${route.path}`).toBeLessThan(500);
    }
  });

  it('answers 401 on Bull Board without token or cookie', async () => {
    const answer = await fetch(`${world.url}/admin/queues/`);
    expect(answer.status).toBe(401);
  });

  it('login cookie opens Bull Board', async () => {
    const wrong = await fetch(`${world.url}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'not-the-token' }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const login = await fetch(`${world.url}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: adminToken }),
    });
    expect(login.status).toBe(204);
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain(adminToken);

    const board = await fetch(`${world.url}/admin/queues/`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(board.status).toBe(200);
    expect(await board.text()).toContain('<html');
  });

  it('cookie alone does not open the API', async () => {
    const login = await fetch(`${world.url}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: adminToken }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;

    const answer = await fetch(`${world.url}/admin/api/events`, { headers: { cookie } });

    expect(answer.status).toBe(401);
  });

  it('serves the page without data', async () => {
    const page = await fetch(`${world.url}/admin/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('admin.js');

    const script = await fetch(`${world.url}/admin/admin.js`);
    expect(script.status).toBe(200);
    expect(await script.text()).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });
});

describe('event log', () => {
  it('finds the price drop by listing', async () => {
    const mlsNumber = world.listings[0]!.mlsNumber;

    const answer = await adminCall(world.url, 'GET', `/admin/api/events?mlsNumber=${mlsNumber}`);

    expect(answer.status).toBe(200);
    const ids = answer.body.events.map((event: { eventId: string }) => event.eventId);
    expect(ids[0]).toBe(priceDropId);
    // The favorites of the listing were created earlier and concern it too.
    expect(ids.length).toBe(4);
  });

  it('finds events by client and type', async () => {
    const fan = world.world.favorites.find((favorite) => favorite.mlsNumber === world.listings[0]!.mlsNumber)!;

    const answer = await adminCall(world.url, 'GET', `/admin/api/events?clientId=${fan.clientId}&type=listing.updated`);

    expect(answer.body.events.map((event: { eventId: string }) => event.eventId)).toEqual([priceDropId]);
  });

  it('client of another listing does not see it', async () => {
    const other = world.world.clients.find(
      (client) => !world.world.favorites.some((favorite) => favorite.clientId === client.clientId && favorite.mlsNumber === world.listings[0]!.mlsNumber),
    )!;

    const answer = await adminCall(world.url, 'GET', `/admin/api/events?clientId=${other.clientId}&type=listing.updated`);

    expect(answer.body.events).toEqual([]);
  });

  it('pages with a cursor', async () => {
    const first = await adminCall(world.url, 'GET', '/admin/api/events?limit=2');
    expect(first.body.events).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));

    const second = await adminCall(world.url, 'GET', `/admin/api/events?limit=2&cursor=${first.body.nextCursor}`);

    expect(second.body.events).toHaveLength(2);
    expect(second.body.events[0].eventId).not.toBe(first.body.events[1].eventId);
  });

  it('filters by a duration or an ISO time', async () => {
    const all = await adminCall(world.url, 'GET', '/admin/api/events?limit=500');
    expect(all.body.events.length).toBeGreaterThan(0);

    const recent = await adminCall(world.url, 'GET', '/admin/api/events?since=1h&limit=500');
    expect(recent.status).toBe(200);
    expect(recent.body.events).toHaveLength(all.body.events.length);

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const none = await adminCall(world.url, 'GET', `/admin/api/events?since=${future}`);
    expect(none.body.events).toEqual([]);

    const older = await adminCall(world.url, 'GET', '/admin/api/events?until=1h');
    expect(older.body.events).toEqual([]);
  });

  it('rejects invalid filters naming the field', async () => {
    const cases: [string, string][] = [
      ['limit=0', 'limit'],
      ['limit=many', 'limit'],
      ['outcome=lost', 'outcome'],
      ['since=yesterday', 'since'],
      ['cursor=abc', 'cursor'],
    ];
    for (const [query, field] of cases) {
      const answer = await adminCall(world.url, 'GET', `/admin/api/events?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.body.field, query).toBe(field);
    }
    const since = await adminCall(world.url, 'GET', '/admin/api/events?since=yesterday');
    expect(since.body.error).toContain('such as 90s, 30m, 24h, 7d or 2w');
    const offset = await adminCall(world.url, 'GET', '/admin/api/events?since=2026-12-04T23:16:05+01:00');
    expect(offset.body.error).toContain('write the + of a time zone offset as %2B');
    const encoded = await adminCall(world.url, 'GET', '/admin/api/events?since=2026-12-04T23:16:05%2B01:00');
    expect(encoded.status).toBe(200);
    const connector = await adminCall(world.url, 'GET', '/admin/api/deliveries?connector=sms');
    expect(connector.status).toBe(400);
    expect(connector.body.field).toBe('connector');
  });

  it('detail explains why clients were emailed', async () => {
    const answer = await adminCall(world.url, 'GET', `/admin/api/events/${priceDropId}`);

    expect(answer.status).toBe(200);
    const detail = answer.body;
    expect(detail.verification.verified).toBe(true);
    expect(detail.trace.matchedRules.map((rule: { id: string }) => rule.id)).toContain('price-drop-email');
    const rule = detail.trace.matchedRules.find((entry: { id: string }) => entry.id === 'price-drop-email');
    expect(rule.description).toMatch(/price/);
    expect(detail.payload.data.mlsNumber).toBe(world.listings[0]!.mlsNumber);
    const emails = detail.deliveries.filter((delivery: { connector: string }) => delivery.connector === 'email');
    expect(emails).toHaveLength(3);
    expect(emails.every((delivery: { key: string }) => /^[0-9a-f]{40}$/.test(delivery.key))).toBe(true);
  });

  it('unknown event is 404', async () => {
    const answer = await adminCall(world.url, 'GET', '/admin/api/events/no-such-event');

    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe('EVENT_NOT_FOUND');
  });
});

describe('failed deliveries', () => {
  it('rejected email is failed with its error', async () => {
    const answer = await adminCall(world.url, 'GET', '/admin/api/deliveries?status=failed&connector=email');

    expect(answer.body.deliveries).toHaveLength(1);
    const failed = answer.body.deliveries[0];
    expect(failed.eventId).toBe(priceDropId);
    expect(failed.lastError).toMatch(/550/);
    expect(failed.job.state).toBe('failed');
    expect(failed.job.errors[0]).toMatch(/550/);
  });

  it('sent delivery is not retried', async () => {
    const sent = (await adminCall(world.url, 'GET', `/admin/api/deliveries?status=sent&eventId=${priceDropId}`)).body.deliveries[0];

    const answer = await adminCall(world.url, 'POST', `/admin/api/deliveries/${sent.key}/retry`);

    expect(answer.status).toBe(409);
    expect(answer.body.code).toBe('DELIVERY_NOT_FAILED');
  });

  it('retry sends the failed email', async () => {
    const failed = (await adminCall(world.url, 'GET', '/admin/api/deliveries?status=failed&connector=email')).body.deliveries[0];
    const mailsBefore = world.smtp.messages.length;

    const answer = await adminCall(world.url, 'POST', `/admin/api/deliveries/${failed.key}/retry`);

    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ key: failed.key, via: 'job' });
    const done = await waitUntil(
      async () => (await adminCall(world.url, 'GET', `/admin/api/deliveries/${failed.key}`)).body,
      (delivery) => delivery.status === 'sent',
    );
    expect(done.attempts).toBe(2);
    expect(world.smtp.messages.length).toBe(mailsBefore + 1);
  });

  it('failed delivery whose job is gone is rebuilt', async () => {
    const eventId = await world.sendPriceDrop(3, '400000.00');
    const [email] = (await world.hub.store.listDeliveries(eventId)).filter((delivery) => delivery.connector === 'email');
    // What BullMQ leaves once it has removed a failed job after its retention time: the record alone.
    await world.hub.store.setDeliveryStatus(email!.key, 'failed', { error: 'SMTP 451 try later' }, new Date().toISOString());
    const deliveries = new Queue(deliveryQueueName('email'), { connection: { url: world.folder.settings.redisUrl }, prefix: world.folder.settings.queuePrefix });
    await (await deliveries.getJob(email!.key))!.remove();
    await deliveries.close();
    const mailsBefore = world.smtp.messages.length;

    const answer = await adminCall(world.url, 'POST', `/admin/api/deliveries/${email!.key}/retry`);

    expect(answer.status).toBe(202);
    expect(answer.body.via).toBe('rebuilt');
    await waitUntil(() => world.hub.store.getDelivery(email!.key), (delivery) => delivery?.status === 'sent');
    expect(world.smtp.messages.length).toBe(mailsBefore + 1);
  });

  it('unknown delivery is 404', async () => {
    const answer = await adminCall(world.url, 'POST', '/admin/api/deliveries/no-such-key/retry');

    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe('DELIVERY_NOT_FOUND');
  });

  it('bulk retry validates its filter', async () => {
    const unknown = await adminCall(world.url, 'POST', '/admin/api/deliveries/retry', { status: 'sent' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.field).toBe('status');

    const none = await adminCall(world.url, 'POST', '/admin/api/deliveries/retry', { connector: 'email' });
    expect(none.status).toBe(200);
    expect(none.body).toEqual({ retried: [], notRetried: [] });
  });

  it('broken JSON body is 400', async () => {
    const response = await fetch(`${world.url}/admin/api/deliveries/retry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: '{"connector":',
    });

    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe('INVALID_BODY');
  });
});

describe('replay', () => {
  it('plain replay sends nothing again', async () => {
    const eventId = await world.sendPriceDrop(1, '500000.00');
    const mailsBefore = world.smtp.messages.length;
    const deliveriesBefore = (await world.hub.store.listDeliveries(eventId)).length;

    const answer = await adminCall(world.url, 'POST', `/admin/api/events/${eventId}/replay`, {});

    expect(answer.status).toBe(202);
    expect(answer.body.jobId).toBe(`${eventId}-replay-1`);
    await waitUntil(() => world.hub.eventsQueue.getJobState(answer.body.jobId), (state) => state === 'completed');
    expect((await world.hub.store.listDeliveries(eventId)).length).toBe(deliveriesBefore);
    expect(world.smtp.messages.length).toBe(mailsBefore);
  });

  it('forced replay sends every email again', async () => {
    const eventId = await world.sendPriceDrop(1, '499000.00');
    const emailsBefore = (await world.hub.store.listDeliveries(eventId)).filter((delivery) => delivery.connector === 'email');
    const mailsBefore = world.smtp.messages.length;

    const answer = await adminCall(world.url, 'POST', `/admin/api/events/${eventId}/replay`, { force: true });

    expect(answer.status).toBe(202);
    const all = await waitUntil(
      async () => (await world.hub.store.listDeliveries(eventId)).filter((delivery) => delivery.connector === 'email'),
      (emails) => emails.length === emailsBefore.length * 2 && emails.every((delivery) => delivery.status === 'sent'),
    );
    expect(new Set(all.map((delivery) => delivery.key)).size).toBe(emailsBefore.length * 2);
    expect(world.smtp.messages.length).toBe(mailsBefore + emailsBefore.length);
    const detail = (await adminCall(world.url, 'GET', `/admin/api/events/${eventId}`)).body;
    expect(detail.event.replayCount).toBe(1);
  });

  it('replay rejects unknown fields and events', async () => {
    const field = await adminCall(world.url, 'POST', `/admin/api/events/${priceDropId}/replay`, { forced: true });
    expect(field.status).toBe(400);
    expect(field.body.field).toBe('forced');

    const unknown = await adminCall(world.url, 'POST', '/admin/api/events/no-such-event/replay', {});
    expect(unknown.status).toBe(404);
  });
});

describe('rule tester', () => {
  it('recorded event shows matches and previews', async () => {
    const answer = await adminCall(world.url, 'POST', '/admin/api/rules/preview', { eventId: priceDropId });

    expect(answer.status).toBe(200);
    expect(answer.body.matchedRules).toContain('price-drop-email');
    const emails = answer.body.deliveries.filter((delivery: { connector: string }) => delivery.connector === 'email');
    expect(emails).toHaveLength(3);
    for (const email of emails) {
      expect(email.recordedStatus).toBe('sent');
      expect(email.preview.subject).toMatch(/price/i);
      expect(email.preview.text).toContain('$650,000');
    }
    expect(answer.body.evaluations.filter((evaluation: { matched: boolean }) => evaluation.matched).length).toBeGreaterThanOrEqual(3);
  });

  it('pasted payload is evaluated without sending', async () => {
    const listing = world.listings[0]!;
    const mailsBefore = world.smtp.messages.length;
    const favoriteIds = world.world.favorites.filter((favorite) => favorite.mlsNumber === listing.mlsNumber).map((favorite) => favorite.favoriteId);

    const answer = await adminCall(world.url, 'POST', '/admin/api/rules/preview', {
      event: 'listing.updated',
      payload: { data: { ...listing, listPrice: '1.00' }, previous: { listPrice: listing.listPrice }, favoriteIds, hook: { event: 'listing.updated' } },
    });

    expect(answer.status).toBe(200);
    expect(answer.body.matchedRules).toContain('price-drop-email');
    expect(answer.body.deliveries.every((delivery: { recordedStatus: unknown }) => delivery.recordedStatus === null)).toBe(true);
    expect(world.smtp.messages.length).toBe(mailsBefore);
  });

  it('price rise matches no email rule', async () => {
    const listing = world.listings[0]!;

    const answer = await adminCall(world.url, 'POST', '/admin/api/rules/preview', {
      event: 'listing.updated',
      payload: { data: { ...listing, listPrice: '9999999.00' }, previous: { listPrice: listing.listPrice } },
    });

    expect(answer.body.rulesForEvent).toContain('price-drop-email');
    expect(answer.body.matchedRules).not.toContain('price-drop-email');
  });

  it('invalid payload is 400', async () => {
    const answer = await adminCall(world.url, 'POST', '/admin/api/rules/preview', { event: 'listing.updated', payload: 42 });

    expect(answer.status).toBe(400);
    expect(answer.body.field).toBe('payload');
  });
});

describe('metrics', () => {
  it('exposes road and queue metrics', async () => {
    const text = await (await fetch(`${world.url}/metrics`)).text();

    expect(text).toMatch(/hub_events_processed_total\{event="listing.updated",outcome="routed"\} \d+/);
    expect(text).toMatch(/hub_deliveries_total\{connector="email",outcome="sent"\} \d+/);
    expect(text).toMatch(/hub_deliveries_total\{connector="email",outcome="failed"\} \d+/);
    expect(text).toMatch(/hub_webhook_to_delivery_seconds_count\{connector="email"\} [1-9]/);
    expect(text).toMatch(/hub_rule_evaluation_seconds_count [1-9]/);
    expect(text).toMatch(/hub_queue_jobs\{queue="deliver-email",state="completed"\} [1-9]/);
    expect(text).toMatch(/hub_queue_oldest_waiting_seconds\{queue="events"\} 0/);
  });

  it('request id is echoed', async () => {
    const given = await fetch(`${world.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123');

    const generated = await fetch(`${world.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
