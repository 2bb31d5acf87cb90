/**
 * A local stand-in for Repliers, for `hub demo`, `hub demo repliers` and the tests. It serves the API calls the hub
 * makes: agents, clients and favorites with Repliers' paging and error shapes, and webhook subscriptions with the
 * handshake and the 409 for a target_url already in use. It also sends webhooks as Repliers does, handshake first. It listens on
 * 127.0.0.1 only. Its world is read on every request, so a test can change the arrays of `world` between calls.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PortUnavailableError } from '../http/port-unavailable.js';
import type { RepliersWebhook } from '../repliers/api-client.js';
import { isRepliersEvent } from '../repliers/events.js';
import type { RepliersAgent, RepliersClient, RepliersFavorite } from '../repliers/types.js';
import type { DemoWorld } from './demo-world.js';

export interface WebhookAnswer {
  status: number;
  body: string;
}

export interface RepliersStandIn {
  /** Base URL of the API, such as http://127.0.0.1:41234. */
  url: string;
  apiKey: string;
  world: DemoWorld;
  /**
   * Makes the next `count` API requests fail with `status`, and a `Retry-After` header when given. With `pathPart`,
   * only requests whose path and query contain it fail, such as "clientId=5003".
   */
  failNext(count: number, status: number, retryAfterSeconds?: number, pathPart?: string): void;
  /** API requests received, as "GET /clients/5001". */
  requests: string[];
  /**
   * Performs the subscription handshake for `event` at `targetUrl`, as Repliers does on POST /webhooks, and keeps
   * the subscription when the target echoes the secret. Unlike POST /webhooks it does not check for a duplicate.
   */
  subscribe(targetUrl: string, event: string): Promise<WebhookAnswer>;
  /** The subscriptions kept, as GET /webhooks returns them. */
  webhooks(): RepliersWebhook[];
  /** Delivers a webhook body to the subscription of `event`, with its secret. */
  deliver(event: string, body: unknown): Promise<WebhookAnswer>;
  /** The secret of a subscription, for tests that need to forge or check it. */
  secretOf(event: string): string | undefined;
  close(): Promise<void>;
}

