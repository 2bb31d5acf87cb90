/**
 * The part of the store contract about order: mirror writes compare their time with the stored one, so a replayed
 * or late event never overwrites newer data and `updatedAt` never moves back. Deletions of clients and favorites
 * are the exception: they always win. Each store's test file
 * runs this suite beside `describeStoreContract`, with the same `open` and `cleanup`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentInput, ClientInput, FavoriteInput, ListingInput, Store } from '../../src/mirror/store.js';

/** Returns the ISO timestamp `seconds` after 10:00 UTC on a fixed day, so that larger arguments give later times. */
function at(seconds: number): string {
  return new Date(Date.UTC(2024, 4, 1, 10, 0, seconds)).toISOString();
}

function agent(agentId: string, fname = 'Ana'): AgentInput {
  return {
    agentId,
    fname,
    lname: 'Agent',
    email: `${agentId}@brokerage.example`,
    phone: null,
    brokerage: null,
    externalId: null,
  };
}

function client(clientId: string, agentId: string | null, fname = 'Cam'): ClientInput {
  return {
    clientId,
    agentId,
    fname,
    lname: 'Client',
    email: `${clientId}@mail.example`,
    phone: null,
    status: true,
    externalId: null,
    preferences: {},
    tags: [],
  };
}

function favorite(favoriteId: string, clientId: string, comments = 'first note'): FavoriteInput {
  return { favoriteId, clientId, mlsNumber: 'C1000', boardId: '91', tags: [], comments };
}

function listing(listPrice: number): ListingInput {
  return { mlsNumber: 'C1000', boardId: '91', listPrice, status: 'A', lastStatus: 'Pc', summary: {} };
}

