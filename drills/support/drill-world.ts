/**
 * The people, rules and webhooks of a drill. Each client has one favorite, spread over the bundled sample listings,
 * so a `listing.updated` naming one favorite concerns exactly one client, and the deliveries each webhook should
 * cause can be computed before it is sent.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DemoWorld } from '../../src/demo/demo-world.js';
import { readListingsFile } from '../../src/demo/listings-file.js';
import { webhookBody } from '../../src/demo/repliers-stand-in.js';
import { toNumber } from '../../src/repliers/listing-values.js';
import type { RepliersFavorite, RepliersListing } from '../../src/repliers/types.js';
import { deliveryKey } from '../../src/workers/route-event.js';
import { repoRoot } from '../../bench/support/child-hub.js';
import type { Channel, ExpectedDelivery } from './arrival-ledger.js';
import type { OutgoingWebhook } from './webhook-sender.js';

/** The Slack channel drill rules post to. The Slack stand-in lists it with the id C0DRILL01. */
export const drillChannel = '#drill-alerts';

/** A rule of a drill, with what the drill needs to compute its deliveries. */
export interface DrillRule {
  id: string;
  channel: Channel;
  /** The rule as written to the rules folder. */
  json: Record<string, unknown>;
}

const priceDropped = { dropped: [{ var: 'previous.listPrice' }, { var: 'listing.listPrice' }] };

/** Emails the client of each favorite the update names when the price drops. */
export const emailPriceDropRule: DrillRule = {
  id: 'drill-price-drop-email',
  channel: 'email',
  json: {
    id: 'drill-price-drop-email',
    description: 'Email the client whose favorite the update names when the price drops.',
    events: ['listing.updated'],
    when: priceDropped,
    actions: [{ connector: 'email', template: 'price-drop', to: 'clients' }],
  },
};

/** Posts one Slack message to the drill channel per price drop. */
export const slackPriceDropRule: DrillRule = {
  id: 'drill-price-drop-slack',
  channel: 'slack',
  json: {
    id: 'drill-price-drop-slack',
    description: 'Post each price drop to the drill channel.',
    events: ['listing.updated'],
    when: priceDropped,
    actions: [{ connector: 'slack', template: 'price-drop', to: { channel: drillChannel } }],
  },
};

/** Logs a Salesforce Task on the client's Contact per price drop. */
export const salesforcePriceDropRule: DrillRule = {
  id: 'drill-price-drop-salesforce',
  channel: 'salesforce',
  json: {
    id: 'drill-price-drop-salesforce',
    description: "Log each price drop as a Task on the client's Contact.",
    events: ['listing.updated'],
    when: priceDropped,
    actions: [{ connector: 'salesforce', template: 'price-drop', to: 'clients' }],
  },
};

/** Posts to the drill channel when a favorite tagged `drill-a` is created. */
export const favoriteTaggedSlackRule: DrillRule = {
  id: 'drill-favorite-slack',
  channel: 'slack',
  json: {
    id: 'drill-favorite-slack',
    description: 'Post to the drill channel when a client saves a listing as a favorite tagged drill-a.',
    events: ['favorite.created'],
    when: { in: ['drill-a', { var: 'favorite.tags' }] },
    actions: [{ connector: 'slack', template: 'favorite-created', to: { channel: drillChannel } }],
  },
};

export interface DrillWorld extends DemoWorld {
  /** The favorite of client `i` is `favorites[i]`. */
  favorites: RepliersFavorite[];
}

/** Reads the sample listings bundled with the demo (src/demo/sample-listings.json). */
export async function sampleListings(): Promise<RepliersListing[]> {
  return readListingsFile(path.join(repoRoot, 'src/demo/sample-listings.json'));
}

