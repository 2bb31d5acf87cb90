/**
 * Random histories of a Repliers account for the mirror property test. A history is a list of intents (create or
 * update an agent or client, save or remove a favorite, delete a client or agent) played against a model of
 * Repliers, the truth. Each intent that is valid at its point yields one webhook event. The deliveries then drop,
 * repeat and reorder those events as a real network may.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { DemoWorld } from '../../src/demo/demo-world.js';
import type { Store } from '../../src/mirror/store.js';
import type { RepliersAgent, RepliersClient, RepliersFavorite } from '../../src/repliers/types.js';

export type Intent =
  | { kind: 'agent'; agent: number; variant: number }
  | { kind: 'deleteAgent'; agent: number }
  | { kind: 'client'; client: number; agent: number; variant: number }
  | { kind: 'deleteClient'; client: number }
  | { kind: 'favorite'; client: number; listing: number; variant: number }
  | { kind: 'deleteFavorite'; pick: number; bare: boolean };

/** How one event is delivered: `copies` times (0 when the webhook is lost), at position `order` among all. */
export interface Delivery {
  copies: number;
  order: number;
}

export interface History {
  intents: Intent[];
  deliveries: Delivery[];
}

export interface WebhookEvent {
  event: string;
  data: Record<string, unknown>;
  /** When the hub received it; later events of the history get later times. */
  at: string;
}

const agentCount = 3;
const clientCount = 4;
const listings = ['X100', 'X200', 'X300'];
const maxIntents = 30;

const intentArbitrary: fc.Arbitrary<Intent> = fc.oneof(
  fc.record({ kind: fc.constant('agent' as const), agent: fc.nat(agentCount - 1), variant: fc.nat(2) }),
  fc.record({ kind: fc.constant('deleteAgent' as const), agent: fc.nat(agentCount - 1) }),
  {
    arbitrary: fc.record({
      kind: fc.constant('client' as const),
      client: fc.nat(clientCount - 1),
      agent: fc.nat(agentCount - 1),
      variant: fc.nat(2),
    }),
    weight: 3,
  },
  fc.record({ kind: fc.constant('deleteClient' as const), client: fc.nat(clientCount - 1) }),
  {
    arbitrary: fc.record({
      kind: fc.constant('favorite' as const),
      client: fc.nat(clientCount - 1),
      listing: fc.nat(listings.length - 1),
      variant: fc.nat(1),
    }),
    weight: 5,
  },
  { arbitrary: fc.record({ kind: fc.constant('deleteFavorite' as const), pick: fc.nat(20), bare: fc.boolean() }), weight: 3 },
);

export const historyArbitrary: fc.Arbitrary<History> = fc.record({
  intents: fc.array(intentArbitrary, { maxLength: maxIntents }),
  deliveries: fc.array(
    fc.record({ copies: fc.constantFrom(0, 1, 1, 1, 1, 2, 3), order: fc.nat(1_000) }),
    { minLength: maxIntents, maxLength: maxIntents },
  ),
});

const agentId = (index: number): number => 101 + index;
const clientId = (index: number): number => 5001 + index;
const names = ['Ada', 'Ben', 'Cleo'];

/** Repliers' state after a history, and the events it sent on the way. */
export class Truth {
  readonly agents = new Map<number, RepliersAgent>();
  readonly clients = new Map<number, RepliersClient>();
  readonly favorites = new Map<number, RepliersFavorite>();
  readonly deletedAgents = new Set<number>();
  readonly deletedClients = new Set<number>();
  readonly deletedFavorites = new Set<number>();
  readonly events: WebhookEvent[] = [];
  private nextFavoriteId = 90001;

  constructor(intents: readonly Intent[]) {
    for (const intent of intents) this.play(intent);
  }

  /** Builds the stand-in world that serves this truth. */
  world(): DemoWorld {
    return {
      listings: [],
      agents: [...this.agents.values()],
      clients: [...this.clients.values()],
      favorites: [...this.favorites.values()],
    };
  }

  /** Lists every favorite id ever created, live or deleted. */
  favoriteIds(): string[] {
    return Array.from({ length: this.nextFavoriteId - 90001 }, (_, index) => String(90001 + index));
  }

  private emit(event: string, data: object): void {
    this.events.push({ event, data: { ...data }, at: new Date(Date.UTC(2024, 4, 1, 10, 0, this.events.length)).toISOString() });
  }

