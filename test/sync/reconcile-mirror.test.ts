/** Reconciling an SQLite mirror with the Repliers stand-in over HTTP: backfill, every kind of drift, and failures. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DemoWorld } from '../../src/demo/demo-world.js';
import { startRepliersStandIn, type RepliersStandIn } from '../../src/demo/repliers-stand-in.js';
import { createLogger } from '../../src/logger.js';
import { SqliteStore } from '../../src/mirror/sqlite/sqlite-store.js';
import { RepliersApi, RepliersApiError } from '../../src/repliers/api-client.js';
import type { RepliersAgent, RepliersClient, RepliersFavorite } from '../../src/repliers/types.js';
import { reconcileMirror, type ReconcileProgress } from '../../src/sync/reconcile-mirror.js';

const logger = createLogger('silent');
/** A time before any reconcile of these tests reads Repliers. */
const past = '2024-05-01T10:00:00.000Z';

/** 3 agents, 250 clients (3 pages) and 2 favorites for every client whose number is even. */
function makeWorld(): DemoWorld {
  const agents: RepliersAgent[] = [101, 102, 103].map((agentId) => ({
    agentId,
    fname: `Agent ${agentId}`,
    lname: 'Realtor',
    email: `agent${agentId}@brokerage.example`,
    phone: '16135550100',
    brokerage: 'North Realty',
    externalId: null,
  }));
  const clients: RepliersClient[] = Array.from({ length: 250 }, (_, index) => ({
    clientId: 5000 + index,
    agentId: 101 + (index % 3),
    fname: `Client ${index}`,
    lname: 'Buyer',
    email: `client${index}@mail.example`,
    phone: null,
    status: true,
    preferences: { email: true },
    tags: ['buyer'],
    externalId: null,
  }));
  const favorites: RepliersFavorite[] = clients
    .filter((_, index) => index % 2 === 0)
    .flatMap((client, index) => [
      { favoriteId: 90000 + index * 2, clientId: client.clientId, mlsNumber: 'X100', boardId: 12, comments: null, tags: [] },
      { favoriteId: 90001 + index * 2, clientId: client.clientId, mlsNumber: `Y${index}`, boardId: 12, comments: 'nice', tags: ['a'] },
    ]);
  return { listings: [], agents, clients, favorites };
}

let standIn: RepliersStandIn;
let repliers: RepliersApi;
let directory: string;
let store: SqliteStore;

beforeAll(async () => {
  standIn = await startRepliersStandIn(makeWorld());
});

afterAll(async () => {
  await standIn?.close();
});

beforeEach(async () => {
  Object.assign(standIn.world, makeWorld());
  standIn.requests.length = 0;
  repliers = new RepliersApi({ baseUrl: standIn.url, apiKey: standIn.apiKey, maxRetries: 0 });
  directory = mkdtempSync(path.join(tmpdir(), 'hub-reconcile-'));
  store = new SqliteStore(path.join(directory, 'hub.sqlite'));
  await store.migrate();
});