/** Builds `clients` clients of two agents, each with one favorite; `tagged` marks favorites with the tag `drill-a`. */
export function buildDrillWorld(listings: RepliersListing[], clients: number, tagged: (index: number) => boolean = () => false): DrillWorld {
  const agents = [1, 2].map((agentId) => ({
    agentId,
    fname: 'Drill',
    lname: `Agent ${agentId}`,
    email: `agent${agentId}@drill.example`,
    brokerage: 'Drill Realty',
    status: true,
  }));
  const world: DrillWorld = { listings, agents, clients: [], favorites: [] };
  for (let index = 0; index < clients; index++) {
    const listing = listings[index % listings.length]!;
    const clientId = 20_000 + index;
    world.clients.push({ clientId, agentId: 1 + (index % 2), fname: 'Client', lname: String(index), email: `client${index}@drill.example`, status: true, preferences: { email: true } });
    world.favorites.push({
      ...listing,
      favoriteId: 700_000 + index,
      clientId,
      mlsNumber: listing.mlsNumber,
      boardId: listing.boardId ?? null,
      comments: null,
      tags: tagged(index) ? ['drill-a'] : [],
    } as RepliersFavorite);
  }
  return world;
}

/** Writes each rule to `<dir>/<id>.json`, creating the folder. */
export async function writeRules(dir: string, rules: readonly DrillRule[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const rule of rules) await writeFile(path.join(dir, `${rule.id}.json`), JSON.stringify(rule.json, null, 2));
}

export function favoriteCreatedWebhook(world: DrillWorld, index: number): OutgoingWebhook {
  return { event: 'favorite.created', body: webhookBody('favorite.created', world.favorites[index]), label: `favorite.created #${index}` };
}

export function favoriteDeletedWebhook(world: DrillWorld, index: number): OutgoingWebhook {
  const favorite = world.favorites[index]!;
  const data = { favoriteId: favorite.favoriteId, clientId: favorite.clientId, mlsNumber: favorite.mlsNumber, boardId: favorite.boardId };
  return { event: 'favorite.deleted', body: webhookBody('favorite.deleted', data), label: `favorite.deleted #${index}` };
}

/**
 * Builds the `sequence`-th price drop, on the favorite of client `sequence % clients`. The new price and the update time
 * depend on `sequence`, so every body, and so every event id, is distinct.
 */
export function priceDropWebhook(world: DrillWorld, sequence: number, tag = 'drill'): OutgoingWebhook {
  const favorite = world.favorites[sequence % world.favorites.length]!;
  const listing = world.listings.find((entry) => entry.mlsNumber === favorite.mlsNumber)!;
  const oldPrice = toNumber(listing.listPrice) ?? 500_000;
  const body = webhookBody(
    'listing.updated',
    {
      ...listing,
      listPrice: (oldPrice - 1000 - sequence).toFixed(2),
      lastStatus: 'Pc',
      timestamps: { listingUpdated: new Date(Date.UTC(2026, 0, 1) + sequence * 1000).toISOString(), drill: tag },
    },
    { previous: { listPrice: listing.listPrice }, favoriteIds: [favorite.favoriteId] },
  );
  return { event: 'listing.updated', body, label: `listing.updated #${sequence}` };
}

/** Returns the client id that a price drop or favorite webhook concerns, read from its body. */
export function clientOfWebhook(world: DrillWorld, webhook: OutgoingWebhook): string {
  const body = webhook.body as { data: { clientId?: unknown }; favoriteIds?: unknown[] };
  if (body.data.clientId !== undefined) return String(body.data.clientId);
  const favoriteId = Number(body.favoriteIds?.[0]);
  return String(world.favorites.find((favorite) => favorite.favoriteId === favoriteId)!.clientId);
}

/** The deliveries `rules` should make for one accepted webhook that concerns `clientId`. */
export function expectedDeliveries(eventId: string, webhook: OutgoingWebhook, clientId: string, rules: readonly DrillRule[]): ExpectedDelivery[] {
  return rules
    .filter((rule) => (rule.json.events as string[]).includes(webhook.event))
    .map((rule) => {
      const action = (rule.json.actions as Array<{ to: unknown }>)[0]!;
      const recipient = typeof action.to === 'object' ? `channel:${(action.to as { channel: string }).channel}` : `client:${clientId}`;
      return { key: deliveryKey(eventId, rule.id, 0, recipient), channel: rule.channel, webhook: webhook.label };
    });
}
