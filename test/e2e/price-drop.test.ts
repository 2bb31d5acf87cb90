/**
 * The main road end to end, over HTTP: a Repliers stand-in subscribes and sends real webhooks built from the
 * Ottawa listings to a hub on the real Redis, and emails land in a real SMTP server started by the test.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoWorld, type DemoWorld } from '../../src/demo/demo-world.js';
import { readListingsFile } from '../../src/demo/listings-file.js';
import { startRepliersStandIn, webhookBody, type RepliersStandIn } from '../../src/demo/repliers-stand-in.js';
import { waitForEvents } from '../../src/demo/wait-for-events.js';
import { startHub, type RunningHub } from '../../src/hub.js';
import { createLogger } from '../../src/logger.js';
import type { RepliersListing } from '../../src/repliers/types.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { sharedData, testHubSettings, type TestHubFolder } from '../helpers/test-hub.js';

let smtp: SmtpSink;
let standIn: RepliersStandIn;
let folder: TestHubFolder;
let hub: RunningHub;
let world: DemoWorld;
let listings: RepliersListing[];

async function jobTotal(): Promise<number> {
  const counts = await hub.eventsQueue.getJobCounts();
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

async function acceptedEventId(answer: { status: number; body: string }): Promise<string> {
  expect(answer.status).toBe(202);
  return (JSON.parse(answer.body) as { eventId: string }).eventId;
}

beforeAll(async () => {
  listings = await readListingsFile(path.join(sharedData, 'repliers/listings-search-ottawa.json'));
  world = buildDemoWorld(listings);
  smtp = await startSmtpSink();
  standIn = await startRepliersStandIn(world);
  folder = await testHubSettings({
    SMTP_URL: smtp.url,
    REPLIERS_API_URL: standIn.url,
    REPLIERS_API_KEY: standIn.apiKey,
  });
  hub = await startHub(folder.settings, 'all', createLogger('silent'));

  for (const event of ['favorite.created', 'listing.updated']) {
    await hub.secrets.expect(event, 60);
    const answer = await standIn.subscribe(`${hub.url}/webhooks/repliers/${event}`, event);
    expect(answer.status).toBe(200);
  }

  const created: string[] = [];
  for (const favorite of world.favorites) {
    created.push(await acceptedEventId(await standIn.deliver('favorite.created', webhookBody('favorite.created', favorite))));
  }
  await waitForEvents(hub.store, created);
});

afterAll(async () => {
  await hub?.close();
  await standIn?.close();
  await smtp?.close();
  await folder?.cleanup();
});

describe('price drop on a listing favorited by three clients', () => {
  it('emails each of the three clients once with old and new price', async () => {
    const listing = listings[0]!;
    const favoriteIds = world.favorites.filter((favorite) => favorite.mlsNumber === listing.mlsNumber).map((favorite) => favorite.favoriteId);
    expect(favoriteIds).toHaveLength(3);

    const before = smtp.messages.length;
    const body = webhookBody(
      'listing.updated',
      { ...listing, listPrice: '674900.00', lastStatus: 'Pc', timestamps: { listingUpdated: '2026-12-01T10:00:00.000Z' } },
      { previous: { listPrice: listing.listPrice, lastStatus: 'New' }, favoriteIds },
    );
    const eventId = await acceptedEventId(await standIn.deliver('listing.updated', body));
    const [finished] = await waitForEvents(hub.store, [eventId]);

    const emails = finished!.deliveries.filter((delivery) => delivery.connector === 'email');
    expect(emails.map((delivery) => delivery.status)).toEqual(['sent', 'sent', 'sent']);

    const received = smtp.messages.slice(before);
    expect(received).toHaveLength(3);
    const fans = world.clients.filter((client) => world.favorites.some((favorite) => favorite.clientId === client.clientId && favorite.mlsNumber === listing.mlsNumber));
    const recipients = smtp.envelopes.slice(before).flat().sort();
    expect(recipients).toEqual(fans.map((client) => client.email!).sort());

    for (const mail of received) {
      expect(mail.text).toContain('$699,900');
      expect(mail.text).toContain('$674,900');
      expect(mail.subject).toContain('62 Erin Crescent, Ottawa');
      expect(mail.html).toContain('$674,900');
      expect(mail.text).toMatch(/\+1 613-555-010\d/);
    }
  });

  it('sends nothing to a client who favorited only other listings', async () => {
    const onlyOthers = world.clients.find((client) => {
      const saved = world.favorites.filter((favorite) => favorite.clientId === client.clientId);
      return saved.length > 0 && saved.every((favorite) => favorite.mlsNumber !== listings[0]!.mlsNumber);
    })!;
    expect(onlyOthers).toBeDefined();
    const allRecipients = smtp.envelopes.flat();
    expect(allRecipients).not.toContain(onlyOthers.email);
  });

  it('treats a repeated delivery of the same body as one event', async () => {
    const listing = listings[2]!;
    const favoriteIds = world.favorites.filter((favorite) => favorite.mlsNumber === listing.mlsNumber).map((favorite) => favorite.favoriteId);
    const body = webhookBody('listing.updated', { ...listing, listPrice: '1.00' }, { previous: { listPrice: listing.listPrice }, favoriteIds });
    const first = await acceptedEventId(await standIn.deliver('listing.updated', body));
    const second = await acceptedEventId(await standIn.deliver('listing.updated', body));
    expect(second).toBe(first);
    const [finished] = await waitForEvents(hub.store, [first]);
    const keys = finished!.deliveries.map((delivery) => delivery.key);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('a delivery with a wrong secret', () => {
  it('gets 401 and enqueues and sends nothing', async () => {
    const listing = listings[0]!;
    const jobsBefore = await jobTotal();
    const mailsBefore = smtp.messages.length;

    const response = await fetch(`${hub.url}/webhooks/repliers/listing.updated`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hook-secret': 'not-the-secret-0123456789' },
      body: JSON.stringify(webhookBody('listing.updated', { ...listing, listPrice: '1.00' }, { previous: { listPrice: listing.listPrice } })),
    });

    expect(response.status).toBe(401);
    expect(await jobTotal()).toBe(jobsBefore);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.messages.length).toBe(mailsBefore);
  });

  it('rejects a handshake on a path nobody expects', async () => {
    const response = await fetch(`${hub.url}/webhooks/repliers/favorite.deleted`, {
      method: 'POST',
      headers: { 'x-hook-secret': 'some-new-secret-0123456789' },
    });
    expect(response.status).toBe(401);
    expect(await hub.store.getHookSubscription('favorite.deleted')).toBeNull();
  });
});
