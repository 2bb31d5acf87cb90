/**
 * A running hub with the admin surface on, fed by the Repliers stand-in over HTTP, with an SMTP sink that rejects
 * the first messages it is given with a permanent 550 and accepts the rest. The admin tests share it.
 */
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { buildDemoWorld, type DemoWorld } from '../../src/demo/demo-world.js';
import { readListingsFile } from '../../src/demo/listings-file.js';
import { startRepliersStandIn, webhookBody, type RepliersStandIn } from '../../src/demo/repliers-stand-in.js';
import { waitForEvents } from '../../src/demo/wait-for-events.js';
import { startHub, type RunningHub } from '../../src/hub.js';
import type { Logger } from '../../src/logger.js';
import type { RepliersListing } from '../../src/repliers/types.js';
import { sharedData, testHubSettings, type TestHubFolder } from '../helpers/test-hub.js';

export const adminToken = 'test-admin-token-0123456789abcdef';

export interface FlakySmtpSink {
  url: string;
  messages: ParsedMail[];
  /** RCPT TO addresses of each accepted message. */
  envelopes: string[][];
  /** How many messages were rejected so far. */
  rejected(): number;
  close(): Promise<void>;
}

/** Starts an SMTP server that rejects the first `rejectFirst` messages with 550 and accepts every later one. */
export async function startFlakySmtpSink(rejectFirst: number): Promise<FlakySmtpSink> {
  const messages: ParsedMail[] = [];
  const envelopes: string[][] = [];
  let seen = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      seen += 1;
      if (seen <= rejectFirst) {
        stream.resume();
        // Like real servers, the reply quotes the recipient, which the hub's logs must not repeat.
        const recipient = session.envelope.rcptTo[0]?.address ?? 'unknown';
        stream.on('end', () => callback(Object.assign(new Error(`mailbox <${recipient}> refused by the test sink`), { responseCode: 550 })));
        return;
      }
      simpleParser(stream)
        .then((mail) => {
          messages.push(mail);
          envelopes.push(session.envelope.rcptTo.map((recipient) => recipient.address));
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    envelopes,
    rejected: () => Math.min(seen, rejectFirst),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface AdminWorld {
  hub: RunningHub;
  url: string;
  smtp: FlakySmtpSink;
  standIn: RepliersStandIn;
  world: DemoWorld;
  listings: RepliersListing[];
  folder: TestHubFolder;
  /**
   * Sends a price drop on listing `index`, with `extra` fields merged into the listing, and waits until its
   * deliveries are final; returns the event id.
   */
  sendPriceDrop(index: number, newPrice: string, extra?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts the world: a hub with HUB_ADMIN_TOKEN, every demo favorite created over HTTP, and an SMTP sink that
 * rejects the first `rejectFirst` emails.
 */
export async function startAdminWorld(logger: Logger, options: { rejectFirst?: number; env?: Record<string, string> } = {}): Promise<AdminWorld> {
  const listings = await readListingsFile(path.join(sharedData, 'repliers/listings-search-ottawa.json'));
  const world = buildDemoWorld(listings);
  const smtp = await startFlakySmtpSink(options.rejectFirst ?? 0);
  const standIn = await startRepliersStandIn(world);
  const folder = await testHubSettings({
    SMTP_URL: smtp.url,
    REPLIERS_API_URL: standIn.url,
    REPLIERS_API_KEY: standIn.apiKey,
    HUB_ADMIN_TOKEN: adminToken,
    ...options.env,
  });
  const hub = await startHub(folder.settings, 'all', logger);
  const url = hub.url!;

  const accepted = async (answer: { status: number; body: string }): Promise<string> => {
    if (answer.status !== 202) throw new Error(`webhook answered ${answer.status}: ${answer.body}`);
    return (JSON.parse(answer.body) as { eventId: string }).eventId;
  };

  for (const event of ['favorite.created', 'listing.updated']) {
    await hub.secrets.expect(event, 60);
    const answer = await standIn.subscribe(`${url}/webhooks/repliers/${event}`, event);
    if (answer.status !== 200) throw new Error(`handshake of ${event} answered ${answer.status}`);
  }
  const created: string[] = [];
  for (const favorite of world.favorites) {
    created.push(await accepted(await standIn.deliver('favorite.created', webhookBody('favorite.created', favorite))));
  }
  await waitForEvents(hub.store, created, 60_000);

  return {
    hub,
    url,
    smtp,
    standIn,
    world,
    listings,
    folder,
    async sendPriceDrop(index, newPrice, extra = {}) {
      const listing = listings[index]!;
      const favoriteIds = world.favorites.filter((favorite) => favorite.mlsNumber === listing.mlsNumber).map((favorite) => favorite.favoriteId);
      const body = webhookBody(
        'listing.updated',
        { ...listing, ...extra, listPrice: newPrice, timestamps: { listingUpdated: new Date().toISOString() } },
        { previous: { listPrice: listing.listPrice }, favoriteIds },
      );
      const eventId = await accepted(await standIn.deliver('listing.updated', body));
      await waitForEvents(hub.store, [eventId], 60_000);
      return eventId;
    },
    async close() {
      await hub.close();
      await standIn.close();
      await smtp.close();
      await folder.cleanup();
    },
  };
}

/** Fetches an admin API path with the token; returns status and parsed JSON body. */
export async function adminCall(
  url: string,
  method: string,
  apiPath: string,
  body?: unknown,
  token: string | null = adminToken,
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${url}${apiPath}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Kept as text: Bull Board and the page respond with HTML.
  }
  return { status: response.status, body: parsed };
}

/** Polls `read` until `done` holds, or fails after `timeoutMs`. */
export async function waitUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms; last value: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
