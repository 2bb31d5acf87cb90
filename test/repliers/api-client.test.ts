/** The Repliers API client against the Repliers stand-in over real HTTP on 127.0.0.1. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DemoWorld } from '../../src/demo/demo-world.js';
import { startRepliersStandIn, type RepliersStandIn } from '../../src/demo/repliers-stand-in.js';
import { RepliersApi, RepliersApiError } from '../../src/repliers/api-client.js';
import { freePort } from '../ingress/private-redis.js';

function makeWorld(clientCount: number): DemoWorld {
  const clients = Array.from({ length: clientCount }, (_, index) => ({
    clientId: 5000 + index,
    agentId: 101,
    fname: `Client ${index}`,
    email: `client${index}@mail.example`,
  }));
  const favorites = Array.from({ length: 130 }, (_, index) => ({
    favoriteId: 90000 + index,
    clientId: 5000,
    mlsNumber: `X${index}`,
    boardId: 12,
  }));
  return { listings: [], agents: [{ agentId: 101, fname: 'Maya' }], clients, favorites };
}

/** Starts a server on 127.0.0.1 that runs `handler`; returns its URL and a close function. */
async function startServer(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function caught(promise: Promise<unknown>): Promise<RepliersApiError> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(RepliersApiError);
  return error as RepliersApiError;
}

let standIn: RepliersStandIn;
let echo: { url: string; server: Server };
let api: RepliersApi;

beforeAll(async () => {
  standIn = await startRepliersStandIn(makeWorld(250));
  // A webhook receiver that echoes every handshake secret, as the hub does inside an open window.
  echo = await startServer((req, res) => {
    const secret = req.headers['x-hook-secret'];
    res.writeHead(200, typeof secret === 'string' ? { 'x-hook-secret': secret } : {});
    res.end();
  });
});

afterAll(async () => {
  await standIn?.close();
  if (echo) await closeServer(echo.server);
});

beforeEach(() => {
  standIn.requests.length = 0;
  api = new RepliersApi({ baseUrl: standIn.url, apiKey: standIn.apiKey, backoffMs: 5, maxRetries: 2 });
});

describe('paging', () => {
  it('reads every page of clients', async () => {
    const list = await api.listClientsPaged();

    expect(list.items).toHaveLength(250);
    expect(list.count).toBe(250);
    expect(list.pages).toBe(3);
    expect(new Set(list.items.map((client) => client.clientId)).size).toBe(250);
    expect(standIn.requests).toEqual([
      'GET /clients?showSavedSearches=false&pageNum=1&resultsPerPage=100',
      'GET /clients?showSavedSearches=false&pageNum=2&resultsPerPage=100',
      'GET /clients?showSavedSearches=false&pageNum=3&resultsPerPage=100',
    ]);
  });

  it('reports progress per page', async () => {
    const seen: [number, number][] = [];

    await api.listClientsPaged((read, count) => seen.push([read, count]));

    expect(seen).toEqual([
      [100, 250],
      [200, 250],
      [250, 250],
    ]);
  });

  it('reads a client favorites by clientId', async () => {
    const favorites = await api.listFavorites('5000');

    expect(favorites).toHaveLength(130);
    expect(standIn.requests[0]).toBe('GET /favorites?clientId=5000&pageNum=1&resultsPerPage=100');
  });

  it('returns null for an unknown client', async () => {
    expect(await api.getClient('no-such-client')).toBeNull();
    expect((await api.getAgent('101'))?.fname).toBe('Maya');
  });
});