  private play(intent: Intent): void {
    switch (intent.kind) {
      case 'agent': {
        const id = agentId(intent.agent);
        if (this.deletedAgents.has(id)) return;
        const name = names[intent.variant]!;
        const agent: RepliersAgent = {
          agentId: id,
          fname: name,
          lname: 'Agent',
          email: `${name.toLowerCase()}.${id}@agents.example`,
          phone: intent.variant === 1 ? null : `1613555${id}`,
          brokerage: intent.variant === 2 ? 'South Realty' : 'North Realty',
          externalId: `crm-${id}`,
        };
        this.emit(this.agents.has(id) ? 'agent.updated' : 'agent.created', agent);
        this.agents.set(id, agent);
        return;
      }
      case 'deleteAgent': {
        const id = agentId(intent.agent);
        if (!this.agents.has(id)) return;
        this.agents.delete(id);
        this.deletedAgents.add(id);
        this.emit('agent.deleted', { agentId: id });
        return;
      }
      case 'client': {
        const id = clientId(intent.client);
        if (this.deletedClients.has(id)) return;
        const name = names[intent.variant]!;
        const client: RepliersClient = {
          clientId: id,
          agentId: agentId(intent.agent),
          fname: name,
          lname: 'Client',
          email: `${name.toLowerCase()}.${id}@clients.example`,
          phone: intent.variant === 0 ? null : `1613555${id}`,
          status: intent.variant !== 2,
          preferences: { email: intent.variant !== 1, areas: intent.variant === 0 ? ['Centretown'] : [] },
          tags: intent.variant === 0 ? [] : ['buyer'],
          externalId: intent.variant === 1 ? null : `crm-client-${id}`,
        };
        this.emit(this.clients.has(id) ? 'client.updated' : 'client.created', client);
        this.clients.set(id, client);
        return;
      }
      case 'deleteClient': {
        const id = clientId(intent.client);
        if (!this.clients.has(id)) return;
        this.clients.delete(id);
        this.deletedClients.add(id);
        // Repliers deletes the favorites of a deleted client with it, and sends only client.deleted.
        for (const [favoriteId, favorite] of this.favorites) {
          if (favorite.clientId !== id) continue;
          this.favorites.delete(favoriteId);
          this.deletedFavorites.add(favoriteId);
        }
        this.emit('client.deleted', { clientId: id });
        return;
      }
      case 'favorite': {
        const id = clientId(intent.client);
        if (!this.clients.has(id)) return;
        const favorite: RepliersFavorite = {
          favoriteId: this.nextFavoriteId++,
          clientId: id,
          mlsNumber: listings[intent.listing]!,
          boardId: intent.listing === 2 ? null : 12,
          comments: intent.variant === 1 ? 'Close to the park' : null,
          tags: intent.variant === 1 ? ['shortlist'] : [],
        };
        this.favorites.set(Number(favorite.favoriteId), favorite);
        this.emit('favorite.created', favorite);
        return;
      }
      case 'deleteFavorite': {
        const live = [...this.favorites.values()];
        if (live.length === 0) return;
        const favorite = live[intent.pick % live.length]!;
        this.favorites.delete(Number(favorite.favoriteId));
        this.deletedFavorites.add(Number(favorite.favoriteId));
        this.emit('favorite.deleted', intent.bare ? { favoriteId: favorite.favoriteId } : favorite);
        return;
      }
    }
  }
}

/** Orders the events as the hub receives them, with lost ones dropped and repeated ones repeated. */
export function deliveryOrder(events: readonly WebhookEvent[], deliveries: readonly Delivery[]): WebhookEvent[] {
  const copies = events.flatMap((event, index) => {
    const delivery = deliveries[index] ?? { copies: 1, order: index };
    return Array.from({ length: delivery.copies }, (_, copy) => ({ event, key: delivery.order + copy * 7, index }));
  });
  copies.sort((a, b) => a.key - b.key || a.index - b.index);
  return copies.map((copy) => copy.event);
}

