/**
 * Realistic deliveries for connector tests. The default is a price drop on 62 Erin Crescent, Ottawa (MLS 1421130,
 * board 12) from $699,900 to $674,900, favorited by client Ada Lovelace, whose agent is Grace Hopper, sent to the
 * client. Nested overrides are merged into the defaults, and null removes the part.
 */
import type { AgentRecord, ClientRecord, FavoriteRecord } from '../../src/mirror/records.js';
import type { Delivery, ListingChange, ListingView } from '../../connectors/connector.js';

export interface DeliveryOverrides extends Partial<Omit<Delivery, 'listing' | 'change' | 'favorite' | 'client' | 'agent'>> {
  listing?: Partial<ListingView> | null;
  change?: Partial<ListingChange> | null;
  favorite?: Partial<FavoriteRecord> | null;
  client?: Partial<ClientRecord> | null;
  agent?: Partial<AgentRecord> | null;
}

const updatedAt = '2024-05-01T14:03:00.000Z';

export function makeListing(overrides: Partial<ListingView> = {}): ListingView {
  return {
    mlsNumber: '1421130',
    boardId: '12',
    address: '62 Erin Crescent, Ottawa',
    city: 'Ottawa',
    listPrice: 674900,
    soldPrice: null,
    soldDate: null,
    status: 'A',
    lastStatus: 'Pc',
    photoUrl: 'https://cdn.example.com/listings/1421130/photo-1.jpg',
    url: 'https://homes.example.com/listings/12/1421130',
    displayPublic: true,
    ...overrides,
  };
}

/** Builds a price change from `from` to `to`, with the amount and percent computed as the hub does. */
export function makePriceChange(from = 699900, to = 674900): ListingChange {
  return {
    price: { from, to, amount: to - from, percent: ((to - from) / from) * 100 },
    status: null,
    lastStatus: { from: 'New', to: 'Pc' },
  };
}

export function makeClient(overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId: '77',
    agentId: '5',
    fname: 'Ada',
    lname: 'Lovelace',
    email: 'ada.lovelace@example.com',
    phone: '+1 613 555 0101',
    status: true,
    externalId: null,
    preferences: {},
    tags: ['buyer'],
    optedOutAt: null,
    deletedAt: null,
    updatedAt,
    ...overrides,
  };
}

export function makeAgent(overrides: Partial<AgentRecord> = {}): AgentRecord {
  return {
    agentId: '5',
    fname: 'Grace',
    lname: 'Hopper',
    email: 'grace.hopper@example.com',
    phone: '+1 613 555 0199',
    brokerage: 'Rideau Realty',
    externalId: null,
    updatedAt,
    ...overrides,
  };
}

export function makeFavorite(overrides: Partial<FavoriteRecord> = {}): FavoriteRecord {
  return {
    favoriteId: '901',
    clientId: '77',
    mlsNumber: '1421130',
    boardId: '12',
    tags: [],
    comments: 'Love the backyard',
    createdAt: '2024-04-20T09:15:00.000Z',
    updatedAt,
    deletedAt: null,
    ...overrides,
  };
}

export function makeDelivery(overrides: DeliveryOverrides = {}): Delivery {
  const { listing, change, favorite, client, agent, ...rest } = overrides;
  return {
    key: 'evt-1f0c-price-drop-0-client-77',
    eventId: 'evt-1f0c',
    eventType: 'listing.updated',
    receivedAt: '2024-05-01T14:03:05.000Z',
    ruleId: 'price-drop',
    ruleSetVersion: 'rules-v1',
    action: { connector: 'email', template: 'price-drop', to: 'client' },
    recipient: { kind: 'client', clientId: '77' },
    favoriteCount: 1,
    ...rest,
    listing: listing === null ? null : makeListing(listing),
    change: change === null ? null : { ...makePriceChange(), ...change },
    favorite: favorite === null ? null : makeFavorite(favorite),
    client: client === null ? null : makeClient(client),
    agent: agent === null ? null : makeAgent(agent),
  };
}
