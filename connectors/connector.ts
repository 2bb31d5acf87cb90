/**
 * The one interface every connector implements. A connector turns a delivery (an event, the rule action that
 * matched it and one recipient) into a message, sends it, and sorts failures into temporary and permanent.
 * Adding a connector means adding a folder beside this file and registering it in `registry.ts`.
 */
import type { AgentRecord, ClientRecord, FavoriteRecord } from '../src/mirror/records.js';

/** A listing reduced to what messages show; prices are numbers whatever the type on the wire. */
export interface ListingView {
  mlsNumber: string;
  boardId: string | null;
  /** One line, such as "62 Erin Crescent, Ottawa". */
  address: string;
  city: string | null;
  listPrice: number | null;
  /** Price the listing sold for, where the board publishes it; null before a sale and where boards withhold it. */
  soldPrice: number | null;
  /** Day of the sale as YYYY-MM-DD, or null. */
  soldDate: string | null;
  status: string | null;
  lastStatus: string | null;
  /** Absolute URL of the first photo, or null when the listing has none. */
  photoUrl: string | null;
  /** Link to the listing page, or null when no listing URL template is set. */
  url: string | null;
  /** False when the board forbids public display: such a listing is never emailed to clients. */
  displayPublic: boolean;
}

export interface ListingChange {
  price: { from: number; to: number; amount: number; percent: number } | null;
  status: { from: string | null; to: string | null } | null;
  lastStatus: { from: string | null; to: string | null } | null;
}

export type Recipient =
  | { kind: 'client'; clientId: string }
  | { kind: 'agent'; agentId: string }
  | { kind: 'channel'; channel: string };

/** The rule action that produced a delivery, as written in the rule file. */
export interface DeliveryAction {
  connector: string;
  template: string;
  to: string | { channel: string };
}

/** Everything a connector needs to render and send one message. It travels inside the delivery job. */
export interface Delivery {
  /** Idempotency key of (event, rule, action, recipient). */
  key: string;
  eventId: string;
  eventType: string;
  receivedAt: string;
  ruleId: string;
  ruleSetVersion: string;
  action: DeliveryAction;
  recipient: Recipient;
  listing: ListingView | null;
  change: ListingChange | null;
  favorite: FavoriteRecord | null;
  client: ClientRecord | null;
  agent: AgentRecord | null;
  /** How many favorites the event concerns, for alerts sent once per event. */
  favoriteCount: number;
}

/** What a connector would send, rendered for previews and for the outbox. */
export interface Preview {
  connector: string;
  /** Where the message goes: an email address, a Slack channel, a Salesforce record. */
  target: string;
  subject?: string;
  text: string;
  html?: string;
}

export interface SendReceipt {
  /** A message id, a Slack message timestamp, a Salesforce record id or an outbox file path. */
  id: string;
  /** True when the message went to the local outbox instead of the service. */
  outbox: boolean;
}

/** The delivery was skipped on purpose, such as an opted-out client; it is recorded and never retried. */
export class DeliverySkipped extends Error {
  override readonly name = 'DeliverySkipped';
}

export type FailureKind = 'temporary' | 'permanent';

/**
 * A failed send. Temporary failures are retried with backoff (after `retryAfterMs` when the service requested a
 * wait). Permanent ones fail the delivery at once, and the message says what to fix.
 *
 * `pausesConnector` marks a failure of the whole connector rather than of one delivery, such as an exhausted API
 * limit or a revoked grant: the delivery worker pauses the connector's queue, so deliveries wait instead of failing,
 * and alerts an admin. Such an error is temporary for the delivery.
 */
export class ConnectorError extends Error {
  override readonly name = 'ConnectorError';
  readonly connector: string;
  readonly kind: FailureKind;
  readonly code: string;
  readonly retryAfterMs: number | null;
  readonly pausesConnector: boolean;

  constructor(
    connector: string,
    kind: FailureKind,
    code: string,
    message: string,
    options: { retryAfterMs?: number | null; pausesConnector?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.connector = connector;
    this.kind = kind;
    this.code = code;
    this.retryAfterMs = options.retryAfterMs ?? null;
    this.pausesConnector = options.pausesConnector ?? false;
  }
}

export interface Connector {
  readonly name: string;
  /** 'outbox' when the service is not configured and messages are written to local files instead. */
  readonly mode: 'live' | 'outbox';
  /** Templates this connector can render, checked when rules load. */
  readonly templates: readonly string[];
  /** One line for the start message: where messages go. */
  describe(): string;
  /** Renders the message without sending it. Throws DeliverySkipped when nothing should be sent. */
  preview(delivery: Delivery): Preview;
  /** Sends once. Throws ConnectorError or DeliverySkipped. */
  send(delivery: Delivery): Promise<SendReceipt>;
  close(): Promise<void>;

  /**
   * Looks for the message of a delivery whose earlier attempt started at `since` and never recorded its outcome,
   * as when a worker is killed between the send and the record. Returns its receipt when the service has it, so the
   * worker records it instead of sending again. Connectors without it send again (see docs/delivery.md).
   */
  findSent?(delivery: Delivery, since: Date): Promise<SendReceipt | null>;

  /**
   * Returns the key of the digest this delivery may join, or null to send it alone. Deliveries with the same key
   * within the digest window are sent together by `sendDigest`.
   */
  digestKey?(delivery: Delivery): string | null;

  /** Sends several deliveries as one message; `digestId` stays the same on every retry of that digest. */
  sendDigest?(deliveries: readonly Delivery[], digestId: string): Promise<SendReceipt>;
}