afterEach(async () => {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('reconcileMirror', () => {
  it('backfills an empty mirror', async () => {
    const progress: ReconcileProgress[] = [];

    const report = await reconcileMirror({ store, repliers, logger, onProgress: (step) => progress.push(step) });

    expect(report.agents).toEqual({ read: 3, added: 3, changed: 0, removed: 0, conflict: 0 });
    expect(report.clients).toEqual({ read: 250, added: 250, changed: 0, removed: 0, conflict: 0 });
    expect(report.favorites).toEqual({ read: 250, added: 250, changed: 0, removed: 0, conflict: 0 });
    expect(report.failedClients).toBe(0);
    expect(progress.filter((step) => step.phase === 'clients').map((step) => step.done)).toEqual([100, 200, 250]);
    const routed = await store.getFavoritesOfListing('X100', '12');
    expect(routed).toHaveLength(125);
    expect(routed.every((entry) => entry.client !== null && entry.agent !== null)).toBe(true);
  });

  it('second run finds nothing', async () => {
    await reconcileMirror({ store, repliers, logger });

    const report = await reconcileMirror({ store, repliers, logger });

    for (const counts of [report.agents, report.clients, report.favorites]) {
      expect(counts).toMatchObject({ added: 0, changed: 0, removed: 0, conflict: 0 });
    }
  });

  it('repairs every kind of drift', async () => {
    await reconcileMirror({ store, repliers, logger });
    const world = standIn.world;
    world.agents[0]!.email = 'moved@brokerage.example';
    world.agents.pop();
    world.clients[1]!.email = 'renamed@mail.example';
    world.clients.splice(2, 1);
    const removedFavorite = world.favorites.splice(5, 1)[0]!;
    world.favorites.push({ favoriteId: 99999, clientId: 5001, mlsNumber: 'X999', boardId: 12, comments: null, tags: [] });
    world.favorites[0]!.comments = 'changed note';

    const report = await reconcileMirror({ store, repliers, logger });

    expect(report.agents).toMatchObject({ added: 0, changed: 1, removed: 1 });
    expect(report.clients).toMatchObject({ added: 0, changed: 1, removed: 1 });
    // The removed client had 2 favorites; one more favorite was removed alone.
    expect(report.favorites).toMatchObject({ added: 1, changed: 1, removed: 3 });
    expect(report.samples['client.removed']).toEqual(['5002']);
    expect((await store.getAgents(['101', '103'])).get('101')?.email).toBe('moved@brokerage.example');
    expect((await store.getAgents(['103'])).size).toBe(0);
    expect((await store.getClients(['5002'])).get('5002')?.deletedAt).not.toBeNull();
    const favorites = await store.getFavorites([String(removedFavorite.favoriteId), '99999', '90000']);
    expect(favorites.get(String(removedFavorite.favoriteId))?.favorite.deletedAt).not.toBeNull();
    expect(favorites.get('99999')?.favorite).toMatchObject({ clientId: '5001', deletedAt: null });
    expect(favorites.get('90000')?.favorite.comments).toBe('changed note');
    expect(standIn.requests).toContain('GET /clients/5002');
    expect(standIn.requests).toContain('GET /agents/103');
  });

  it('keeps a favorite seen after the read began', async () => {
    await reconcileMirror({ store, repliers, logger });
    // A favorite.created received after the reconcile read the list carries a later time than the read.
    await store.applyFavoriteCreated(
      { favoriteId: 'late', clientId: '5000', mlsNumber: 'X1', boardId: null, tags: [], comments: null },
      '2999-01-01T00:00:00.000Z',
    );

    const report = await reconcileMirror({ store, repliers, logger });

    expect(report.favorites.removed).toBe(0);
    expect((await store.getFavorites(['late'])).get('late')?.favorite.deletedAt).toBeNull();
  });

  it('tombstones favorites of a client Repliers lacks', async () => {
    await store.applyFavoriteCreated(
      { favoriteId: 'orphan', clientId: '7777', mlsNumber: 'X1', boardId: null, tags: [], comments: null },
      past,
    );

    const report = await reconcileMirror({ store, repliers, logger });

    expect(report.clients.removed).toBe(1);
    expect((await store.getFavorites(['orphan'])).get('orphan')?.favorite.deletedAt).not.toBeNull();
    expect((await store.getClients(['7777'])).get('7777')?.deletedAt).not.toBeNull();
  });

  it('counts a deletion the mirror has as a conflict', async () => {
    await store.applyFavoriteDeleted({ favoriteId: '90000' }, past);

    const report = await reconcileMirror({ store, repliers, logger });

    expect(report.favorites).toMatchObject({ added: 249, conflict: 1 });
    expect((await store.getFavorites(['90000'])).get('90000')?.favorite.deletedAt).toBe(past);
  });

  it('leaves a client alone whose favorites failed', async () => {
    await reconcileMirror({ store, repliers, logger });
    standIn.world.favorites = standIn.world.favorites.filter((favorite) => favorite.clientId !== 5004);
    standIn.failNext(1, 500, undefined, 'clientId=5004');

    const report = await reconcileMirror({ store, repliers, logger });

    expect(report.failedClients).toBe(1);
    expect(report.favorites.removed).toBe(0);
    const stillMirrored = await store.getFavoritesOfClients(['5004']);
    expect(stillMirrored.map((favorite) => favorite.deletedAt)).toEqual([null, null]);
  });

  it('stops on a rejected key', async () => {
    const wrong = new RepliersApi({ baseUrl: standIn.url, apiKey: 'wrong-key', maxRetries: 0 });

    await expect(reconcileMirror({ store, repliers: wrong, logger })).rejects.toMatchObject({
      code: 'REPLIERS_UNAUTHORIZED',
    });
  });

  it('stops when many clients fail in a row', async () => {
    standIn.failNext(1_000, 503, undefined, '/favorites');

    const error = await reconcileMirror({ store, repliers, logger, concurrency: 1 }).catch((reason: unknown) => reason);

    expect(error).toBeInstanceOf(RepliersApiError);
    expect((error as Error).message).toContain('20 clients in a row');
  });
});
