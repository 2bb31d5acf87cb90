/**
 * End-to-end latency: listing.updated webhooks sent over HTTP at a steady rate to a hub running in its own
 * process, each concerning one favorite, until the price-drop email reaches a local SMTP server. Prints p50, p90,
 * p99 and max of (email received − webhook sent), the achieved rate and the hub's peak memory.
 *
 * The first WARMUP_SECONDS of sending are a warm-up, reported on their own line and left out of the main figures.
 * During it the hub's SMTP pool opens its connections, each waiting for the server's greeting, and V8 compiles the
 * hot paths. A hub that has been running has done both long before.
 *
 * Run: npm run bench:latency   (RATE=200 DURATION_SECONDS=20 WARMUP_SECONDS=2 by default; Redis on REDIS_URL must be
 * running)
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { SMTPServer } from 'smtp-server';
import type { DemoWorld } from '../src/demo/demo-world.js';
import { readListingsFile } from '../src/demo/listings-file.js';
import { startRepliersStandIn, webhookBody } from '../src/demo/repliers-stand-in.js';
import { waitForEvents } from '../src/demo/wait-for-events.js';
import { HookSecrets } from '../src/ingress/hook-secrets.js';
import { SqliteStore } from '../src/mirror/sqlite/sqlite-store.js';
import { deliveryQueueName, eventsQueueName } from '../src/queue/queues.js';
import { toNumber } from '../src/repliers/listing-values.js';
import type { RepliersFavorite } from '../src/repliers/types.js';
import { repoRoot, startChildHub } from './support/child-hub.js';

const rate = Number(process.env.RATE ?? 200);
const durationSeconds = Number(process.env.DURATION_SECONDS ?? 20);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const warmupSeconds = Number(process.env.WARMUP_SECONDS ?? 2);
const warmupCount = Math.round(rate * warmupSeconds);
const eventCount = warmupCount + Math.round(rate * durationSeconds);

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

/** One client and one favorite per event, spread over the real listings, so each webhook yields one email. */
function buildWorld(listings: DemoWorld['listings'], clients: number): DemoWorld {
  const agents = [{ agentId: 1, fname: 'Bench', lname: 'Agent', email: 'agent@bench.example', brokerage: 'Bench Realty' }];
  const world: DemoWorld = { listings, agents, clients: [], favorites: [] };
  for (let index = 0; index < clients; index++) {
    const listing = listings[index % listings.length]!;
    world.clients.push({ clientId: 10_000 + index, agentId: 1, fname: 'Client', lname: String(index), email: `client${index}@bench.example`, status: true });
    world.favorites.push({ ...listing, favoriteId: 500_000 + index, clientId: 10_000 + index, mlsNumber: listing.mlsNumber } as RepliersFavorite);
  }
  return world;
}