function page<T>(items: T[], field: string, query: URLSearchParams): Record<string, unknown> {
  const pageSize = Math.min(Math.max(Number(query.get('resultsPerPage') ?? 100) || 100, 1), 100);
  const pageNum = Math.max(Number(query.get('pageNum') ?? 1) || 1, 1);
  const numPages = Math.max(1, Math.ceil(items.length / pageSize));
  return {
    page: pageNum,
    numPages,
    pageSize,
    count: items.length,
    [field]: items.slice((pageNum - 1) * pageSize, pageNum * pageSize),
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Largest POST body the stand-in reads, in bytes. */
const maxBodyBytes = 64 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) reject(new Error('body too large'));
      else parts.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

interface Subscription {
  id: number;
  targetUrl: string;
  event: string;
  configuration: Record<string, unknown> | null;
  secret: string;
}

const publicView = (subscription: Subscription): RepliersWebhook => ({
  id: subscription.id,
  target_url: subscription.targetUrl,
  event: subscription.event,
  configuration: subscription.configuration,
});

export interface StandInOptions {
  /** The key requests must carry in the REPLIERS-API-KEY header. Default: 24 random hex digits. */
  apiKey?: string;
  /** Port on 127.0.0.1. Default 0, a free port the system picks. */
  port?: number;
  /** Called once per finished response, such as `GET /clients/5001` with 200. */
  onResponse?: (request: string, status: number) => void;
}

export async function startRepliersStandIn(world: DemoWorld, options: StandInOptions = {}): Promise<RepliersStandIn> {
  const apiKey = options.apiKey ?? randomBytes(12).toString('hex');
  const requests: string[] = [];
  const failures: { status: number; retryAfter?: number; pathPart?: string }[] = [];
  /** Every kept subscription in creation order; `deliver` uses the latest one of an event. */
  const subscriptions: Subscription[] = [];
  let nextWebhookId = 438;

  const byId = <T>(items: T[], field: keyof T, id: string): T | undefined => items.find((item) => String(item[field]) === id);
  const latestOf = (event: string): Subscription | undefined => subscriptions.filter((entry) => entry.event === event).at(-1);

  const post = async (targetUrl: string, headers: Record<string, string>, body: string): Promise<Response> =>
    fetch(targetUrl, { method: 'POST', headers, body, signal: AbortSignal.timeout(15_000) });

  /** Sends the handshake, keeps the subscription when the secret comes back, and returns the target's response. */
  const handshake = async (
    targetUrl: string,
    event: string,
    configuration: Record<string, unknown> | null,
  ): Promise<{ answer: WebhookAnswer; subscription: Subscription | null }> => {
    const secret = randomBytes(24).toString('hex');
    const response = await post(targetUrl, { 'x-hook-secret': secret }, '');
    const text = await response.text();
    // Repliers keeps the subscription only when the receiver echoes the secret.
    if (response.status !== 200 || response.headers.get('x-hook-secret') !== secret) {
      return { answer: { status: response.status, body: text }, subscription: null };
    }
    const subscription = { id: nextWebhookId++, targetUrl, event, configuration, secret };
    subscriptions.push(subscription);
    return { answer: { status: response.status, body: text }, subscription };
  };

  const createWebhook = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(await readBody(req));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      return send(res, 400, { message: 'The body must be a JSON object with target_url and event' });
    }
    const { target_url: targetUrl, event, configuration } = body;
    if (typeof targetUrl !== 'string' || !/^https?:\/\//.test(targetUrl)) {
      return send(res, 400, { message: 'target_url must be an http or https URL' });
    }
    if (typeof event !== 'string' || !isRepliersEvent(event)) {
      return send(res, 400, { message: `event "${String(event)}" is not an event that can be subscribed` });
    }
    if (configuration !== undefined && (typeof configuration !== 'object' || configuration === null)) {
      return send(res, 400, { message: 'configuration must be an object' });
    }
    if (subscriptions.some((entry) => entry.targetUrl === targetUrl)) {
      return send(res, 409, { message: 'The target_url is already used by another webhook subscription' });
    }

    let outcome: Awaited<ReturnType<typeof handshake>>;
    try {
      outcome = await handshake(targetUrl, event, (configuration as Record<string, unknown> | undefined) ?? null);
    } catch {
      return send(res, 400, { message: `target_url ${targetUrl} could not be reached` });
    }
    if (!outcome.subscription) {
      return send(res, 401, { message: 'The target did not echo the X-Hook-Secret header' });
    }
    send(res, 200, publicView(outcome.subscription));
  };

  const handleWebhooks = async (req: IncomingMessage, res: ServerResponse, id: string | undefined): Promise<void> => {
    if (id === undefined && req.method === 'GET') return send(res, 200, subscriptions.map(publicView));
    if (id === undefined && req.method === 'POST') return createWebhook(req, res);
    const index = subscriptions.findIndex((entry) => String(entry.id) === id);
    if (id === undefined || index === -1) return send(res, 404, { message: `Webhook ${id ?? ''} not found` });
    if (req.method === 'GET') return send(res, 200, publicView(subscriptions[index]!));
    if (req.method === 'DELETE') {
      subscriptions.splice(index, 1);
      return send(res, 200, {});
    }
    send(res, 405, { message: `${req.method} is not served by the stand-in` });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://stand-in.invalid');
    requests.push(`${req.method} ${url.pathname}${url.search}`);

    if (req.headers['repliers-api-key'] !== apiKey) {
      send(res, 401, { message: 'Invalid or missing API key' });
      return;
    }
    const target = `${url.pathname}${url.search}`;
    const failureIndex = failures.findIndex((entry) => entry.pathPart === undefined || target.includes(entry.pathPart));
    const failure = failureIndex === -1 ? undefined : failures.splice(failureIndex, 1)[0];
    if (failure) {
      send(res, failure.status, { message: 'Stand-in failure' }, failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : {});
      return;
    }
    const parts = url.pathname.split('/').filter(Boolean);
    const [resource, id] = parts;
    if (resource === 'webhooks') return handleWebhooks(req, res, id);
    if (req.method !== 'GET') {
      send(res, 405, { message: `${req.method} is not served by the stand-in` });
      return;
    }

    if (resource === 'agents') {
      if (id === undefined) return send(res, 200, page(world.agents, 'agents', url.searchParams));
      const agent = byId<RepliersAgent>(world.agents, 'agentId', id);
      return agent ? send(res, 200, agent) : send(res, 404, { message: `Agent ${id} not found` });
    }
    if (resource === 'clients') {
      if (id === undefined) return send(res, 200, page(world.clients, 'clients', url.searchParams));
      const client = byId<RepliersClient>(world.clients, 'clientId', id);
      return client ? send(res, 200, client) : send(res, 404, { message: `Client ${id} not found` });
    }
    if (resource === 'favorites' && id === undefined) {
      const clientId = url.searchParams.get('clientId');
      if (!clientId) return send(res, 400, { message: 'clientId is required' });
      const favorites = world.favorites.filter((favorite: RepliersFavorite) => String(favorite.clientId) === clientId);
      return send(res, 200, page(favorites, 'favorites', url.searchParams));
    }
    send(res, 404, { message: `No route for ${url.pathname}` });
  };

  const server: Server = createServer((req, res) => {
    const { onResponse } = options;
    if (onResponse) res.on('finish', () => onResponse(`${req.method} ${req.url ?? '/'}`, res.statusCode));
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { message: `Stand-in error: ${(error as Error).message}` });
    });
  });
  await listen(server, options.port ?? 0);
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    world,
    requests,
    failNext(count, status, retryAfterSeconds, pathPart) {
      for (let index = 0; index < count; index++) failures.push({ status, retryAfter: retryAfterSeconds, pathPart });
    },
    async subscribe(targetUrl, event) {
      return (await handshake(targetUrl, event, null)).answer;
    },
    webhooks() {
      return subscriptions.map(publicView);
    },
    async deliver(event, body) {
      const subscription = latestOf(event);
      if (!subscription) throw new Error(`no subscription for ${event}; call subscribe first`);
      const response = await post(
        subscription.targetUrl,
        { 'content-type': 'application/json', 'x-hook-secret': subscription.secret },
        JSON.stringify(body),
      );
      return { status: response.status, body: await response.text() };
    },
    secretOf(event) {
      return latestOf(event)?.secret;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Listens on 127.0.0.1 only, and turns a port that is taken or not allowed into a {@link PortUnavailableError}. */
function listen(server: Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException): void => {
      if (error.code === 'EADDRINUSE') {
        reject(new PortUnavailableError(`port ${port} on 127.0.0.1 is already in use: stop the program that listens there, or choose another port with --port`));
      } else if (error.code === 'EACCES') {
        reject(new PortUnavailableError(`port ${port} on 127.0.0.1 may not be used by this user: choose a port above 1023 with --port`));
      } else {
        reject(error);
      }
    };
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', fail);
      resolve();
    });
  });
}

/** Builds the body of a webhook as the newer Repliers reference describes it. */
export function webhookBody(event: string, data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { data, ...extra, hook: { event } };
}