export function describeOrderContract(
  name: string,
  open: () => Promise<Store>,
  cleanup?: (store: Store) => Promise<void>,
): void {
  describe(`${name} order contract`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await open();
      await store.migrate();
    });

    afterEach(async () => {
      await store.close();
      await cleanup?.(store);
    });

    describe('agents', () => {
      it('older update is ignored', async () => {
        await store.upsertAgent(agent('a1', 'Newer'), at(2));
        await store.upsertAgent(agent('a1', 'Older'), at(1));

        const found = (await store.getAgents(['a1'])).get('a1');

        expect(found?.fname).toBe('Newer');
        expect(found?.updatedAt).toBe(at(2));
      });

      it('deleted agent reads as absent', async () => {
        await store.upsertAgent(agent('a1'), at(1));
        await store.upsertClient(client('c1', 'a1'), at(1));
        await store.applyFavoriteCreated(favorite('f1', 'c1'), at(1));

        await store.deleteAgent('a1', at(2));

        expect((await store.getAgents(['a1'])).size).toBe(0);
        expect((await store.getFavorites(['f1'])).get('f1')?.agent).toBeNull();
        expect((await store.getFavoritesOfListing('C1000', '91'))[0]?.agent).toBeNull();
        expect(await store.listAgentIds('', 10)).toEqual([]);
      });

      it('older update keeps an agent deleted', async () => {
        await store.upsertAgent(agent('a1'), at(1));
        await store.deleteAgent('a1', at(3));
        await store.upsertAgent(agent('a1', 'Replayed'), at(2));
        await store.upsertAgent(agent('a1', 'Same time'), at(3));

        expect((await store.getAgents(['a1'])).size).toBe(0);
      });

      it('newer update revives an agent', async () => {
        await store.deleteAgent('a1', at(1));
        await store.upsertAgent(agent('a1', 'Back'), at(2));

        expect((await store.getAgents(['a1'])).get('a1')).toMatchObject({ fname: 'Back', updatedAt: at(2) });
      });

      it('delete older than the agent is ignored', async () => {
        await store.upsertAgent(agent('a1'), at(2));
        await store.deleteAgent('a1', at(1));

        expect((await store.getAgents(['a1'])).get('a1')?.updatedAt).toBe(at(2));
      });

      it('listAgentIds pages in byte order', async () => {
        for (const id of ['a3', 'a1', 'B2', 'a2']) await store.upsertAgent(agent(id), at(1));
        await store.deleteAgent('a2', at(2));

        expect(await store.listAgentIds('', 2)).toEqual(['B2', 'a1']);
        expect(await store.listAgentIds('a1', 2)).toEqual(['a3']);
        expect(await store.listAgentIds('a3', 2)).toEqual([]);
      });
    });

    describe('clients', () => {
      it('older update is ignored', async () => {
        await store.upsertClient(client('c1', 'a2', 'Newer'), at(2));
        await store.upsertClient(client('c1', 'a1', 'Older'), at(1));

        const found = (await store.getClients(['c1'])).get('c1');

        expect(found).toMatchObject({ fname: 'Newer', agentId: 'a2', updatedAt: at(2) });
      });

      it('update older than an opt-out still applies', async () => {
        await store.upsertClient(client('c1', 'a1', 'First'), at(1));
        await store.recordOptOut('c1', at(3));
        await store.upsertClient(client('c1', 'a1', 'Second'), at(2));

        const found = (await store.getClients(['c1'])).get('c1');

        expect(found).toMatchObject({ fname: 'Second', optedOutAt: at(3), updatedAt: at(3) });
      });

      it('deletion keeps updatedAt from moving back', async () => {
        await store.upsertClient(client('c1', null), at(5));
        await store.applyFavoriteCreated(favorite('f1', 'c1'), at(5));

        await store.deleteClient('c1', at(3));

        const found = (await store.getClients(['c1'])).get('c1');
        const stored = (await store.getFavorites(['f1'])).get('f1')?.favorite;
        expect(found).toMatchObject({ deletedAt: at(3), updatedAt: at(5) });
        expect(stored).toMatchObject({ deletedAt: at(3), updatedAt: at(5) });
      });

      it('listClientIds joins clients and favorites', async () => {
        await store.upsertClient(client('c1', null), at(1));
        await store.upsertClient(client('c2', null), at(1));
        await store.upsertClient(client('c3', null), at(1));
        await store.deleteClient('c3', at(2));
        await store.applyFavoriteCreated(favorite('f1', 'c1'), at(1));
        await store.applyFavoriteCreated(favorite('f4', 'c4'), at(1));
        await store.applyFavoriteCreated(favorite('f5', 'c5'), at(1));
        await store.applyFavoriteDeleted({ favoriteId: 'f5' }, at(2));
        await store.applyFavoriteDeleted({ favoriteId: 'bare' }, at(2));

        expect(await store.listClientIds('', 10)).toEqual(['c1', 'c2', 'c4']);
        expect(await store.listClientIds('', 2)).toEqual(['c1', 'c2']);
        expect(await store.listClientIds('c2', 2)).toEqual(['c4']);
        expect(await store.listClientIds('c4', 2)).toEqual([]);
      });
    });

    describe('favorites', () => {
      it('older create keeps newer fields', async () => {
        await store.applyFavoriteCreated(favorite('f1', 'c1', 'newer note'), at(2));
        await store.applyFavoriteCreated(favorite('f1', 'c1', 'older note'), at(1));

        expect((await store.getFavorites(['f1'])).get('f1')?.favorite).toMatchObject({
          comments: 'newer note',
          createdAt: at(1),
          updatedAt: at(2),
          deletedAt: null,
        });
      });

      it('late create fills a bare tombstone', async () => {
        await store.applyFavoriteDeleted({ favoriteId: 'f1' }, at(2));
        await store.applyFavoriteCreated(favorite('f1', 'c1'), at(1));

        expect((await store.getFavorites(['f1'])).get('f1')?.favorite).toEqual({
          ...favorite('f1', 'c1'),
          createdAt: at(1),
          updatedAt: at(2),
          deletedAt: at(2),
        });
      });

      it('later delete fills a bare tombstone', async () => {
        await store.applyFavoriteDeleted({ favoriteId: 'f1' }, at(1));
        await store.applyFavoriteDeleted({ favoriteId: 'f1', clientId: 'c1', mlsNumber: 'C1000', boardId: '91' }, at(2));

        expect((await store.getFavorites(['f1'])).get('f1')?.favorite).toMatchObject({
          clientId: 'c1',
          mlsNumber: 'C1000',
          boardId: '91',
          deletedAt: at(1),
          updatedAt: at(2),
        });
      });

      it('earlier delete lowers deletedAt', async () => {
        await store.applyFavoriteCreated(favorite('f1', 'c1'), at(1));
        await store.deleteClient('c1', at(4));
        await store.applyFavoriteDeleted({ favoriteId: 'f1' }, at(3));

        expect((await store.getFavorites(['f1'])).get('f1')?.favorite).toMatchObject({
          deletedAt: at(3),
          updatedAt: at(4),
        });
      });

      it('getFavoritesOfClients returns live and tombstoned', async () => {
        await store.applyFavoriteCreated(favorite('f2', 'c1'), at(1));
        await store.applyFavoriteCreated(favorite('f1', 'c1'), at(1));
        await store.applyFavoriteCreated(favorite('f3', 'c2'), at(1));
        await store.applyFavoriteCreated(favorite('f4', 'c3'), at(1));
        await store.applyFavoriteDeleted({ favoriteId: 'f2' }, at(2));

        const found = await store.getFavoritesOfClients(['c1', 'c2', 'c1', 'missing']);

        expect(found.map((entry) => [entry.favoriteId, entry.deletedAt])).toEqual([
          ['f1', null],
          ['f2', at(2)],
          ['f3', null],
        ]);
        expect(await store.getFavoritesOfClients([])).toEqual([]);
      });

      it('listing and id reads agree', async () => {
        await store.upsertAgent(agent('a1'), at(1));
        await store.upsertClient({ ...client('c1', 'a1'), preferences: { email: true }, tags: ['buyer'] }, at(1));
        await store.recordOptOut('c1', at(2));
        await store.applyFavoriteCreated({ ...favorite('f1', 'c1'), tags: ['shortlist'] }, at(3));

        const byId = (await store.getFavorites(['f1'])).get('f1');
        const [byListing] = await store.getFavoritesOfListing('C1000', '91');

        expect(byListing).toEqual(byId);
        expect(byId?.client).toEqual((await store.getClients(['c1'])).get('c1'));
        expect(byId?.agent).toEqual((await store.getAgents(['a1'])).get('a1'));
      });

      it('concurrent create and client delete end tombstoned', async () => {
        const clientIds = Array.from({ length: 40 }, (_, index) => `race-${index}`);
        await Promise.all(
          clientIds.flatMap((clientId, index) => [
            store.deleteClient(clientId, at(2)),
            store.applyFavoriteCreated(favorite(`f-${index}`, clientId), at(1)),
          ]),
        );

        const found = await store.getFavorites(clientIds.map((_, index) => `f-${index}`));

        expect(found.size).toBe(clientIds.length);
        expect([...found.values()].filter((entry) => entry.favorite.deletedAt === null)).toEqual([]);
      });
    });

    describe('listings', () => {
      it('older state is ignored', async () => {
        await store.upsertListing(listing(700_000), at(2));
        await store.upsertListing(listing(750_000), at(1));

        expect(await store.getListing('C1000', '91')).toMatchObject({ listPrice: 700_000, updatedAt: at(2) });
      });

      it('state at the same time is replaced', async () => {
        await store.upsertListing(listing(700_000), at(2));
        await store.upsertListing(listing(690_000), at(2));

        expect((await store.getListing('C1000', '91'))?.listPrice).toBe(690_000);
      });
    });
  });
}
