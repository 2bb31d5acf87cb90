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

/** A listing, client, agent or favorite that an event concerns, recorded so the event log can be filtered by it. */
export interface EventSubject {
  kind: 'mlsNumber' | 'clientId' | 'agentId' | 'favoriteId';
  value: string;
}

/** What the events worker recorded about routing an event, for the admin event detail. */
export interface EventTrace {
  /** Ids of the rules that matched at the last routing, or null when the event was never routed. */
  matchedRules: string[] | null;
  subjects: EventSubject[];
  /** How many replays an admin asked for. */
  replayCount: number;
}

/** Filters of the admin event log. Every given filter must hold; times are ISO strings compared as text. */
export interface EventSearch {
  event?: string;
  outcome?: EventOutcome;
  /** Events concerning all of these subjects. */
  subjects?: readonly EventSubject[];
  /** Received at or after this time. */
  since?: string;
  /** Received before this time. */
  until?: string;
  /** Continues a page: only events ordered after this one (newest first, ties by event id). */
  after?: { receivedAt: string; eventId: string };
  /** Maximum events returned; default 100. */
  limit?: number;
}

/** Filters of the admin delivery list, newest change first. `since` and `until` apply to the last change. */
export interface DeliverySearch {
  status?: DeliveryStatus;
  connector?: string;
  ruleId?: string;
  eventId?: string;
  since?: string;
  until?: string;
  /** Maximum deliveries returned; default 100. */
  limit?: number;
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
  /** Resolves when the database returns a trivial query's result; rejects otherwise. */
  ping(): Promise<void>;

  /**
   * Inserts or replaces an agent, or revives a deleted one, unless the stored agent is newer than `at`. At equal
   * times a deletion wins. Times are compared as text, so every `at` must be an ISO string in UTC
   * (`Date.prototype.toISOString`), like all the other times the mirror compares.
   */
  upsertAgent(agent: AgentInput, at: string): Promise<void>;
  /** Marks an agent deleted unless the stored agent is newer than `at`. Reads then treat it as absent. */
  deleteAgent(agentId: string, at: string): Promise<void>;
  /**
   * Inserts a client or replaces its Repliers fields, unless the stored fields are newer than `at`. `updatedAt`
   * never moves back, and a deleted client stays deleted.
   */
  upsertClient(client: ClientInput, at: string): Promise<void>;
  /**
   * Marks a client deleted and tombstones its favorites, as Repliers does when it deletes a client. A favorite of a
   * deleted client that arrives later is stored already tombstoned, with the client's deletion time.
   */
  deleteClient(clientId: string, at: string): Promise<void>;
  /**
   * Records that a client opted out of email, keeping the first time. The opt-out is kept even for a client the
   * mirror does not hold yet, and applies when that client is mirrored later.
   */
  recordOptOut(clientId: string, at: string): Promise<void>;
  getAgents(agentIds: readonly string[]): Promise<Map<string, AgentRecord>>;
  getClients(clientIds: readonly string[]): Promise<Map<string, ClientRecord>>;
  /**
   * Ids of the clients the mirror holds as not deleted, either as a client row or as the client of a live
   * favorite, in byte order and greater than `after`. Pass '' for the first page.
   */
  listClientIds(after: string, limit: number): Promise<string[]>;
  /** Ids of the agents the mirror holds as not deleted, in byte order and greater than `after`. */
  listAgentIds(after: string, limit: number): Promise<string[]>;

  /**
   * Inserts or refreshes a favorite. Its fields are replaced only when `at` is not older than the stored
   * `updatedAt` (or the stored row is a bare tombstone); `createdAt` keeps the earliest time and `updatedAt` the
   * latest. A tombstoned favorite stays deleted, and a favorite of a deleted client is stored tombstoned.
   */
  applyFavoriteCreated(favorite: FavoriteInput, at: string): Promise<void>;
  /**
   * Tombstones a favorite, creating the tombstone when the favorite was never seen. A tombstone always wins over
   * creates, whatever their times, and keeps the earliest deletion time.
   */
  applyFavoriteDeleted(favorite: Pick<FavoriteInput, 'favoriteId'> & Partial<FavoriteInput>, at: string): Promise<void>;
  /** Favorites of the given clients, live and tombstoned, without their people. */
  getFavoritesOfClients(clientIds: readonly string[]): Promise<FavoriteRecord[]>;
  /** Looks up favorites by id, live or tombstoned, each with its client and agent. Unknown ids are absent. */
  getFavorites(favoriteIds: readonly string[]): Promise<Map<string, FavoriteWithPeople>>;
  /** Live favorites of one listing, each with its client and agent. */
  getFavoritesOfListing(mlsNumber: string, boardId: string | null): Promise<FavoriteWithPeople[]>;

  /** Stores the last known state of a listing, unless the stored state is newer than `at`. */
  upsertListing(listing: ListingInput, at: string): Promise<void>;
  getListing(mlsNumber: string, boardId: string | null): Promise<ListingRecord | null>;

  getHookSubscription(event: string): Promise<HookSubscription | null>;
  /** Stores the secret of a subscription unless one is already stored; returns whether it was stored. */
  createHookSubscription(event: string, secret: string, at: string): Promise<boolean>;
  /**
   * Replaces the secret of a subscription whose current secret is `expected`, and keeps `expected` as the previous
   * secret, valid until `previousValidUntil`. A previous secret from an earlier rotation is dropped. Returns false
   * and changes nothing when the event has no subscription or its secret is no longer `expected`.
   */
  rotateHookSecret(event: string, expected: string, secret: string, previousValidUntil: string, at: string): Promise<boolean>;

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
  /**
   * Deletes the events received before `before` (an ISO time, compared as text) and the deliveries of those events,
   * in batches of at most 1,000 events. Returns how many of each were deleted.
   */
  purgeEventsBefore(before: string): Promise<{ events: number; deliveries: number }>;

  /**
   * Stores the rule ids that matched at the latest routing of an event, replacing earlier ones, and adds subjects
   * (subjects already recorded stay). Does nothing for an event that is not recorded.
   */
  recordEventTrace(eventId: string, trace: { matchedRules: readonly string[]; subjects: readonly EventSubject[] }): Promise<void>;
  /** Returns the trace of a recorded event, or null for an unknown event. Subjects come sorted by kind then value. */
  getEventTrace(eventId: string): Promise<EventTrace | null>;
  /** Lists events newest first (ties by event id, descending) under the filters of `search`. */
  searchEvents(search: EventSearch): Promise<EventRecord[]>;
  /** Counts one more replay of an event and returns the new count, or null for an unknown event. */
  nextReplayNumber(eventId: string): Promise<number | null>;
  /** Lists deliveries by last change, newest first (ties by key), under the filters of `search`. */
  searchDeliveries(search: DeliverySearch): Promise<DeliveryRecord[]>;

  /** Records planned deliveries; keys already recorded are left as they are. */
  recordDeliveries(deliveries: readonly NewDelivery[], at: string): Promise<void>;
  getDelivery(key: string): Promise<DeliveryRecord | null>;
  listDeliveries(eventId: string): Promise<DeliveryRecord[]>;
  /**
   * Moves a delivery to a new status and counts the attempt when the status is 'sending'. `rateLimited` counts one
   * postponement asked for by the service (`rateLimitedCount`).
   */
  setDeliveryStatus(
    key: string,
    status: DeliveryStatus,
    details: { error?: string | null; receipt?: string | null; rateLimited?: boolean },
    at: string,
  ): Promise<void>;
}
