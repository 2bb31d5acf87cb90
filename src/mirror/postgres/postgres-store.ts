/**
 * The PostgreSQL store, for deployments that run several hub processes against one database. Each method has the
 * semantics of its SQLite counterpart, and the contract suite in `test/mirror/store-contract.ts` runs against both.
 */
import pg from 'pg';
import { createLogger, type Logger } from '../../logger.js';
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
} from '../records.js';
import type {
  AgentInput,
  ClientInput,
  FavoriteInput,
  FavoriteWithPeople,
  ListingInput,
  NewDelivery,
  NewEvent,
  Store,
} from '../store.js';
import { applyPostgresMigrations } from './migrations.js';

type Row = Record<string, unknown>;

const str = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

const agentColumns = [
  'agent_id',
  'fname',
  'lname',
  'email',
  'phone',
  'brokerage',
  'external_id',
  'updated_at',
] as const;
const clientColumns = [
  'client_id',
  'agent_id',
  'fname',
  'lname',
  'email',
  'phone',
  'status',
  'external_id',
  'preferences',
  'tags',
  'opted_out_at',
  'deleted_at',
  'updated_at',
] as const;
const favoriteColumns = [
  'favorite_id',
  'client_id',
  'mls_number',
  'board_id',
  'tags',
  'comments',
  'created_at',
  'updated_at',
  'deleted_at',
] as const;

/**
 * The name under which each column appears in a result row. Joined client and agent columns carry a prefix because
 * they share names such as `tags` with the favorite's. The names are built once, because concatenating the keys for
 * every row made mapping 10,000 joined rows about four times slower (Node 20 on a 2-vCPU VM).
 */
type ColumnNames<Column extends string> = Record<Column, string>;

function columnNames<Column extends string>(columns: readonly Column[], prefix: string): ColumnNames<Column> {
  return Object.fromEntries(columns.map((column) => [column, `${prefix}${column}`])) as ColumnNames<Column>;
}

const agentNames = columnNames(agentColumns, '');
const clientNames = columnNames(clientColumns, '');
const joinedAgentNames = columnNames(agentColumns, 'a_');
const joinedClientNames = columnNames(clientColumns, 'c_');

function selectList<Column extends string>(alias: string, names: ColumnNames<Column>): string {
  return Object.entries<string>(names)
    .map(([column, name]) => `${alias}.${column} AS ${name}`)
    .join(', ');
}

/** Select list of a favorite joined with its client and agent. The FROM clause must use the aliases f, c and a. */
const favoriteWithPeopleColumns = `f.${favoriteColumns.join(', f.')}, ${selectList('c', joinedClientNames)},
  ${selectList('a', joinedAgentNames)}`;

/** Joins of a favorite `f` to its client and the client's agent. An empty agent id counts as no agent, as in SQLite. */
const peopleJoins = `
  LEFT JOIN clients c ON c.client_id = f.client_id
  LEFT JOIN agents a ON a.agent_id = c.agent_id AND c.agent_id <> ''`;

// The mappers below parse nothing, because pg already returns jsonb, boolean, integer and double precision values
// as JavaScript values.

function agentFromRow(row: Row, names = agentNames): AgentRecord {
  return {
    agentId: String(row[names.agent_id]),
    fname: str(row[names.fname]),
    lname: str(row[names.lname]),
    email: str(row[names.email]),
    phone: str(row[names.phone]),
    brokerage: str(row[names.brokerage]),
    externalId: str(row[names.external_id]),
    updatedAt: String(row[names.updated_at]),
  };
}

function clientFromRow(row: Row, names = clientNames): ClientRecord {
  return {
    clientId: String(row[names.client_id]),
    agentId: str(row[names.agent_id]),
    fname: str(row[names.fname]),
    lname: str(row[names.lname]),
    email: str(row[names.email]),
    phone: str(row[names.phone]),
    status: row[names.status] === true,
    externalId: str(row[names.external_id]),
    preferences: row[names.preferences] as Record<string, unknown>,
    tags: row[names.tags] as string[],
    optedOutAt: str(row[names.opted_out_at]),
    deletedAt: str(row[names.deleted_at]),
    updatedAt: String(row[names.updated_at]),
  };
}

