/**
 * `hub demo`: a whole run of the hub on this machine. It starts a Repliers stand-in built from a listings file and
 * a real hub on Redis. The stand-in subscribes to the hub's webhook paths with the Repliers handshake and sends
 * favorite.created and listing.updated deliveries over HTTP. The demo then waits for the workers and prints what
 * went where.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Queue } from 'bullmq';
import { loadSettings, type Settings } from '../config/settings.js';
import { connectRedis, startHub, type RunningHub } from '../hub.js';
import { createLogger } from '../logger.js';
import type { DeliveryRecord } from '../mirror/records.js';
import { displayPath, packageRoot } from '../paths.js';
import { deliveryQueueName, eventsQueueName } from '../queue/queues.js';
import { toNumber } from '../repliers/listing-values.js';
import { formatAddress } from '../repliers/listing-view.js';
import type { RepliersListing } from '../repliers/types.js';
import { loadDemoWorld, type DemoWorld } from './demo-world.js';
import { formatLogLine } from './log-lines.js';
import { startRepliersStandIn, webhookBody, type RepliersStandIn } from './repliers-stand-in.js';
import { waitForEvents, type FinishedEvent } from './wait-for-events.js';

export interface DemoOptions {
  listingsFile?: string;
  /** Folder for the demo's database and outbox. Default `data/demo` under the current folder. */
  dataDir?: string;
  print?: (line: string) => void;
  env?: Record<string, string | undefined>;
}

export interface DemoResult {
  events: { label: string; status: number; finished: FinishedEvent | null }[];
  settings: Readonly<Settings>;
}

interface SentEvent {
  label: string;
  status: number;
  eventId: string | null;
}

export const defaultListingsFile = (): string => path.join(packageRoot(), 'src', 'demo', 'sample-listings.json');

function address(listing: RepliersListing): string {
  return formatAddress(listing.address as Record<string, unknown> | null);
}

function describeRecipient(world: DemoWorld, label: string): string {
  const [kind, id] = label.split(':', 2);
  if (kind === 'client') {
    const client = world.clients.find((entry) => String(entry.clientId) === id);
    return client ? `${client.fname} ${client.lname} <${client.email}>` : label;
  }
  if (kind === 'agent') {
    const agent = world.agents.find((entry) => String(entry.agentId) === id);
    return agent ? `agent ${agent.fname} ${agent.lname} <${agent.email}>` : label;
  }
  return label.replace(/^channel:/, 'channel ');
}

/** Width of the status column, wide enough for the longest label, `sent (outbox)`. */
const statusWidth = 13;

/**
 * Formats one delivery as two lines: connector, status, recipient and rule, then the receipt or the error. The status
 * is the stored one that the admin API and page show, and a delivery written to the outbox is marked beside it.
 */
function describeDelivery(world: DemoWorld, delivery: DeliveryRecord, outboxDir: string): string {
  const where = delivery.status === 'sent' ? (delivery.receipt ?? '') : (delivery.lastError ?? '');
  const inOutbox = delivery.status === 'sent' && where.startsWith(outboxDir + path.sep);
  const location = inOutbox ? displayPath(where) : where;
  const status = inOutbox ? 'sent (outbox)' : delivery.status;
  return `    ${delivery.connector.padEnd(10)} ${status.padEnd(statusWidth)} ${describeRecipient(world, delivery.recipient)}  (rule ${delivery.ruleId})\n      ${location}`;
}

async function sendEvent(standIn: RepliersStandIn, event: string, label: string, body: unknown): Promise<SentEvent> {
  const answer = await standIn.deliver(event, body);
  const eventId = answer.status === 202 ? (JSON.parse(answer.body) as { eventId: string }).eventId : null;
  return { label, status: answer.status, eventId };
}

