/**
 * Fan-out: one listing.updated naming 10,000 favorites becomes 10,000 price-drop emails, accepted by a local SMTP
 * server. The hub runs as `hub start --role worker` in a child process on a private queue prefix, with an SQLite
 * mirror pre-filled with 10,000 clients and their favorites. The event goes on its events queue as the ingress would
 * put it there. Prints the time from enqueueing the event to the last email accepted, and the hub's peak resident memory.
 *
 * The SMTP server is smtp-server with its defaults, so it waits 100 ms before greeting each new connection. The
 * hub's pooled transport opens SMTP_MAX_CONNECTIONS connections and sends every message over them, so that delay is
 * paid once per connection instead of once per message; the output counts the connections.
 *
 * Run with `npm run bench:fanout` (Redis on 127.0.0.1:6379, or REDIS_URL). FAVORITES sets the count (default
 * 10,000). The goal on a 2-core machine is at most 20 s and 300 MB; nothing here asserts it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { SMTPServer } from 'smtp-server';
import { SqliteStore } from '../src/mirror/sqlite/sqlite-store.js';
import { createEventsQueue, deliveryQueueName, eventJobOptions, type EventJobData } from '../src/queue/queues.js';
import { startChildHub } from './support/child-hub.js';

const favoriteCount = Number(process.env.FAVORITES ?? 10_000);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const smtpConnections = process.env.SMTP_MAX_CONNECTIONS ?? '5';
const timeoutMs = 300_000;

interface SmtpCounter {
  url: string;
  accepted: number;
  connections: number;
  close(): Promise<void>;
}

/** Starts an SMTP server that accepts every message and drops its content, counting messages and connections. */
async function startSmtpCounter(): Promise<SmtpCounter> {
  const counter = { accepted: 0, connections: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    size: 1024 * 1024,
    onConnect(_session, callback) {
      counter.connections += 1;
      callback();
    },
    onData(stream, _session, callback) {
      stream.on('end', () => {
        counter.accepted += 1;
        callback();
      });
      stream.resume();
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return Object.assign(counter, {
    url: `smtp://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** Fills the mirror: 100 agents, `count` clients spread over them, one favorite each of the same listing. */
async function fillMirror(file: string, count: number): Promise<string[]> {
  const store = new SqliteStore(file);
  await store.migrate();
  const at = new Date().toISOString();
  for (let agent = 0; agent < 100; agent += 1) {
    await store.upsertAgent(
      { agentId: `a${agent}`, fname: 'Agent', lname: `Number ${agent}`, email: `agent${agent}@brokerage.example`, phone: '16135550100', brokerage: 'Bench Realty', externalId: null },
      at,
    );
  }
  const favoriteIds: string[] = [];
  for (let index = 0; index < count; index += 1) {
    await store.upsertClient(
      {
        clientId: `c${index}`,
        agentId: `a${index % 100}`,
        fname: 'Client',
        lname: `Number ${index}`,
        email: `client${index}@mail.example`,
        phone: null,
        status: true,
        externalId: null,
        preferences: {},
        tags: [],
      },
      at,
    );
    await store.applyFavoriteCreated(
      { favoriteId: `f${index}`, clientId: `c${index}`, mlsNumber: 'X4821000', boardId: '12', tags: [], comments: null },
      at,
    );
    favoriteIds.push(`f${index}`);
  }
  await store.close();
  return favoriteIds;
}

function listingUpdated(favoriteIds: string[]): string {
  const listing = {
    mlsNumber: 'X4821000',
    boardId: 12,
    status: 'A',
    lastStatus: 'Pc',
    listPrice: '674900.00',
    address: { streetNumber: '62', streetName: 'Erin', streetSuffix: 'Crescent', city: 'Ottawa', state: 'ON', zip: 'K2E 0A1' },
    permissions: { displayPublic: 'Y', displayAddressOnInternet: 'Y' },
    images: ['bench/IMG-X4821000_1.jpg'],
    timestamps: { listingUpdated: new Date().toISOString() },
  };
  return JSON.stringify({ data: listing, previous: { listPrice: '699900.00', lastStatus: 'New' }, favoriteIds, hook: { event: 'listing.updated' } });
}

const rule = {
  id: 'bench-price-drop',
  description: 'Email every client whose favorite the update names when the price drops.',
  events: ['listing.updated'],
  when: { dropped: [{ var: 'previous.listPrice' }, { var: 'listing.listPrice' }] },
  actions: [{ connector: 'email', template: 'price-drop', to: 'clients' }],
};

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-fanout-'));
  const prefix = `bench-fanout-${randomBytes(4).toString('hex')}`;
  const databaseFile = path.join(dir, 'hub.sqlite');
  const rulesDir = path.join(dir, 'rules');
  await mkdir(rulesDir);
  await writeFile(path.join(rulesDir, 'price-drop.json'), JSON.stringify(rule));

  const smtp = await startSmtpCounter();
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  let hub: Awaited<ReturnType<typeof startChildHub>> | null = null;

  try {
    const fillStarted = performance.now();
    const favoriteIds = await fillMirror(databaseFile, favoriteCount);
    console.log(`mirror filled with ${favoriteCount} clients and favorites in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s`);

    hub = await startChildHub(
      {
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        DATABASE_URL: databaseFile,
        RULES_DIR: rulesDir,
        OUTBOX_DIR: path.join(dir, 'outbox'),
        SMTP_URL: smtp.url,
        SMTP_MAX_CONNECTIONS: smtpConnections,
        LOG_LEVEL: 'warn',
      },
      'worker',
    );
    // The worker role serves no HTTP, so it is ready once its events and email workers are connected to Redis.
    const events = createEventsQueue(redis, prefix);
    const email = new Queue(deliveryQueueName('email'), { connection: redis, prefix });
    await waitFor(async () => (await events.getWorkersCount()) > 0 && (await email.getWorkersCount()) > 0, 30_000);
    await email.close();

    const body = listingUpdated(favoriteIds);
    const job: EventJobData = { event: 'listing.updated', source: 'repliers', path: '/webhooks/repliers/listing.updated', receivedAt: new Date().toISOString(), body };

    const idle = residentMiB(hub.process.pid);
    const started = performance.now();
    await events.add('listing.updated', job, { ...eventJobOptions(86_400), jobId: `bench-${prefix}` });
    await waitFor(async () => smtp.accepted >= favoriteCount, timeoutMs);
    const seconds = (performance.now() - started) / 1000;
    const routed = await events.getJob(`bench-${prefix}`);
    const routingSeconds = routed?.finishedOn && routed.processedOn ? (routed.finishedOn - routed.processedOn) / 1000 : null;
    await events.close();

    const peak = hub.peakRssMiB();
    const store = new SqliteStore(databaseFile);
    const deliveries = await store.listDeliveries(`bench-${prefix}`);
    await store.close();
    const sent = deliveries.filter((delivery) => delivery.status === 'sent').length;

    console.log(`fan-out of one listing.updated to ${favoriteCount} favorites`);
    console.log(`  ${smtp.accepted} emails accepted by the SMTP server in ${seconds.toFixed(1)} s (${Math.round(smtp.accepted / seconds)} emails/s); goal ≤ 20 s`);
    console.log(`  ${sent} of ${deliveries.length} deliveries recorded as sent`);
    if (routingSeconds !== null) console.log(`  routing the event into ${deliveries.length} delivery jobs took ${routingSeconds.toFixed(1)} s of that`);
    const memory = peak === null ? 'unknown (needs /proc)' : `${peak.toFixed(0)} MiB (${idle?.toFixed(0) ?? '?'} MiB when idle before the event)`;
    console.log(`  peak resident memory of the hub process: ${memory}; goal ≤ 300 MB`);
    console.log(
      `  ${smtp.connections} SMTP connections opened (SMTP_MAX_CONNECTIONS=${smtpConnections}): the server's 100 ms wait before each greeting ` +
        `cost ${(smtp.connections * 0.1).toFixed(1)} s of connection time in all, where one connection per email would cost ${(favoriteCount * 0.1).toFixed(0)} s`,
    );
  } finally {
    if (hub) await hub.stop('SIGTERM');
    // Every key of the run is under its private prefix, whichever queues the hub opened.
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) {
      if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
    }
    redis.disconnect();
    await smtp.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Current resident memory of a process in MiB, read from /proc (Linux only). */
function residentMiB(pid: number | undefined): number | null {
  try {
    const kib = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kib) ? kib / 1024 : null;
  } catch {
    return null;
  }
}

async function waitFor(done: () => Promise<boolean> | boolean, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`not done within ${limitMs / 1000} s`);
    await sleep(50);
  }
}

await main();