function favoriteFromRow(row: Row): FavoriteRecord {
  return {
    favoriteId: String(row.favorite_id),
    clientId: String(row.client_id),
    mlsNumber: String(row.mls_number),
    boardId: str(row.board_id),
    tags: row.tags as string[],
    comments: str(row.comments),
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
    deletedAt: str(row.deleted_at),
  };
}

function favoriteWithPeopleFromRow(row: Row): FavoriteWithPeople {
  const client = row[joinedClientNames.client_id] === null ? null : clientFromRow(row, joinedClientNames);
  const agent = row[joinedAgentNames.agent_id] === null ? null : agentFromRow(row, joinedAgentNames);
  return { favorite: favoriteFromRow(row), client, agent };
}

function listingFromRow(row: Row): ListingRecord {
  return {
    mlsNumber: String(row.mls_number),
    boardId: row.board_id === '' ? null : str(row.board_id),
    listPrice: row.list_price === null ? null : Number(row.list_price),
    status: str(row.status),
    lastStatus: str(row.last_status),
    summary: row.summary as Record<string, unknown>,
    updatedAt: String(row.updated_at),
  };
}

function eventFromRow(row: Row): EventRecord {
  return {
    eventId: String(row.event_id),
    event: String(row.event),
    source: String(row.source),
    path: String(row.path),
    receivedAt: String(row.received_at),
    verified: row.verified === true,
    payload: String(row.payload),
    outcome: String(row.outcome) as EventOutcome,
    outcomeDetail: str(row.outcome_detail),
    ruleSetVersion: str(row.rule_set_version),
    finishedAt: str(row.finished_at),
  };
}

function deliveryFromRow(row: Row): DeliveryRecord {
  return {
    key: String(row.key),
    eventId: String(row.event_id),
    ruleId: String(row.rule_id),
    ruleSetVersion: String(row.rule_set_version),
    connector: String(row.connector),
    recipient: String(row.recipient),
    status: String(row.status) as DeliveryStatus,
    attempts: Number(row.attempts),
    lastError: str(row.last_error),
    receipt: str(row.receipt),
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  };
}

export interface PostgresStoreOptions {
  /** Logger for errors of idle pooled connections, which no pending query would report. Defaults to a new one. */
  logger?: Logger;
  /** Maximum number of pooled connections. pg defaults to 10. */
  maxConnections?: number;
}

