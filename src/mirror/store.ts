import type {
  AgentRecord,
  ClientRecord,
  DeliveryRecord,
  DeliveryStatus,
  EventOutcome,
  EventRecord,
  FavoriteRecord,
  HookSubscription,
  ListingRecord,
} from './records.js';

export type AgentInput = Omit<AgentRecord, 'updatedAt'>;
export type ClientInput = Omit<ClientRecord, 'updatedAt' | 'optedOutAt' | 'deletedAt'>;
export type FavoriteInput = Omit<FavoriteRecord, 'createdAt' | 'updatedAt' | 'deletedAt'>;
export type ListingInput = Omit<ListingRecord, 'updatedAt'>;

/** A favorite joined with its client and that client's agent, as routing needs it. */
export interface FavoriteWithPeople {
  favorite: FavoriteRecord;
  client: ClientRecord | null;
  agent: AgentRecord | null;
}

export interface NewEvent {
  eventId: string;
  event: string;
  source: string;
  path: string;
  receivedAt: string;
  verified: boolean;
  payload: string;
}

export interface NewDelivery {
  key: string;
  eventId: string;
  ruleId: string;
  ruleSetVersion: string;
  connector: string;
  recipient: string;
}

/**
 * The hub's durable state: the mirror of Repliers favorites, clients and agents, the last known state of each
 * favorited listing, webhook subscriptions, and the record of events and deliveries.
 *
 * Every write is idempotent, so a repeated event or a retried job leaves the store as one application would.
 * Implementations: SQLite (the default) and PostgreSQL. Nothing outside an implementation writes SQL.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';

  /** Applies pending migrations. Safe to call on every start and from several processes. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;

  upsertAgent(agent: AgentInput, at: string): Promise<void>;
  upsertClient(client: ClientInput, at: string): Promise<void>;
  /** Marks a client deleted and tombstones its favorites, as Repliers does when it deletes a client. */
  deleteClient(clientId: string, at: string): Promise<void>;
  recordOptOut(clientId: string, at: string): Promise<void>;
  getAgents(agentIds: readonly string[]): Promise<Map<string, AgentRecord>>;
  getClients(clientIds: readonly string[]): Promise<Map<string, ClientRecord>>;

  /** Inserts or refreshes a favorite; a favorite already tombstoned stays deleted. */
  applyFavoriteCreated(favorite: FavoriteInput, at: string): Promise<void>;
  /** Tombstones a favorite, creating the tombstone when the favorite was never seen. */
  applyFavoriteDeleted(favorite: Pick<FavoriteInput, 'favoriteId'> & Partial<FavoriteInput>, at: string): Promise<void>;
  /** Looks up favorites by id, live or tombstoned, each with its client and agent. Unknown ids are absent. */
  getFavorites(favoriteIds: readonly string[]): Promise<Map<string, FavoriteWithPeople>>;
  /** Live favorites of one listing, each with its client and agent. */
  getFavoritesOfListing(mlsNumber: string, boardId: string | null): Promise<FavoriteWithPeople[]>;

  upsertListing(listing: ListingInput, at: string): Promise<void>;
  getListing(mlsNumber: string, boardId: string | null): Promise<ListingRecord | null>;

  getHookSubscription(event: string): Promise<HookSubscription | null>;
  /** Stores the secret of a subscription unless one is already stored; returns whether it was stored. */
  createHookSubscription(event: string, secret: string, at: string): Promise<boolean>;

  /** Records an event once; a second call with the same id changes nothing and returns false. */
  recordEvent(event: NewEvent): Promise<boolean>;
  getEvent(eventId: string): Promise<EventRecord | null>;
  setEventOutcome(
    eventId: string,
    outcome: EventOutcome,
    detail: string | null,
    ruleSetVersion: string | null,
    at: string,
  ): Promise<void>;
  listEvents(filter: { since?: string; event?: string; limit?: number }): Promise<EventRecord[]>;

  /** Records planned deliveries; keys already recorded are left as they are. */
  recordDeliveries(deliveries: readonly NewDelivery[], at: string): Promise<void>;
  getDelivery(key: string): Promise<DeliveryRecord | null>;
  listDeliveries(eventId: string): Promise<DeliveryRecord[]>;
  /** Moves a delivery to a new status and counts the attempt when the status is 'sending'. */
  setDeliveryStatus(
    key: string,
    status: DeliveryStatus,
    details: { error?: string | null; receipt?: string | null },
    at: string,
  ): Promise<void>;
}
