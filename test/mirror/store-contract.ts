/**
 * The behaviour every Store implementation must share, as one suite that each implementation's test file runs.
 * The SQLite store is the reference. The cases pin what it does, including cases that look odd, so that the
 * PostgreSQL store cannot drift from it.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  AgentInput,
  ClientInput,
  FavoriteInput,
  FavoriteWithPeople,
  ListingInput,
  NewDelivery,
  NewEvent,
  Store,
} from '../../src/mirror/store.js';
import { describeAdminRecordsContract } from './admin-records-contract.js';

/** Returns the ISO timestamp `seconds` after 10:00 UTC on a fixed day, so that larger arguments give later times. */
function at(seconds: number): string {
  return new Date(Date.UTC(2024, 4, 1, 10, 0, seconds)).toISOString();
}

function agentInput(agentId: string, overrides: Partial<AgentInput> = {}): AgentInput {
  return {
    agentId,
    fname: 'Ana',
    lname: 'Agent',
    email: `${agentId}@brokerage.example`,
    phone: '+1 416 555 0100',
    brokerage: 'North Realty',
    externalId: `sf-${agentId}`,
    ...overrides,
  };
}

function clientInput(clientId: string, agentId: string | null, overrides: Partial<ClientInput> = {}): ClientInput {
  return {
    clientId,
    agentId,
    fname: 'Cam',
    lname: 'Client',
    email: `${clientId}@mail.example`,
    phone: '+1 416 555 0199',
    status: true,
    externalId: null,
    preferences: { email: true, areas: ['Midtown', 'Leslieville'], budget: { max: 950000.5 } },
    tags: ['buyer'],
    ...overrides,
  };
}

function favoriteInput(favoriteId: string, clientId: string, overrides: Partial<FavoriteInput> = {}): FavoriteInput {
  return {
    favoriteId,
    clientId,
    mlsNumber: 'C1000',
    boardId: '91',
    tags: ['shortlist'],
    comments: 'Close to the park',
    ...overrides,
  };
}

function listingInput(mlsNumber: string, boardId: string | null, overrides: Partial<ListingInput> = {}): ListingInput {
  return {
    mlsNumber,
    boardId,
    listPrice: 899000,
    status: 'A',
    lastStatus: 'New',
    summary: { address: { city: 'Toronto', streetName: 'Queen' }, images: ['trb/IMG-1.jpg'], permissions: {} },
    ...overrides,
  };
}

function newEvent(eventId: string, overrides: Partial<NewEvent> = {}): NewEvent {
  return {
    eventId,
    event: 'favorite.created',
    source: 'repliers',
    path: '/webhooks/repliers',
    receivedAt: at(0),
    verified: true,
    payload: JSON.stringify({ id: eventId }),
    ...overrides,
  };
}

function newDelivery(key: string, eventId: string, overrides: Partial<NewDelivery> = {}): NewDelivery {
  return {
    key,
    eventId,
    ruleId: 'notify-agent',
    ruleSetVersion: 'v1',
    connector: 'email',
    recipient: 'agent@brokerage.example',
    ...overrides,
  };
}

function byFavoriteId(entries: FavoriteWithPeople[]): FavoriteWithPeople[] {
  return [...entries].sort((a, b) => a.favorite.favoriteId.localeCompare(b.favorite.favoriteId));
}

/**
 * Defines the store contract suite.
 *
 * Before each test the suite calls `open` for a store on an empty database, which it then migrates. After each test
 * it closes the store and passes it to `cleanup`, which should empty the database for the next test.
 */