const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/** Asserts that the mirror in `store` shows exactly the truth: live things equal, deleted things absent or deleted. */
export async function expectMirrorEqualsTruth(store: Store, truth: Truth): Promise<void> {
  const agentIds = Array.from({ length: agentCount }, (_, index) => String(agentId(index)));
  const clientIds = Array.from({ length: clientCount }, (_, index) => String(clientId(index)));
  const agents = await store.getAgents(agentIds);
  const clients = await store.getClients(clientIds);
  const favorites = await store.getFavorites(truth.favoriteIds());

  for (const id of agentIds) {
    const expected = truth.agents.get(Number(id));
    if (!expected) {
      expect(agents.get(id), `agent ${id} should be absent`).toBeUndefined();
      continue;
    }
    expect(agents.get(id), `agent ${id}`).toMatchObject({
      fname: expected.fname,
      email: expected.email,
      phone: expected.phone,
      brokerage: expected.brokerage,
      externalId: expected.externalId,
    });
  }

  for (const id of clientIds) {
    const expected = truth.clients.get(Number(id));
    const mirrored = clients.get(id);
    if (!expected) {
      if (mirrored) expect(mirrored.deletedAt, `client ${id} should be deleted`).not.toBeNull();
      continue;
    }
    expect(mirrored, `client ${id}`).toMatchObject({
      agentId: String(expected.agentId),
      fname: expected.fname,
      email: expected.email,
      phone: expected.phone,
      status: expected.status,
      preferences: expected.preferences,
      tags: expected.tags,
      externalId: expected.externalId,
      deletedAt: null,
    });
  }

  for (const id of truth.favoriteIds()) {
    const expected = truth.favorites.get(Number(id));
    const mirrored = favorites.get(id);
    if (!expected) {
      if (mirrored) expect(mirrored.favorite.deletedAt, `favorite ${id} should be deleted`).not.toBeNull();
      continue;
    }
    expect(mirrored?.favorite, `favorite ${id}`).toMatchObject({
      clientId: String(expected.clientId),
      mlsNumber: expected.mlsNumber,
      boardId: text(expected.boardId),
      comments: expected.comments,
      tags: expected.tags,
      deletedAt: null,
    });
    const client = truth.clients.get(Number(expected.clientId))!;
    const agentLive = truth.agents.has(Number(client.agentId));
    expect(mirrored?.client?.clientId, `client of favorite ${id}`).toBe(String(client.clientId));
    expect(mirrored?.agent?.agentId ?? null, `agent of favorite ${id}`).toBe(agentLive ? String(client.agentId) : null);
  }

  for (const mlsNumber of listings) {
    const routed = (await store.getFavoritesOfListing(mlsNumber, null)).map((entry) => entry.favorite.favoriteId).sort();
    const expected = [...truth.favorites.values()]
      .filter((favorite) => favorite.mlsNumber === mlsNumber)
      .map((favorite) => String(favorite.favoriteId))
      .sort();
    expect(routed, `live favorites of ${mlsNumber}`).toEqual(expected);
  }
}

/**
 * Asserts what the delivered events alone must have made of the mirror, whatever their order. An agent or client
 * whose latest event arrived shows that event. A favorite whose deletion (or its client's) arrived is deleted, and
 * one whose creation arrived without a deletion is live with its fields.
 */
export async function expectDeliveredEventsApplied(
  store: Store,
  truth: Truth,
  delivered: ReadonlySet<WebhookEvent>,
): Promise<void> {
  const latest = new Map<string, WebhookEvent>();
  const created = new Map<string, WebhookEvent>();
  const deletedFavorites = new Set<string>();
  const deletedClients = new Set<string>();
  for (const event of truth.events) {
    const [entity] = event.event.split('.');
    if (entity === 'agent') latest.set(`agent:${text(event.data.agentId)}`, event);
    if (entity === 'client') latest.set(`client:${text(event.data.clientId)}`, event);
    if (event.event === 'favorite.created') created.set(String(event.data.favoriteId), event);
    if (!delivered.has(event)) continue;
    if (event.event === 'favorite.deleted') deletedFavorites.add(String(event.data.favoriteId));
    if (event.event === 'client.deleted') deletedClients.add(String(event.data.clientId));
  }

  const agentIds = [...latest.keys()].filter((key) => key.startsWith('agent:')).map((key) => key.slice(6));
  const clientIds = [...latest.keys()].filter((key) => key.startsWith('client:')).map((key) => key.slice(7));
  const agents = await store.getAgents(agentIds);
  const clients = await store.getClients(clientIds);
  const favorites = await store.getFavorites(truth.favoriteIds());

  for (const id of agentIds) {
    const last = latest.get(`agent:${id}`)!;
    if (!delivered.has(last)) continue;
    if (last.event === 'agent.deleted') expect(agents.get(id), `agent ${id} after its deletion`).toBeUndefined();
    else expect(agents.get(id), `agent ${id} after ${last.event}`).toMatchObject({ fname: last.data.fname, email: last.data.email });
  }

  for (const id of clientIds) {
    const last = latest.get(`client:${id}`)!;
    if (!delivered.has(last)) continue;
    if (last.event === 'client.deleted') {
      expect(clients.get(id)?.deletedAt, `client ${id} after its deletion`).toBeTruthy();
      continue;
    }
    expect(clients.get(id), `client ${id} after ${last.event}`).toMatchObject({
      agentId: text(last.data.agentId),
      fname: last.data.fname,
      status: last.data.status,
      tags: last.data.tags,
      deletedAt: null,
    });
  }

  for (const [id, creation] of created) {
    const mirrored = favorites.get(id)?.favorite;
    if (deletedFavorites.has(id)) {
      expect(mirrored?.deletedAt, `favorite ${id} after its favorite.deleted`).toBeTruthy();
    } else if (deletedClients.has(String(creation.data.clientId))) {
      if (mirrored) expect(mirrored.deletedAt, `favorite ${id} after its client.deleted`).toBeTruthy();
    } else if (delivered.has(creation)) {
      expect(mirrored, `favorite ${id} after its favorite.created`).toMatchObject({
        clientId: text(creation.data.clientId),
        mlsNumber: creation.data.mlsNumber,
        comments: creation.data.comments,
        deletedAt: null,
      });
    }
  }
}
