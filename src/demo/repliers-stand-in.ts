/**
 * A local stand-in for Repliers, for `hub demo` and the tests: it serves the API calls the hub makes (agents,
 * clients and favorites, with Repliers' paging and error shapes) and sends webhooks as Repliers does, handshake
 * first. It listens on 127.0.0.1 only.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  /** Makes the next `count` API requests fail with `status`, and a `Retry-After` header when given. */
  failNext(count: number, status: number, retryAfterSeconds?: number): void;
  /** API requests received, as "GET /clients/5001". */
  requests: string[];
  /** Performs the subscription handshake for `event` at `targetUrl`, as Repliers does on POST /webhooks. */
  subscribe(targetUrl: string, event: string): Promise<WebhookAnswer>;
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

export async function startRepliersStandIn(world: DemoWorld, apiKey = randomBytes(12).toString('hex')): Promise<RepliersStandIn> {
  const requests: string[] = [];
  const failures: { status: number; retryAfter?: number }[] = [];
  const subscriptions = new Map<string, { targetUrl: string; secret: string }>();

  const byId = <T>(items: T[], field: keyof T, id: string): T | undefined => items.find((item) => String(item[field]) === id);

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://stand-in.invalid');
    requests.push(`${req.method} ${url.pathname}${url.search}`);

    if (req.headers['repliers-api-key'] !== apiKey) {
      send(res, 401, { message: 'Invalid or missing API key' });
      return;
    }
    const failure = failures.shift();
    if (failure) {
      send(res, failure.status, { message: 'Stand-in failure' }, failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : {});
      return;
    }
    if (req.method !== 'GET') {
      send(res, 405, { message: `${req.method} is not served by the stand-in` });
      return;
    }

    const parts = url.pathname.split('/').filter(Boolean);
    const [resource, id] = parts;
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

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const post = async (targetUrl: string, headers: Record<string, string>, body: string): Promise<Response> =>
    fetch(targetUrl, { method: 'POST', headers, body, signal: AbortSignal.timeout(15_000) });

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    world,
    requests,
    failNext(count, status, retryAfterSeconds) {
      for (let index = 0; index < count; index++) failures.push({ status, retryAfter: retryAfterSeconds });
    },
    async subscribe(targetUrl, event) {
      const secret = randomBytes(24).toString('hex');
      const response = await post(targetUrl, { 'x-hook-secret': secret }, '');
      const text = await response.text();
      // Repliers keeps the subscription only when the receiver echoes the secret.
      if (response.status === 200 && response.headers.get('x-hook-secret') === secret) {
        subscriptions.set(event, { targetUrl, secret });
      }
      return { status: response.status, body: text };
    },
    async deliver(event, body) {
      const subscription = subscriptions.get(event);
      if (!subscription) throw new Error(`no subscription for ${event}; call subscribe first`);
      const response = await post(
        subscription.targetUrl,
        { 'content-type': 'application/json', 'x-hook-secret': subscription.secret },
        JSON.stringify(body),
      );
      return { status: response.status, body: await response.text() };
    },
    secretOf(event) {
      return subscriptions.get(event)?.secret;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Builds the body of a webhook as the newer Repliers reference describes it. */
export function webhookBody(event: string, data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { data, ...extra, hook: { event } };
}