export function describeStoreContract(
  name: string,
  open: () => Promise<Store>,
  cleanup?: (store: Store) => Promise<void>,
): void {
  describe(`${name} store contract`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await open();
      await store.migrate();
    });

    afterEach(async () => {
      await store.close();
      await cleanup?.(store);
    });

    describeAdminRecordsContract(() => store);

    describe('lifecycle', () => {
      it('reports a known kind', () => {
        expect(['sqlite', 'postgres']).toContain(store.kind);
      });

      it('migrate is safe to repeat', async () => {
        await store.migrate();
        await store.migrate();
        await store.upsertAgent(agentInput('a1'), at(1));

        expect((await store.getAgents(['a1'])).size).toBe(1);
      });

      it('ping resolves while open', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('ping rejects after close', async () => {
        await store.close();

        await expect(store.ping()).rejects.toThrow();
      });

      it('close is safe to repeat', async () => {
        await store.close();

        await expect(store.close()).resolves.toBeUndefined();
      });
    });

    describe('agents', () => {
      it('upsertAgent inserts a new agent', async () => {
        await store.upsertAgent(agentInput('a1'), at(1));

        expect((await store.getAgents(['a1'])).get('a1')).toEqual({ ...agentInput('a1'), updatedAt: at(1) });
      });

      it('upsertAgent replaces every field', async () => {
        await store.upsertAgent(agentInput('a1'), at(1));
        const changed = agentInput('a1', {
          fname: 'Anna',
          lname: null,
          email: null,
          phone: null,
          brokerage: 'South Realty',
          externalId: null,
        });
        await store.upsertAgent(changed, at(2));

        expect((await store.getAgents(['a1'])).get('a1')).toEqual({ ...changed, updatedAt: at(2) });
      });

      it('getAgents omits unknown ids', async () => {
        await store.upsertAgent(agentInput('a1'), at(1));
        await store.upsertAgent(agentInput('a2'), at(1));

        const found = await store.getAgents(['a1', 'missing', 'a1']);

        expect([...found.keys()]).toEqual(['a1']);
      });

      it('getAgents of no ids is empty', async () => {
        await store.upsertAgent(agentInput('a1'), at(1));

        expect((await store.getAgents([])).size).toBe(0);
      });
    });

    describe('clients', () => {
      it('upsertClient round-trips every field', async () => {
        const input = clientInput('c1', 'a1', { status: false, externalId: '003XYZ', tags: [] });
        await store.upsertClient(input, at(1));

        expect((await store.getClients(['c1'])).get('c1')).toEqual({
          ...input,
          optedOutAt: null,
          deletedAt: null,
          updatedAt: at(1),
        });
      });

      it('upsertClient replaces the mirrored fields', async () => {
        await store.upsertClient(clientInput('c1', 'a1'), at(1));
        const changed = clientInput('c1', null, {
          fname: null,
          email: 'new@mail.example',
          status: false,
          preferences: {},
          tags: ['seller', 'vip'],
        });
        await store.upsertClient(changed, at(2));

        expect((await store.getClients(['c1'])).get('c1')).toEqual({
          ...changed,
          optedOutAt: null,
          deletedAt: null,
          updatedAt: at(2),
        });
      });

      it('getClients omits unknown ids', async () => {
        await store.upsertClient(clientInput('c1', null), at(1));

        const found = await store.getClients(['missing', 'c1', 'c1']);

        expect([...found.keys()]).toEqual(['c1']);
        expect((await store.getClients([])).size).toBe(0);
      });

      it('timestamps come back as passed', async () => {
        await store.upsertClient(clientInput('c1', null), '2024-05-01T10:00:00Z');
        await store.recordOptOut('c1', '2024-05-01T12:00:00+02:00');

        const client = (await store.getClients(['c1'])).get('c1');

        expect(client?.optedOutAt).toBe('2024-05-01T12:00:00+02:00');
        expect(client?.updatedAt).toBe('2024-05-01T12:00:00+02:00');
      });
    });

    describe('opt-out', () => {
      it('recordOptOut keeps the first opt-out time', async () => {
        await store.upsertClient(clientInput('c1', null), at(1));
        await store.recordOptOut('c1', at(2));
        await store.recordOptOut('c1', at(3));

        const client = (await store.getClients(['c1'])).get('c1');

        expect(client?.optedOutAt).toBe(at(2));
        expect(client?.updatedAt).toBe(at(3));
      });

      it('opt-out survives a client update', async () => {
        await store.upsertClient(clientInput('c1', null), at(1));
        await store.recordOptOut('c1', at(2));
        await store.upsertClient(clientInput('c1', null, { fname: 'Cameron' }), at(3));

        const client = (await store.getClients(['c1'])).get('c1');

        expect(client?.optedOutAt).toBe(at(2));
        expect(client?.fname).toBe('Cameron');
      });

      it('opt-out of unknown client applies once mirrored', async () => {
        await store.recordOptOut('c1', at(1));
        expect((await store.getClients(['c1'])).size).toBe(0);

        await store.upsertClient(clientInput('c1', null), at(2));

        expect((await store.getClients(['c1'])).get('c1')?.optedOutAt).toBe(at(1));
      });

      it('opt-out of unknown client survives updates', async () => {
        await store.recordOptOut('c1', at(1));
        await store.recordOptOut('c1', at(2));
        await store.upsertClient(clientInput('c1', null), at(3));
        await store.upsertClient(clientInput('c1', null, { fname: 'Cameron' }), at(4));

        const client = (await store.getClients(['c1'])).get('c1');
        expect(client?.optedOutAt).toBe(at(1));
        expect(client?.fname).toBe('Cameron');
      });

      it('opt-out leaves other clients opted in', async () => {
        await store.recordOptOut('c1', at(1));
        await store.upsertClient(clientInput('c2', null), at(2));

        expect((await store.getClients(['c2'])).get('c2')?.optedOutAt).toBeNull();
      });
    });

    describe('deleteClient', () => {
      it('tombstones the client and its live favorites', async () => {
        await store.upsertClient(clientInput('c1', null), at(1));
        await store.upsertClient(clientInput('c2', null), at(1));
        await store.applyFavoriteCreated(favoriteInput('f1', 'c1'), at(2));
        await store.applyFavoriteCreated(favoriteInput('f2', 'c1', { mlsNumber: 'C2000' }), at(2));
        await store.applyFavoriteCreated(favoriteInput('f3', 'c2'), at(2));
        await store.applyFavoriteDeleted({ favoriteId: 'f2' }, at(3));

        await store.deleteClient('c1', at(4));

        const client = (await store.getClients(['c1'])).get('c1');
        const favorites = await store.getFavorites(['f1', 'f2', 'f3']);
        expect(client?.deletedAt).toBe(at(4));
        expect(client?.updatedAt).toBe(at(4));
        expect(client?.status).toBe(true);
        expect(favorites.get('f1')?.favorite.deletedAt).toBe(at(4));
        expect(favorites.get('f1')?.favorite.updatedAt).toBe(at(4));
        expect(favorites.get('f2')?.favorite.deletedAt).toBe(at(3));
        expect(favorites.get('f3')?.favorite.deletedAt).toBeNull();
        expect((await store.getFavoritesOfListing('C1000', null)).map((entry) => entry.favorite.favoriteId)).toEqual([
          'f3',
        ]);
      });

      it('unknown client becomes a tombstone', async () => {
        await store.deleteClient('c1', at(1));

        expect((await store.getClients(['c1'])).get('c1')).toEqual({
          clientId: 'c1',
          agentId: null,
          fname: null,
          lname: null,
          email: null,
          phone: null,
          status: false,
          externalId: null,
          preferences: {},
          tags: [],
          optedOutAt: null,
          deletedAt: at(1),
          updatedAt: at(1),
        });
      });

      it('repeated delete keeps the first time', async () => {
        await store.upsertClient(clientInput('c1', null), at(1));
        await store.deleteClient('c1', at(2));
        await store.deleteClient('c1', at(3));

        const client = (await store.getClients(['c1'])).get('c1');

        expect(client?.deletedAt).toBe(at(2));
        expect(client?.updatedAt).toBe(at(3));
      });

      it('client update after delete stays deleted', async () => {
        await store.deleteClient('c1', at(1));
        await store.upsertClient(clientInput('c1', 'a1'), at(2));

        const client = (await store.getClients(['c1'])).get('c1');

        expect(client?.deletedAt).toBe(at(1));
        expect(client?.agentId).toBe('a1');
        expect(client?.status).toBe(true);
        expect(client?.updatedAt).toBe(at(2));
      });

      it('favorite created after delete is tombstoned', async () => {
        await store.deleteClient('c1', at(1));
        await store.applyFavoriteCreated(favoriteInput('f1', 'c1'), at(2));

        const entry = (await store.getFavorites(['f1'])).get('f1');

        expect(entry?.favorite).toMatchObject({ clientId: 'c1', createdAt: at(2), deletedAt: at(1) });
        expect(entry?.client?.deletedAt).toBe(at(1));
        expect(await store.getFavoritesOfListing('C1000', '91')).toEqual([]);
      });
    });

    describe('favorites', () => {
      it('applyFavoriteCreated round-trips every field', async () => {
        await store.applyFavoriteCreated(favoriteInput('f1', 'c1'), at(1));

        expect((await store.getFavorites(['f1'])).get('f1')?.favorite).toEqual({
          ...favoriteInput('f1', 'c1'),
          createdAt: at(1),
          updatedAt: at(1),
          deletedAt: null,
        });
      });

      it('repeated create refreshes but keeps createdAt', async () => {
        await store.applyFavoriteCreated(favoriteInput('f1', 'c1'), at(1));
        const refreshed = favoriteInput('f1', 'c2', { mlsNumber: 'C2000', boardId: null, tags: [], comments: null });
        await store.applyFavoriteCreated(refreshed, at(2));

        expect((await store.getFavorites(['f1'])).get('f1')?.favorite).toEqual({
          ...refreshed,
          createdAt: at(1),
          updatedAt: at(2),
          deletedAt: null,
        });
      });

      it('delete after create keeps the data', async () => {
        await store.applyFavoriteCreated(favoriteInput('f1', 'c1'), at(1));
        await store.applyFavoriteDeleted({ favoriteId: 'f1' }, at(2));

        expect((await store.getFavorites(['f1'])).get('f1')?.favorite).toEqual({
          ...favoriteInput('f1', 'c1'),
          createdAt: at(1),
          updatedAt: at(2),
          deletedAt: at(2),
        });
        expect(await store.getFavoritesOfListing('C1000', '91')).toEqual([]);
      });

      it('delete before create stays deleted', async () => {
        await store.applyFavoriteDeleted({ favoriteId: 'f1' }, at(1));
        await store.applyFavoriteCreated(favoriteInput('f1', 'c1'), at(2));

        expect((await store.getFavorites(['f1'])).get('f1')?.favorite).toEqual({
          ...favoriteInput('f1', 'c1'),
          createdAt: at(1),
          updatedAt: at(2),
          deletedAt: at(1),
        });
        expect(await store.getFavoritesOfListing('C1000', '91')).toEqual([]);
      });

      it('delete of unknown id stores a bare tombstone', async () => {
        await store.applyFavoriteDeleted({ favoriteId: 'f1' }, at(1));

        expect((await store.getFavorites(['f1'])).get('f1')).toEqual({
          favorite: {
            favoriteId: 'f1',
            clientId: '',
            mlsNumber: '',
            boardId: null,
            tags: [],
            comments: null,
            createdAt: at(1),
            updatedAt: at(1),
            deletedAt: at(1),
          },
          client: null,
          agent: null,
        });
      });

      it('delete of unknown id keeps given fields', async () => {
        await store.applyFavoriteDeleted({ favoriteId: 'f1', clientId: 'c1', mlsNumber: 'C1000', tags: ['x'] }, at(1));

        expect((await store.getFavorites(['f1'])).get('f1')?.favorite).toEqual({
          favoriteId: 'f1',
          clientId: 'c1',
          mlsNumber: 'C1000',
          boardId: null,
          tags: ['x'],
          comments: null,
          createdAt: at(1),
          updatedAt: at(1),
          deletedAt: at(1),
        });
      });

      it('repeated delete keeps the first time', async () => {
        await store.applyFavoriteCreated(favoriteInput('f1', 'c1'), at(1));
        await store.applyFavoriteDeleted({ favoriteId: 'f1' }, at(2));
        await store.applyFavoriteDeleted(favoriteInput('f1', 'c9', { comments: 'ignored' }), at(3));

        expect((await store.getFavorites(['f1'])).get('f1')?.favorite).toEqual({
          ...favoriteInput('f1', 'c1'),
          createdAt: at(1),
          updatedAt: at(3),
          deletedAt: at(2),
        });
      });

      it('any order of creates and deletes', async () => {
        let run = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.constantFrom('created' as const, 'deleted' as const), { minLength: 1, maxLength: 6 }),
            async (operations) => {
              run += 1;
              const favoriteId = `order-${run}`;
              for (const [index, operation] of operations.entries()) {
                if (operation === 'created') {
                  const input = favoriteInput(favoriteId, `c${index}`, {
                    comments: `note ${index}`,
                    tags: [`t${index}`],
                  });
                  await store.applyFavoriteCreated(input, at(index));
                } else {
                  await store.applyFavoriteDeleted({ favoriteId }, at(index));
                }
              }

              const lastCreate = operations.lastIndexOf('created');
              const firstDelete = operations.indexOf('deleted');
              const expected = {
                favoriteId,
                clientId: lastCreate === -1 ? '' : `c${lastCreate}`,
                mlsNumber: lastCreate === -1 ? '' : 'C1000',
                boardId: lastCreate === -1 ? null : '91',
                tags: lastCreate === -1 ? [] : [`t${lastCreate}`],
                comments: lastCreate === -1 ? null : `note ${lastCreate}`,
                createdAt: at(0),
                updatedAt: at(operations.length - 1),
                deletedAt: firstDelete === -1 ? null : at(firstDelete),
              };
              expect((await store.getFavorites([favoriteId])).get(favoriteId)?.favorite).toEqual(expected);
            },
          ),
          { numRuns: 40 },
        );
      });

      it('getFavorites omits unknown ids', async () => {
        await store.applyFavoriteCreated(favoriteInput('f1', 'c1'), at(1));

        expect([...(await store.getFavorites(['missing', 'f1', 'f1'])).keys()]).toEqual(['f1']);
        expect((await store.getFavorites([])).size).toBe(0);
      });
    });

    describe('favorite joins', () => {
      beforeEach(async () => {
        await store.upsertAgent(agentInput('a1'), at(1));
        await store.upsertClient(clientInput('c-with-agent', 'a1'), at(1));
        await store.upsertClient(clientInput('c-no-agent', null), at(1));
        await store.upsertClient(clientInput('c-missing-agent', 'a-missing'), at(1));
        await store.upsertClient(clientInput('c-empty-agent', ''), at(1));
        await store.applyFavoriteCreated(favoriteInput('f-with-agent', 'c-with-agent'), at(2));
        await store.applyFavoriteCreated(favoriteInput('f-no-agent', 'c-no-agent'), at(2));
        await store.applyFavoriteCreated(favoriteInput('f-missing-agent', 'c-missing-agent'), at(2));
        await store.applyFavoriteCreated(favoriteInput('f-empty-agent', 'c-empty-agent'), at(2));
        await store.applyFavoriteCreated(favoriteInput('f-missing-client', 'c-missing'), at(2));
      });

      it('favorite with client and agent', async () => {
        const entry = (await store.getFavorites(['f-with-agent'])).get('f-with-agent');

        expect(entry?.client).toEqual({
          ...clientInput('c-with-agent', 'a1'),
          optedOutAt: null,
          deletedAt: null,
          updatedAt: at(1),
        });
        expect(entry?.agent).toEqual({ ...agentInput('a1'), updatedAt: at(1) });
      });

      it('client without agent id', async () => {
        const entry = (await store.getFavorites(['f-no-agent'])).get('f-no-agent');

        expect(entry?.client?.clientId).toBe('c-no-agent');
        expect(entry?.agent).toBeNull();
      });

      it('agent id of unknown agent', async () => {
        const entry = (await store.getFavorites(['f-missing-agent'])).get('f-missing-agent');

        expect(entry?.client?.agentId).toBe('a-missing');
        expect(entry?.agent).toBeNull();
      });

      it('empty agent id means no agent', async () => {
        await store.upsertAgent(agentInput(''), at(1));

        const entry = (await store.getFavorites(['f-empty-agent'])).get('f-empty-agent');

        expect(entry?.client?.agentId).toBe('');
        expect(entry?.agent).toBeNull();
      });

      it('favorite of unknown client', async () => {
        const entry = (await store.getFavorites(['f-missing-client'])).get('f-missing-client');

        expect(entry?.favorite.clientId).toBe('c-missing');
        expect(entry?.client).toBeNull();
        expect(entry?.agent).toBeNull();
      });

      it('getFavoritesOfListing joins the same way', async () => {
        const entries = byFavoriteId(await store.getFavoritesOfListing('C1000', '91'));

        const people = entries.map((entry) => [
          entry.favorite.favoriteId,
          entry.client?.clientId ?? null,
          entry.agent?.agentId ?? null,
        ]);

        expect(people).toEqual([
          ['f-empty-agent', 'c-empty-agent', null],
          ['f-missing-agent', 'c-missing-agent', null],
          ['f-missing-client', null, null],
          ['f-no-agent', 'c-no-agent', null],
          ['f-with-agent', 'c-with-agent', 'a1'],
        ]);
      });
    });

    describe('getFavoritesOfListing', () => {
      beforeEach(async () => {
        await store.applyFavoriteCreated(favoriteInput('f-board-91', 'c1', { boardId: '91' }), at(1));
        await store.applyFavoriteCreated(favoriteInput('f-board-16', 'c1', { boardId: '16' }), at(1));
        await store.applyFavoriteCreated(favoriteInput('f-no-board', 'c1', { boardId: null }), at(1));
        await store.applyFavoriteCreated(favoriteInput('f-deleted', 'c1', { boardId: '91' }), at(1));
        await store.applyFavoriteDeleted({ favoriteId: 'f-deleted' }, at(2));
        await store.applyFavoriteCreated(favoriteInput('f-other-listing', 'c1', { mlsNumber: 'C2000' }), at(1));
      });

      const idsOf = (entries: FavoriteWithPeople[]): string[] =>
        byFavoriteId(entries).map((entry) => entry.favorite.favoriteId);

      it('board matches that board or none', async () => {
        expect(idsOf(await store.getFavoritesOfListing('C1000', '91'))).toEqual(['f-board-91', 'f-no-board']);
        expect(idsOf(await store.getFavoritesOfListing('C1000', '16'))).toEqual(['f-board-16', 'f-no-board']);
      });

      it('null board matches every board', async () => {
        expect(idsOf(await store.getFavoritesOfListing('C1000', null))).toEqual([
          'f-board-16',
          'f-board-91',
          'f-no-board',
        ]);
      });

      it('unknown listing has no favorites', async () => {
        expect(await store.getFavoritesOfListing('C9999', null)).toEqual([]);
        expect(idsOf(await store.getFavoritesOfListing('C1000', '77'))).toEqual(['f-no-board']);
      });
    });

    describe('lookups of many ids', () => {
      const agentCount = 1_200;
      const clientCount = 2_100;
      const favoriteCount = 2_500;
      // Clients point at 1,300 agent ids and favorites at 2,200 client ids, so some of each are missing.
      const agentOfClient = (index: number): string => `agent-${index % 1_300}`;
      const clientOfFavorite = (index: number): string => `client-${index % 2_200}`;
      const indexes = (count: number): number[] => Array.from({ length: count }, (_, index) => index);

      beforeEach(async () => {
        await Promise.all(indexes(agentCount).map((index) => store.upsertAgent(agentInput(`agent-${index}`), at(1))));
        await Promise.all(
          indexes(clientCount).map((index) =>
            store.upsertClient(clientInput(`client-${index}`, agentOfClient(index)), at(1)),
          ),
        );
        await Promise.all(
          indexes(favoriteCount).map((index) =>
            store.applyFavoriteCreated(favoriteInput(`favorite-${index}`, clientOfFavorite(index)), at(2)),
          ),
        );
      }, 120_000);

      it('getFavorites joins thousands of ids', async () => {
        const known = indexes(favoriteCount).map((index) => `favorite-${index}`);
        const unknown = indexes(300).map((index) => `unknown-${index}`);

        const found = await store.getFavorites([...known, ...unknown, ...known.slice(0, 100)]);

        expect(found.size).toBe(favoriteCount);
        for (const index of indexes(favoriteCount)) {
          const entry = found.get(`favorite-${index}`);
          const clientIndex = index % 2_200;
          const clientKnown = clientIndex < clientCount;
          const agentKnown = clientKnown && clientIndex % 1_300 < agentCount;
          expect(entry?.favorite.clientId).toBe(clientOfFavorite(index));
          expect(entry?.client?.clientId ?? null).toBe(clientKnown ? `client-${clientIndex}` : null);
          expect(entry?.agent?.agentId ?? null).toBe(agentKnown ? agentOfClient(clientIndex) : null);
        }
      });

      it('getClients and getAgents read thousands of ids', async () => {
        const clients = await store.getClients(indexes(2_200).map((index) => `client-${index}`));
        const agents = await store.getAgents(indexes(1_300).map((index) => `agent-${index}`));

        expect(clients.size).toBe(clientCount);
        expect(clients.get('client-2099')?.agentId).toBe(agentOfClient(2_099));
        expect(agents.size).toBe(agentCount);
        expect(agents.get('agent-1199')?.email).toBe('agent-1199@brokerage.example');
      });
    });

    describe('listings', () => {
      it('listing without board round-trips', async () => {
        await store.upsertListing(listingInput('C1000', null), at(1));

        expect(await store.getListing('C1000', null)).toEqual({ ...listingInput('C1000', null), updatedAt: at(1) });
      });

      it('boards keep separate listings', async () => {
        await store.upsertListing(listingInput('C1000', null, { listPrice: 1 }), at(1));
        await store.upsertListing(listingInput('C1000', '91', { listPrice: 2 }), at(1));

        expect((await store.getListing('C1000', null))?.listPrice).toBe(1);
        expect((await store.getListing('C1000', '91'))?.listPrice).toBe(2);
        expect((await store.getListing('C1000', '91'))?.boardId).toBe('91');
        expect(await store.getListing('C1000', '16')).toBeNull();
      });

      it('upsertListing replaces the state', async () => {
        await store.upsertListing(listingInput('C1000', '91'), at(1));
        const changed = listingInput('C1000', '91', {
          listPrice: 849999.99,
          status: 'U',
          lastStatus: 'Sld',
          summary: { address: null, images: [] },
        });
        await store.upsertListing(changed, at(2));

        expect(await store.getListing('C1000', '91')).toEqual({ ...changed, updatedAt: at(2) });
      });

      it('null price and status round-trip', async () => {
        const input = listingInput('C1000', '91', { listPrice: null, status: null, lastStatus: null, summary: {} });
        await store.upsertListing(input, at(1));

        expect(await store.getListing('C1000', '91')).toEqual({ ...input, updatedAt: at(1) });
      });

      it('unknown listing is null', async () => {
        expect(await store.getListing('C1000', null)).toBeNull();
      });
    });

    describe('hook subscriptions', () => {
      it('createHookSubscription stores the secret', async () => {
        expect(await store.createHookSubscription('favorite.created', 'secret-1', at(1))).toBe(true);

        expect(await store.getHookSubscription('favorite.created')).toEqual({
          event: 'favorite.created',
          secret: 'secret-1',
          createdAt: at(1),
        });
      });

      it('stored secret is never replaced', async () => {
        await store.createHookSubscription('favorite.created', 'secret-1', at(1));

        expect(await store.createHookSubscription('favorite.created', 'secret-2', at(2))).toBe(false);
        expect(await store.getHookSubscription('favorite.created')).toEqual({
          event: 'favorite.created',
          secret: 'secret-1',
          createdAt: at(1),
        });
      });

      it('events keep separate secrets', async () => {
        await store.createHookSubscription('favorite.created', 'secret-1', at(1));

        expect(await store.createHookSubscription('favorite.deleted', 'secret-2', at(2))).toBe(true);
        expect((await store.getHookSubscription('favorite.deleted'))?.secret).toBe('secret-2');
        expect(await store.getHookSubscription('client.updated')).toBeNull();
      });
    });

    describe('events', () => {
      it('recordEvent stores a received event', async () => {
        const input = newEvent('e1', { verified: false, payload: '{"raw": true}' });

        expect(await store.recordEvent(input)).toBe(true);
        expect(await store.getEvent('e1')).toEqual({
          ...input,
          outcome: 'received',
          outcomeDetail: null,
          ruleSetVersion: null,
          finishedAt: null,
        });
      });

      it('recordEvent inserts only once', async () => {
        await store.recordEvent(newEvent('e1'));

        expect(await store.recordEvent(newEvent('e1', { event: 'favorite.deleted', payload: '{}' }))).toBe(false);
        expect((await store.getEvent('e1'))?.event).toBe('favorite.created');
        expect((await store.getEvent('e1'))?.payload).toBe(newEvent('e1').payload);
      });

      it('setEventOutcome records the result', async () => {
        await store.recordEvent(newEvent('e1'));
        await store.setEventOutcome('e1', 'routed', '2 deliveries', 'rules-7', at(5));

        expect(await store.getEvent('e1')).toMatchObject({
          outcome: 'routed',
          outcomeDetail: '2 deliveries',
          ruleSetVersion: 'rules-7',
          finishedAt: at(5),
        });

        await store.setEventOutcome('e1', 'failed', null, null, at(6));

        expect(await store.getEvent('e1')).toMatchObject({
          outcome: 'failed',
          outcomeDetail: null,
          ruleSetVersion: null,
          finishedAt: at(6),
        });
      });

      it('unknown event is null', async () => {
        await store.setEventOutcome('missing', 'ignored', null, null, at(1));

        expect(await store.getEvent('missing')).toBeNull();
      });

      it('listEvents filters and orders newest first', async () => {
        await store.recordEvent(newEvent('e1', { receivedAt: at(1) }));
        await store.recordEvent(newEvent('e2', { receivedAt: at(2), event: 'favorite.deleted' }));
        await store.recordEvent(newEvent('e3', { receivedAt: at(3) }));
        await store.recordEvent(newEvent('e4', { receivedAt: at(4), event: 'favorite.deleted' }));

        const ids = async (filter: Parameters<Store['listEvents']>[0]): Promise<string[]> =>
          (await store.listEvents(filter)).map((event) => event.eventId);

        expect(await ids({})).toEqual(['e4', 'e3', 'e2', 'e1']);
        expect(await ids({ since: at(2) })).toEqual(['e4', 'e3', 'e2']);
        expect(await ids({ event: 'favorite.deleted' })).toEqual(['e4', 'e2']);
        expect(await ids({ since: at(3), event: 'favorite.deleted' })).toEqual(['e4']);
        expect(await ids({ limit: 2 })).toEqual(['e4', 'e3']);
        expect(await ids({ limit: 0 })).toEqual([]);
        expect(await ids({ limit: -1 })).toEqual(['e4', 'e3', 'e2', 'e1']);
      });

      it('listEvents returns 100 by default', async () => {
        for (let index = 0; index < 105; index += 1) {
          await store.recordEvent(newEvent(`e${index}`, { receivedAt: at(index) }));
        }

        const events = await store.listEvents({});

        expect(events).toHaveLength(100);
        expect(events[0]?.eventId).toBe('e104');
        expect(events[99]?.eventId).toBe('e5');
      });
    });

    describe('deliveries', () => {
      it('recordDeliveries stores pending deliveries', async () => {
        await store.recordDeliveries([newDelivery('k1', 'e1')], at(1));

        expect(await store.getDelivery('k1')).toEqual({
          ...newDelivery('k1', 'e1'),
          status: 'pending',
          attempts: 0,
          rateLimitedCount: 0,
          lastError: null,
          receipt: null,
          createdAt: at(1),
          updatedAt: at(1),
        });
      });

      it('recorded keys are left as they are', async () => {
        await store.recordDeliveries([newDelivery('k1', 'e1')], at(1));
        await store.setDeliveryStatus('k1', 'sending', {}, at(2));

        await store.recordDeliveries([newDelivery('k1', 'e1', { recipient: 'other@mail.example' })], at(3));

        expect(await store.getDelivery('k1')).toMatchObject({
          recipient: 'agent@brokerage.example',
          status: 'sending',
          attempts: 1,
          createdAt: at(1),
          updatedAt: at(2),
        });
      });

      it('first of a repeated key in one batch wins', async () => {
        await store.recordDeliveries(
          [newDelivery('k1', 'e1', { connector: 'slack' }), newDelivery('k1', 'e1', { connector: 'email' })],
          at(1),
        );

        expect((await store.getDelivery('k1'))?.connector).toBe('slack');
      });

      it('empty batch changes nothing', async () => {
        await store.recordDeliveries([], at(1));

        expect(await store.listDeliveries('e1')).toEqual([]);
      });

      it('listDeliveries orders by creation then key', async () => {
        await store.recordDeliveries([newDelivery('k-b', 'e1'), newDelivery('k-a', 'e1')], at(2));
        await store.recordDeliveries([newDelivery('k-z', 'e1'), newDelivery('k-x', 'e2')], at(1));

        expect((await store.listDeliveries('e1')).map((delivery) => delivery.key)).toEqual(['k-z', 'k-a', 'k-b']);
        expect(await store.getDelivery('missing')).toBeNull();
      });

      it('setDeliveryStatus tracks attempts and results', async () => {
        await store.recordDeliveries([newDelivery('k1', 'e1')], at(1));

        await store.setDeliveryStatus('k1', 'sending', {}, at(2));
        expect(await store.getDelivery('k1')).toMatchObject({ status: 'sending', attempts: 1, updatedAt: at(2) });

        await store.setDeliveryStatus('k1', 'failed', { error: 'SMTP 451' }, at(3));
        expect(await store.getDelivery('k1')).toMatchObject({ status: 'failed', attempts: 1, lastError: 'SMTP 451' });

        await store.setDeliveryStatus('k1', 'sending', { error: null }, at(4));
        expect(await store.getDelivery('k1')).toMatchObject({ status: 'sending', attempts: 2, lastError: 'SMTP 451' });

        await store.setDeliveryStatus('k1', 'sent', { receipt: 'msg-1' }, at(5));
        expect(await store.getDelivery('k1')).toMatchObject({
          status: 'sent',
          attempts: 2,
          lastError: null,
          receipt: 'msg-1',
          updatedAt: at(5),
        });

        await store.setDeliveryStatus('k1', 'skipped', {}, at(6));
        expect(await store.getDelivery('k1')).toMatchObject({ status: 'skipped', attempts: 2, receipt: 'msg-1' });
      });

      it('rateLimited counts postponements, not attempts', async () => {
        await store.recordDeliveries([newDelivery('k1', 'e1')], at(1));
        await store.setDeliveryStatus('k1', 'sending', {}, at(2));
        await store.setDeliveryStatus('k1', 'pending', { error: 'rate limited', rateLimited: true }, at(3));
        await store.setDeliveryStatus('k1', 'sending', {}, at(4));
        await store.setDeliveryStatus('k1', 'pending', { rateLimited: true }, at(5));

        expect(await store.getDelivery('k1')).toMatchObject({
          status: 'pending',
          attempts: 2,
          rateLimitedCount: 2,
          lastError: 'rate limited',
        });
      });

      it('sent with an error keeps the error', async () => {
        await store.recordDeliveries([newDelivery('k1', 'e1')], at(1));
        await store.setDeliveryStatus('k1', 'sent', { error: 'partial', receipt: 'ts-1' }, at(2));

        expect(await store.getDelivery('k1')).toMatchObject({ status: 'sent', lastError: 'partial', receipt: 'ts-1' });
      });

      it('unknown delivery key is ignored', async () => {
        await store.setDeliveryStatus('missing', 'sending', {}, at(1));

        expect(await store.getDelivery('missing')).toBeNull();
      });
    });

    describe('idempotence', () => {
      const writes: [string, () => Promise<unknown>][] = [
        ['upsertAgent', () => store.upsertAgent(agentInput('a1'), at(1))],
        ['upsertClient', () => store.upsertClient(clientInput('c1', 'a1'), at(1))],
        ['upsertClient', () => store.upsertClient(clientInput('c2', 'a1'), at(1))],
        ['recordOptOut', () => store.recordOptOut('c1', at(2))],
        ['applyFavoriteCreated', () => store.applyFavoriteCreated(favoriteInput('f1', 'c1'), at(3))],
        ['applyFavoriteCreated', () => store.applyFavoriteCreated(favoriteInput('f2', 'c2'), at(3))],
        ['applyFavoriteDeleted', () => store.applyFavoriteDeleted({ favoriteId: 'f3' }, at(4))],
        ['applyFavoriteCreated', () => store.applyFavoriteCreated(favoriteInput('f3', 'c1'), at(5))],
        ['applyFavoriteDeleted', () => store.applyFavoriteDeleted({ favoriteId: 'f1' }, at(6))],
        ['deleteClient', () => store.deleteClient('c2', at(7))],
        ['upsertListing', () => store.upsertListing(listingInput('C1000', '91'), at(8))],
        ['createHookSubscription', () => store.createHookSubscription('favorite.created', 'secret-1', at(9))],
        ['recordEvent', () => store.recordEvent(newEvent('e1', { receivedAt: at(10) }))],
        ['setEventOutcome', () => store.setEventOutcome('e1', 'routed', null, 'v1', at(11))],
        ['recordDeliveries', () => store.recordDeliveries([newDelivery('k1', 'e1'), newDelivery('k2', 'e1')], at(12))],
        ['setDeliveryStatus', () => store.setDeliveryStatus('k1', 'failed', { error: 'timeout' }, at(13))],
        ['setDeliveryStatus', () => store.setDeliveryStatus('k2', 'sent', { receipt: 'r-2' }, at(13))],
      ];

      const readAll = async () => ({
        agents: await store.getAgents(['a1']),
        clients: await store.getClients(['c1', 'c2']),
        favorites: await store.getFavorites(['f1', 'f2', 'f3']),
        ofListing: byFavoriteId(await store.getFavoritesOfListing('C1000', null)),
        listing: await store.getListing('C1000', '91'),
        hook: await store.getHookSubscription('favorite.created'),
        events: await store.listEvents({}),
        deliveries: await store.listDeliveries('e1'),
      });

      it('repeating each write changes nothing', async () => {
        for (const [method, write] of writes) {
          await write();
          const once = await readAll();

          await write();

          expect(await readAll(), `second ${method} changed the store`).toEqual(once);
        }
        const final = await readAll();
        expect(final.favorites.size).toBe(3);
        expect(final.deliveries).toHaveLength(2);
      });

      it('replayed create keeps the newer state', async () => {
        await store.applyFavoriteCreated(favoriteInput('f1', 'c1'), at(1));
        await store.applyFavoriteDeleted({ favoriteId: 'f1' }, at(2));
        await store.applyFavoriteCreated(favoriteInput('f1', 'c1', { comments: 'older' }), at(1));

        expect((await store.getFavorites(['f1'])).get('f1')?.favorite).toMatchObject({
          comments: 'Close to the park',
          updatedAt: at(2),
          deletedAt: at(2),
        });
      });
    });
  });
}