async function removeDemoQueues(settings: Readonly<Settings>, connectors: string[]): Promise<void> {
  for (const name of [eventsQueueName, ...connectors.map(deliveryQueueName)]) {
    const queue = new Queue(name, { connection: { url: settings.redisUrl }, prefix: settings.queuePrefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const listingsFile = options.listingsFile ?? defaultListingsFile();
  const dataDir = path.resolve(options.dataDir ?? path.join('data', 'demo'));
  const world = await loadDemoWorld(listingsFile);
  const { listings } = world;
  const env = options.env ?? process.env;

  // Checked before the previous run's files are removed, so a mistyped REDIS_URL loses nothing.
  const probe = await connectRedis(loadSettings(env).redisUrl, 'producer', createLogger('silent'));
  probe.disconnect();
  await rm(dataDir, { recursive: true, force: true });
  const standIn = await startRepliersStandIn(world);
  const settings = loadSettings({
    ...env,
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: path.join(dataDir, 'hub.sqlite'),
    OUTBOX_DIR: env.OUTBOX_DIR ?? path.join(dataDir, 'outbox'),
    // A prefix of its own keeps the demo's jobs apart from a hub running on the same Redis.
    QUEUE_PREFIX: `hub-demo-${randomBytes(4).toString('hex')}`,
    REPLIERS_API_URL: standIn.url,
    REPLIERS_API_KEY: standIn.apiKey,
    // A scheduled reconcile would outlive the demo's queues in Redis; the demo has nothing to reconcile.
    RECONCILE_INTERVAL_MINUTES: '0',
    LISTING_URL_TEMPLATE: env.LISTING_URL_TEMPLATE ?? 'https://listings.example/{boardId}/{mlsNumber}',
    LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
  });

  print(`Listings: ${listings.length} from ${displayPath(listingsFile)}`);
  print(`People: ${world.agents.length} agents, ${world.clients.length} clients, ${world.favorites.length} favorites (Repliers stand-in at ${standIn.url})`);

  let hub: RunningHub;
  try {
    // The hub's log lines go through the demo's printer as plain text, so that warnings and errors read like the rest.
    const logger = createLogger(settings.logLevel, { write: (line: string) => print(formatLogLine(line)) });
    hub = await startHub(settings, 'all', logger);
  } catch (error) {
    await standIn.close();
    throw error;
  }
  const results: DemoResult['events'] = [];
  try {
    print(`Hub: ${hub.url}, Redis ${settings.redisUrl}, store ${settings.databaseUrl}`);
    for (const connector of hub.connectors.values()) print(`  ${connector.describe()}`);

    print('\nSubscribing (Repliers handshake):');
    for (const event of ['favorite.created', 'favorite.deleted', 'listing.updated']) {
      await hub.secrets.expect(event, settings.handshakeWindowSeconds);
      const answer = await standIn.subscribe(`${hub.url}/webhooks/repliers/${event}`, event);
      print(`  ${event.padEnd(17)} HTTP ${answer.status}${answer.status === 200 ? ', secret echoed' : ` ${answer.body}`}`);
    }

    const sent: SentEvent[] = [];
    for (const favorite of world.favorites) {
      const client = world.clients.find((entry) => entry.clientId === favorite.clientId)!;
      const listing = listings.find((entry) => entry.mlsNumber === favorite.mlsNumber)!;
      sent.push(await sendEvent(standIn, 'favorite.created', `favorite.created: ${client.fname} ${client.lname} saved ${address(listing)}`, webhookBody('favorite.created', favorite)));
    }
    // Favorites must be in the mirror before the listing changes that concern them.
    await waitForEvents(hub.store, sent.flatMap((entry) => (entry.eventId ? [entry.eventId] : [])));

    const now = new Date().toISOString();
    const favoritesOf = (listing: RepliersListing) =>
      world.favorites.filter((favorite) => favorite.mlsNumber === listing.mlsNumber).map((favorite) => favorite.favoriteId);

    const dropped = listings[0]!;
    const oldPrice = toNumber(dropped.listPrice) ?? 500_000;
    const newPrice = Math.round((oldPrice * 0.95) / 1000) * 1000;
    sent.push(
      await sendEvent(
        standIn,
        'listing.updated',
        `listing.updated: price drop on ${address(dropped)}`,
        webhookBody('listing.updated', { ...dropped, listPrice: newPrice.toFixed(2), lastStatus: 'Pc', timestamps: { listingUpdated: now } }, {
          previous: { listPrice: dropped.listPrice, lastStatus: dropped.lastStatus ?? 'New' },
          favoriteIds: favoritesOf(dropped),
        }),
      ),
    );

    const sold = listings[1]!;
    sent.push(
      await sendEvent(
        standIn,
        'listing.updated',
        `listing.updated: ${address(sold)} sold`,
        webhookBody('listing.updated', { ...sold, status: 'U', lastStatus: 'Sld', timestamps: { listingUpdated: now } }, {
          previous: { status: sold.status ?? 'A', lastStatus: sold.lastStatus ?? 'New' },
          favoriteIds: favoritesOf(sold),
        }),
      ),
    );

    const unwatched = listings[listings.length - 1]!;
    sent.push(
      await sendEvent(
        standIn,
        'listing.updated',
        `listing.updated: price drop on ${address(unwatched)}, which nobody saved`,
        webhookBody('listing.updated', { ...unwatched, listPrice: Math.round((toNumber(unwatched.listPrice) ?? 500_000) * 0.9), timestamps: { listingUpdated: now } }, {
          previous: { listPrice: unwatched.listPrice },
          favoriteIds: favoritesOf(unwatched),
        }),
      ),
    );

    const finished = await waitForEvents(hub.store, sent.flatMap((entry) => (entry.eventId ? [entry.eventId] : [])));
    const byId = new Map(finished.map((entry) => [entry.event.eventId, entry]));

    print('\nWhat went where:');
    for (const entry of sent) {
      const done = entry.eventId ? (byId.get(entry.eventId) ?? null) : null;
      results.push({ label: entry.label, status: entry.status, finished: done });
      print(`  ${entry.label}\n    HTTP ${entry.status}, ${done ? `${done.event.outcome}: ${done.event.outcomeDetail}` : 'not accepted'}`);
      for (const delivery of done?.deliveries ?? []) print(describeDelivery(world, delivery, path.resolve(settings.outboxDir)));
    }

    const outbox = [...hub.connectors.values()].filter((connector) => connector.mode === 'outbox');
    print('\nWhere to look:');
    if (outbox.length > 0) print(`  outbox: ${displayPath(settings.outboxDir)}${path.sep} (${outbox.map((connector) => connector.name).join(', ')})`);
    if (settings.smtpUrl) print(`  emails: the SMTP server at ${new URL(settings.smtpUrl).host} (with docker compose, the mail catcher at http://localhost:8025)`);
    print(`  event and delivery records: ${settings.databaseUrl}`);
  } finally {
    await hub.close();
    await standIn.close();
    await removeDemoQueues(settings, [...hub.connectors.keys()]).catch(() => undefined);
  }
  return { events: results, settings };
}