/**
 * The PostgreSQL implementation of {@link Store}, over a `pg` connection pool.
 *
 * Tables live in the first schema of the connection's `search_path`. To use another schema than the server's
 * default, put it in the URL, which pg sends as a startup option:
 * `postgres://user@host/db?options=-c%20search_path%3Dhub`. The schema must already exist.
 *
 * Timestamps are stored as the text the caller passed, so records return the same ISO strings, and ids are text.
 *
 * NOTE: PostgreSQL rejects U+0000 in text and jsonb values, so a write containing it fails here although SQLite
 * stores it.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private closing: Promise<void> | null = null;

  constructor(databaseUrl: string, options: PostgresStoreOptions = {}) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: options.maxConnections });
    const logger = options.logger ?? createLogger('info');
    // pg removes the failed connection from the pool itself. Without a listener, the 'error' event would crash the
    // process.
    this.pool.on('error', (error) => {
      logger.error(
        { err: error },
        'Idle PostgreSQL connection failed, so the pool dropped it and opens a new one when needed',
      );
    });
  }

  private async query(text: string, values: unknown[] = []): Promise<pg.QueryResult<Row>> {
    return this.pool.query<Row>(text, values);
  }

  async migrate(): Promise<void> {
    await applyPostgresMigrations(this.pool);
  }

  /** Ends the pool. Repeated calls wait for the same shutdown, as closing an SQLite store twice is harmless. */
  async close(): Promise<void> {
    this.closing ??= this.pool.end();
    await this.closing;
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async upsertAgent(agent: AgentInput, at: string): Promise<void> {
    await this.query(
      `INSERT INTO agents (agent_id, fname, lname, email, phone, brokerage, external_id, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (agent_id) DO UPDATE SET fname = EXCLUDED.fname, lname = EXCLUDED.lname, email = EXCLUDED.email,
         phone = EXCLUDED.phone, brokerage = EXCLUDED.brokerage, external_id = EXCLUDED.external_id,
         updated_at = EXCLUDED.updated_at`,
      [agent.agentId, agent.fname, agent.lname, agent.email, agent.phone, agent.brokerage, agent.externalId, at],
    );
  }

  async upsertClient(client: ClientInput, at: string): Promise<void> {
    await this.query(
      `INSERT INTO clients (client_id, agent_id, fname, lname, email, phone, status, external_id, preferences, tags,
         updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11)
       ON CONFLICT (client_id) DO UPDATE SET agent_id = EXCLUDED.agent_id, fname = EXCLUDED.fname,
         lname = EXCLUDED.lname, email = EXCLUDED.email, phone = EXCLUDED.phone, status = EXCLUDED.status,
         external_id = EXCLUDED.external_id, preferences = EXCLUDED.preferences, tags = EXCLUDED.tags,
         updated_at = EXCLUDED.updated_at`,
      [
        client.clientId,
        client.agentId,
        client.fname,
        client.lname,
        client.email,
        client.phone,
        client.status,
        client.externalId,
        JSON.stringify(client.preferences),
        JSON.stringify(client.tags),
        at,
      ],
    );
  }

  async deleteClient(clientId: string, at: string): Promise<void> {
    // One statement, so the client's tombstone and its favorites' tombstones commit together. PostgreSQL runs a
    // data-modifying WITH clause to completion even though the outer UPDATE never reads it.
    await this.query(
      `WITH tombstone AS (
         INSERT INTO clients (client_id, status, deleted_at, updated_at) VALUES ($1::text, false, $2::text, $2::text)
         ON CONFLICT (client_id) DO UPDATE SET deleted_at = COALESCE(clients.deleted_at, EXCLUDED.deleted_at),
           updated_at = EXCLUDED.updated_at
       )
       UPDATE favorites SET deleted_at = $2::text, updated_at = $2::text
       WHERE client_id = $1::text AND deleted_at IS NULL`,
      [clientId, at],
    );
  }

  async recordOptOut(clientId: string, at: string): Promise<void> {
    await this.query(
      'UPDATE clients SET opted_out_at = COALESCE(opted_out_at, $2::text), updated_at = $2::text WHERE client_id = $1',
      [clientId, at],
    );
  }

  async getAgents(agentIds: readonly string[]): Promise<Map<string, AgentRecord>> {
    const found = new Map<string, AgentRecord>();
    if (agentIds.length === 0) return found;
    const { rows } = await this.query('SELECT * FROM agents WHERE agent_id = ANY($1::text[])', [[...agentIds]]);
    for (const row of rows) found.set(String(row.agent_id), agentFromRow(row));
    return found;
  }

  async getClients(clientIds: readonly string[]): Promise<Map<string, ClientRecord>> {
    const found = new Map<string, ClientRecord>();
    if (clientIds.length === 0) return found;
    const { rows } = await this.query('SELECT * FROM clients WHERE client_id = ANY($1::text[])', [[...clientIds]]);
    for (const row of rows) found.set(String(row.client_id), clientFromRow(row));
    return found;
  }

  async applyFavoriteCreated(favorite: FavoriteInput, at: string): Promise<void> {
    await this.query(
      `INSERT INTO favorites (favorite_id, client_id, mls_number, board_id, tags, comments, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::text, $7::text)
       ON CONFLICT (favorite_id) DO UPDATE SET client_id = EXCLUDED.client_id, mls_number = EXCLUDED.mls_number,
         board_id = EXCLUDED.board_id, tags = EXCLUDED.tags, comments = EXCLUDED.comments,
         updated_at = EXCLUDED.updated_at`,
      [
        favorite.favoriteId,
        favorite.clientId,
        favorite.mlsNumber,
        favorite.boardId,
        JSON.stringify(favorite.tags),
        favorite.comments,
        at,
      ],
    );
  }

  async applyFavoriteDeleted(
    favorite: Pick<FavoriteInput, 'favoriteId'> & Partial<FavoriteInput>,
    at: string,
  ): Promise<void> {
    await this.query(
      `INSERT INTO favorites (favorite_id, client_id, mls_number, board_id, tags, comments, created_at, updated_at,
         deleted_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::text, $7::text, $7::text)
       ON CONFLICT (favorite_id) DO UPDATE SET deleted_at = COALESCE(favorites.deleted_at, EXCLUDED.deleted_at),
         updated_at = EXCLUDED.updated_at`,
      [
        favorite.favoriteId,
        favorite.clientId ?? '',
        favorite.mlsNumber ?? '',
        favorite.boardId ?? null,
        JSON.stringify(favorite.tags ?? []),
        favorite.comments ?? null,
        at,
      ],
    );
  }

  async getFavorites(favoriteIds: readonly string[]): Promise<Map<string, FavoriteWithPeople>> {
    const found = new Map<string, FavoriteWithPeople>();
    if (favoriteIds.length === 0) return found;
    // Joining the id list leads the planner to one primary-key probe per id. With `= ANY` instead, PostgreSQL 15
    // scanned all of a 1,000,000-row favorites table for 10,000 ids, a cost that grows with the table.
    const { rows } = await this.query(
      `SELECT ${favoriteWithPeopleColumns}
       FROM unnest($1::text[]) AS wanted (id)
       JOIN favorites f ON f.favorite_id = wanted.id ${peopleJoins}`,
      [[...new Set(favoriteIds)]],
    );
    for (const row of rows) found.set(String(row.favorite_id), favoriteWithPeopleFromRow(row));
    return found;
  }

  async getFavoritesOfListing(mlsNumber: string, boardId: string | null): Promise<FavoriteWithPeople[]> {
    const { rows } = await this.query(
      `SELECT ${favoriteWithPeopleColumns}
       FROM favorites f ${peopleJoins}
       WHERE f.mls_number = $1 AND f.deleted_at IS NULL
         AND ($2::text IS NULL OR f.board_id IS NULL OR f.board_id = $2::text)`,
      [mlsNumber, boardId],
    );
    return rows.map(favoriteWithPeopleFromRow);
  }

  async upsertListing(listing: ListingInput, at: string): Promise<void> {
    await this.query(
      `INSERT INTO listings (mls_number, board_id, list_price, status, last_status, summary, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
       ON CONFLICT (mls_number, board_id) DO UPDATE SET list_price = EXCLUDED.list_price, status = EXCLUDED.status,
         last_status = EXCLUDED.last_status, summary = EXCLUDED.summary, updated_at = EXCLUDED.updated_at`,
      [
        listing.mlsNumber,
        listing.boardId ?? '',
        listing.listPrice,
        listing.status,
        listing.lastStatus,
        JSON.stringify(listing.summary),
        at,
      ],
    );
  }

  async getListing(mlsNumber: string, boardId: string | null): Promise<ListingRecord | null> {
    const { rows } = await this.query('SELECT * FROM listings WHERE mls_number = $1 AND board_id = $2', [
      mlsNumber,
      boardId ?? '',
    ]);
    const row = rows[0];
    return row ? listingFromRow(row) : null;
  }

  async getHookSubscription(event: string): Promise<HookSubscription | null> {
    const { rows } = await this.query('SELECT * FROM hook_subscriptions WHERE event = $1', [event]);
    const row = rows[0];
    if (!row) return null;
    return { event: String(row.event), secret: String(row.secret), createdAt: String(row.created_at) };
  }

  async createHookSubscription(event: string, secret: string, at: string): Promise<boolean> {
    const result = await this.query(
      'INSERT INTO hook_subscriptions (event, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [event, secret, at],
    );
    return result.rowCount === 1;
  }

  async recordEvent(event: NewEvent): Promise<boolean> {
    const result = await this.query(
      `INSERT INTO events (event_id, event, source, path, received_at, verified, payload)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [event.eventId, event.event, event.source, event.path, event.receivedAt, event.verified, event.payload],
    );
    return result.rowCount === 1;
  }

  async getEvent(eventId: string): Promise<EventRecord | null> {
    const { rows } = await this.query('SELECT * FROM events WHERE event_id = $1', [eventId]);
    const row = rows[0];
    return row ? eventFromRow(row) : null;
  }

  async setEventOutcome(
    eventId: string,
    outcome: EventOutcome,
    detail: string | null,
    ruleSetVersion: string | null,
    at: string,
  ): Promise<void> {
    await this.query(
      `UPDATE events SET outcome = $1, outcome_detail = $2, rule_set_version = $3, finished_at = $4
       WHERE event_id = $5`,
      [outcome, detail, ruleSetVersion, at, eventId],
    );
  }

  async listEvents(filter: { since?: string; event?: string; limit?: number }): Promise<EventRecord[]> {
    const limit = filter.limit ?? 100;
    const { rows } = await this.query(
      `SELECT * FROM events
       WHERE ($1::text IS NULL OR received_at >= $1::text) AND ($2::text IS NULL OR event = $2::text)
       ORDER BY received_at DESC LIMIT $3::bigint`,
      // SQLite treats a negative LIMIT as no limit but PostgreSQL rejects it, so it is sent as NULL, which
      // PostgreSQL treats as no limit.
      [filter.since ?? null, filter.event ?? null, limit < 0 ? null : limit],
    );
    return rows.map(eventFromRow);
  }

  async recordDeliveries(deliveries: readonly NewDelivery[], at: string): Promise<void> {
    if (deliveries.length === 0) return;
    // One statement over parallel arrays inserts the whole batch atomically. ORDER BY keeps the caller's order, so
    // when a key repeats within the batch the first entry is kept, as in the SQLite store.
    await this.query(
      `INSERT INTO deliveries (key, event_id, rule_id, rule_set_version, connector, recipient, created_at, updated_at)
       SELECT d.key, d.event_id, d.rule_id, d.rule_set_version, d.connector, d.recipient, $7::text, $7::text
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         WITH ORDINALITY AS d (key, event_id, rule_id, rule_set_version, connector, recipient, position)
       ORDER BY d.position
       ON CONFLICT DO NOTHING`,
      [
        deliveries.map((delivery) => delivery.key),
        deliveries.map((delivery) => delivery.eventId),
        deliveries.map((delivery) => delivery.ruleId),
        deliveries.map((delivery) => delivery.ruleSetVersion),
        deliveries.map((delivery) => delivery.connector),
        deliveries.map((delivery) => delivery.recipient),
        at,
      ],
    );
  }

  async getDelivery(key: string): Promise<DeliveryRecord | null> {
    const { rows } = await this.query('SELECT * FROM deliveries WHERE key = $1', [key]);
    const row = rows[0];
    return row ? deliveryFromRow(row) : null;
  }

  async listDeliveries(eventId: string): Promise<DeliveryRecord[]> {
    const { rows } = await this.query('SELECT * FROM deliveries WHERE event_id = $1 ORDER BY created_at, key', [
      eventId,
    ]);
    return rows.map(deliveryFromRow);
  }

  async setDeliveryStatus(
    key: string,
    status: DeliveryStatus,
    details: { error?: string | null; receipt?: string | null },
    at: string,
  ): Promise<void> {
    await this.query(
      `UPDATE deliveries SET status = $2::text, attempts = attempts + $3::integer,
         last_error = COALESCE($4::text, CASE WHEN $2::text = 'sent' THEN NULL ELSE last_error END),
         receipt = COALESCE($5::text, receipt), updated_at = $6::text
       WHERE key = $1::text`,
      [key, status, status === 'sending' ? 1 : 0, details.error ?? null, details.receipt ?? null, at],
    );
  }
}