describe('retries', () => {
  it('retries 503 then succeeds', async () => {
    standIn.failNext(2, 503);

    const agents = await api.listAgents();

    expect(agents).toHaveLength(1);
    expect(standIn.requests).toHaveLength(3);
  });

  it('waits as long as Retry-After asks', async () => {
    standIn.failNext(1, 429, 1);
    const started = Date.now();

    await api.listAgents();

    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(standIn.requests).toHaveLength(2);
  });

  it('fails at once when Retry-After is too long', async () => {
    const impatient = new RepliersApi({ baseUrl: standIn.url, apiKey: standIn.apiKey, maxRetryAfterMs: 500 });
    standIn.failNext(1, 429, 120);

    const error = await caught(impatient.listAgents());

    expect(error.code).toBe('REPLIERS_RATE_LIMITED');
    expect(error.message).toContain('wait 120 s');
    expect(standIn.requests).toHaveLength(1);
  });

  it('gives up after the last retry', async () => {
    standIn.failNext(3, 502);

    const error = await caught(api.listAgents());

    expect(error).toMatchObject({ code: 'REPLIERS_HTTP_ERROR', status: 502, request: 'GET /agents' });
    expect(standIn.requests).toHaveLength(3);
  });

  it('keeps answering 429 as rate limited', async () => {
    standIn.failNext(3, 429);

    const error = await caught(api.listAgents());

    expect(error.code).toBe('REPLIERS_RATE_LIMITED');
  });

  it('times out a silent server', async () => {
    const silent = await startServer(() => {
      // Never answers, so every attempt runs into the client's timeout.
    });
    try {
      const slow = new RepliersApi({ baseUrl: silent.url, apiKey: 'k', timeoutMs: 100, maxRetries: 1, backoffMs: 5 });

      const error = await caught(slow.listAgents());

      expect(error.code).toBe('REPLIERS_TIMEOUT');
      expect(error.message).toContain(`GET /agents at ${silent.url} within 100 ms, 2 attempts`);
      expect(error.message).toContain('Check that REPLIERS_API_URL');
    } finally {
      await closeServer(silent.server);
    }
  });

  it('reports a refused connection', async () => {
    const baseUrl = `http://127.0.0.1:${await freePort()}`;
    const nowhere = new RepliersApi({ baseUrl, apiKey: 'k', maxRetries: 1, backoffMs: 5 });

    const error = await caught(nowhere.listAgents());

    expect(error.code).toBe('REPLIERS_NETWORK');
    expect(error.status).toBeNull();
    expect(error.message).toContain(`GET /agents at ${baseUrl} failed: fetch failed (connect ECONNREFUSED 127.0.0.1:`);
    expect(error.message).toContain('2 attempts');
    expect(error.message).toContain('Check that REPLIERS_API_URL is the address of the Repliers API');
  });
});

describe('rejected keys', () => {
  it('401 names REPLIERS_API_KEY and is not retried', async () => {
    const wrong = new RepliersApi({ baseUrl: standIn.url, apiKey: 'not-the-key' });

    const error = await caught(wrong.listClients());

    expect(error).toMatchObject({ code: 'REPLIERS_UNAUTHORIZED', status: 401 });
    expect(error.message).toContain('REPLIERS_API_KEY');
    expect(standIn.requests).toHaveLength(1);
  });

  it('403 explains what the key may not do', async () => {
    standIn.failNext(1, 403);

    const error = await caught(api.listWebhooks());

    expect(error).toMatchObject({ code: 'REPLIERS_FORBIDDEN', status: 403 });
    expect(error.message).toMatch(/Sandbox keys cannot manage webhooks/);
  });

  it('non-JSON answer is a bad response', async () => {
    const html = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>maintenance</html>');
    });
    try {
      const error = await caught(new RepliersApi({ baseUrl: html.url, apiKey: 'k' }).listAgents());

      expect(error.code).toBe('REPLIERS_BAD_RESPONSE');
    } finally {
      await closeServer(html.server);
    }
  });
});

describe('webhooks', () => {
  it('creates, lists and rejects a duplicate', async () => {
    const target = `${echo.url}/webhooks/repliers/listing.updated`;

    const created = await api.createWebhook(target, 'listing.updated');
    const listed = await api.listWebhooks();
    const duplicate = await caught(api.createWebhook(target, 'listing.updated'));

    expect(created).toMatchObject({ target_url: target, event: 'listing.updated' });
    expect(listed).toContainEqual(created);
    expect(duplicate).toMatchObject({ code: 'REPLIERS_CONFLICT', status: 409 });
    expect(standIn.secretOf('listing.updated')).toMatch(/^[0-9a-f]{48}$/);
  });

  it('handshake without echo fails clearly', async () => {
    const mute = await startServer((_req, res) => {
      res.writeHead(200);
      res.end();
    });
    try {
      const error = await caught(api.createWebhook(`${mute.url}/webhooks/repliers/client.updated`, 'client.updated'));

      expect(error).toMatchObject({ code: 'REPLIERS_HANDSHAKE_FAILED', status: 401 });
      expect(error.message).toContain('did not echo the X-Hook-Secret');
      expect((await api.listWebhooks()).map((webhook) => webhook.event)).not.toContain('client.updated');
    } finally {
      await closeServer(mute.server);
    }
  });

  it('unreachable target fails clearly', async () => {
    const error = await caught(api.createWebhook('http://127.0.0.1:1/webhooks/repliers/agent.updated', 'agent.updated'));

    expect(error).toMatchObject({ code: 'REPLIERS_HANDSHAKE_FAILED', status: 400 });
  });
});
