/** Rows of the local mirror, with ids normalised to strings (Repliers sends some ids as integers). */

export interface AgentRecord {
  agentId: string;
  fname: string | null;
  lname: string | null;
  email: string | null;
  phone: string | null;
  brokerage: string | null;
  externalId: string | null;
  updatedAt: string;
}

export interface ClientRecord {
  clientId: string;
  agentId: string | null;
  fname: string | null;
  lname: string | null;
  email: string | null;
  phone: string | null;
  /** False when the client is disabled in Repliers: such a client is never emailed. */
  status: boolean;
  externalId: string | null;
  preferences: Record<string, unknown>;
  tags: string[];
  optedOutAt: string | null;
  deletedAt: string | null;
  updatedAt: string;
}

export interface FavoriteRecord {
  favoriteId: string;
  clientId: string;
  mlsNumber: string;
  boardId: string | null;
  tags: string[];
  comments: string | null;
  createdAt: string;
  updatedAt: string;
  /** Set once a favorite.deleted arrives; a later favorite.created for the same id never clears it. */
  deletedAt: string | null;
}

/** The last known state of a favorited listing, kept for change detection and rendering. */
export interface ListingRecord {
  mlsNumber: string;
  boardId: string | null;
  listPrice: number | null;
  status: string | null;
  lastStatus: string | null;
  /** The listing's address, images and permissions as last received. */
  summary: Record<string, unknown>;
  updatedAt: string;
}

export interface HookSubscription {
  event: string;
  secret: string;
  createdAt: string;
  /**
   * The secret that a rotation replaced, present only after one. It stays valid for deliveries until `validUntil`
   * (an ISO time); `replacedAt` is when the rotation happened.
   */
  previous?: { secret: string; validUntil: string; replacedAt: string };
}

export type EventOutcome = 'received' | 'routed' | 'ignored' | 'failed';

export interface EventRecord {
  eventId: string;
  event: string;
  source: string;
  path: string;
  receivedAt: string;
  verified: boolean;
  payload: string;
  outcome: EventOutcome;
  outcomeDetail: string | null;
  ruleSetVersion: string | null;
  finishedAt: string | null;
}

export type DeliveryStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'skipped';

export interface DeliveryRecord {
  key: string;
  eventId: string;
  ruleId: string;
  ruleSetVersion: string;
  connector: string;
  recipient: string;
  status: DeliveryStatus;
  attempts: number;
  /** How many times the service asked to wait (a rate limit) and the delivery was postponed without an attempt. */
  rateLimitedCount: number;
  lastError: string | null;
  /** What the connector returned on success: a message id, a Slack ts, a Salesforce record id or an outbox path. */
  receipt: string | null;
  createdAt: string;
  updatedAt: string;
}