async function main(): Promise<void> {
  // A listing whose price is a placeholder cannot drop in price, so it would yield no email.
  const listings = (await readListingsFile(path.resolve(repoRoot, '../shared/data/repliers/listings-search-ottawa.json'))).filter(
    (listing) => toNumber(listing.listPrice) !== null,
  );
  const world = buildWorld(listings, eventCount);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-latency-'));
  const prefix = `hub-bench-${randomBytes(4).toString('hex')}`;

  const receivedAt = new Map<string, number>();
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        for (const recipient of session.envelope.rcptTo) receivedAt.set(recipient.address, performance.now());
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const smtpPort = (smtp.server.address() as { port: number }).port;

  const rulesDir = path.join(dir, 'rules');
  await rm(rulesDir, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(rulesDir));
  await writeFile(
    path.join(rulesDir, 'price-drop-email.json'),
    JSON.stringify({
      id: 'price-drop-email',
      description: 'Email each client whose favorite the update lists when the price drops.',
      events: ['listing.updated'],
      when: { dropped: [{ var: 'previous.listPrice' }, { var: 'listing.listPrice' }] },
      actions: [{ connector: 'email', template: 'price-drop', to: 'clients' }],
    }),
  );

  const standIn = await startRepliersStandIn(world);
  const databaseFile = path.join(dir, 'hub.sqlite');
  const hub = await startChildHub({
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    DATABASE_URL: databaseFile,
    RULES_DIR: rulesDir,
    OUTBOX_DIR: path.join(dir, 'outbox'),
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    REPLIERS_API_URL: standIn.url,
    REPLIERS_API_KEY: standIn.apiKey,
  });
  const redis = new Redis(redisUrl);
  const store = new SqliteStore(databaseFile);

  try {
    const secrets = new HookSecrets(store, redis, prefix);
    for (const event of ['favorite.created', 'listing.updated']) {
      await secrets.expect(event, 60);
      const answer = await standIn.subscribe(`${hub.url}/webhooks/repliers/${event}`, event);
      if (answer.status !== 200) throw new Error(`handshake for ${event} failed: HTTP ${answer.status}`);
    }

    console.log(`mirroring ${world.favorites.length} favorites first (favorite.created over HTTP)…`);
    const created: string[] = [];
    for (let start = 0; start < world.favorites.length; start += 50) {
      const answers = await Promise.all(
        world.favorites.slice(start, start + 50).map((favorite) => standIn.deliver('favorite.created', webhookBody('favorite.created', favorite))),
      );
      for (const answer of answers) created.push((JSON.parse(answer.body) as { eventId: string }).eventId);
    }
    await waitForEvents(store, created, 300_000);

    console.log(`sending ${eventCount} listing.updated webhooks at ${rate}/s, the first ${warmupCount} as a warm-up…`);
    const sentAt = new Map<string, number>();
    const statuses = new Map<number, number>();
    const interval = 1000 / rate;
    const started = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let index = 0; index < eventCount; index++) {
      const due = started + index * interval;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const favorite = world.favorites[index]!;
      const listing = listings.find((entry) => entry.mlsNumber === favorite.mlsNumber)!;
      const oldPrice = toNumber(listing.listPrice)!;
      const client = world.clients[index]!;
      const body = webhookBody(
        'listing.updated',
        { ...listing, listPrice: (oldPrice - 1000 - index).toFixed(2), lastStatus: 'Pc', timestamps: { listingUpdated: new Date().toISOString() } },
        { previous: { listPrice: listing.listPrice }, favoriteIds: [favorite.favoriteId] },
      );
      sentAt.set(client.email!, performance.now());
      inFlight.push(
        standIn.deliver('listing.updated', body).then((answer) => {
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        }),
      );
    }
    await Promise.all(inFlight);
    const sendSeconds = (performance.now() - started) / 1000;

    const deadline = Date.now() + 120_000;
    while (receivedAt.size < eventCount && Date.now() < deadline) await sleep(100);

    const latencies: number[] = [];
    const warmup: number[] = [];
    let index = 0;
    for (const [email, sent] of sentAt) {
      const received = receivedAt.get(email);
      if (received !== undefined) (index < warmupCount ? warmup : latencies).push(received - sent);
      index += 1;
    }
    latencies.sort((a, b) => a - b);
    warmup.sort((a, b) => a - b);
    const database = new (await import('better-sqlite3')).default(databaseFile, { readonly: true });
    const outcomes = [
      ...(database.prepare("SELECT 'event ' || outcome AS label, count(*) AS n FROM events GROUP BY outcome").all() as { label: string; n: number }[]),
      ...(database.prepare("SELECT 'delivery ' || status || coalesce(' ' || substr(last_error, 1, 80), '') AS label, count(*) AS n FROM deliveries GROUP BY 1").all() as { label: string; n: number }[]),
    ].map((row) => `${row.label}: ${row.n}`).join('; ');
    database.close();

    console.log('');
    console.log('end-to-end latency, webhook sent → email accepted by the SMTP server');
    console.log(`  events sent          ${eventCount} in ${sendSeconds.toFixed(1)} s (${(eventCount / sendSeconds).toFixed(0)}/s); answers ${[...statuses].map(([status, count]) => `${status}×${count}`).join(', ')}`);
    console.log(`  emails received      ${latencies.length + warmup.length} of ${eventCount}`);
    console.log(`  records              ${outcomes}`);
    console.log(`  after the warm-up    ${latencies.length} of ${eventCount - warmupCount} emails: p50 ${percentile(latencies, 0.5).toFixed(1)} ms   p90 ${percentile(latencies, 0.9).toFixed(1)} ms   p99 ${percentile(latencies, 0.99).toFixed(1)} ms   max ${latencies.at(-1)?.toFixed(1)} ms   (goal: p99 ≤ 250 ms)`);
    console.log(`  warm-up, first ${warmupSeconds} s  ${warmup.length} of ${warmupCount} emails: p50 ${percentile(warmup, 0.5).toFixed(1)} ms   p99 ${percentile(warmup, 0.99).toFixed(1)} ms   max ${warmup.at(-1)?.toFixed(1)} ms`);
    console.log(`  peak memory          hub ${hub.peakRssMiB()?.toFixed(0) ?? 'unknown'} MiB, load generator ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
    console.log(`  machine              ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
  } finally {
    await hub.stop();
    await standIn.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    await store.close();
    for (const name of [eventsQueueName, ...['email', 'slack', 'salesforce', 'webhook'].map(deliveryQueueName)]) {
      const queue = new Queue(name, { connection: { url: redisUrl }, prefix });
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
    await redis.del(...(await redis.keys(`${prefix}:*`)), `${prefix}:none`);
    redis.disconnect();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
