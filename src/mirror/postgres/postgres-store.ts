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
  DeliverySearch,
  EventSearch,
  EventSubject,
  EventTrace,
  FavoriteInput,
  FavoriteWithPeople,
  ListingInput,
  NewDelivery,
  NewEvent,
  Store,
} from '../store.js';
import { deliverySearchSql, eventSearchSql, sortSubjects } from '../admin-queries.js';
import { applyPostgresMigrations } from './migrations.js';

type Row = Record<string, unknown>;

/** Events deleted per statement by purgeEventsBefore. */
const purgeBatchSize = 1000;

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

// Column lists of the by-id reads of agents and clients, and mappers from their value arrays. They map as
// agentFromRow and clientFromRow do, which read joined rows by name, but from the text PostgreSQL sent: by-id reads
// skip pg's value parsers (see rowsByIds).
const agentValueColumns = [...agentColumns, 'deleted_at'];
const clientValueColumns = clientColumns;

/** Parses jsonb text, sparing JSON.parse for the empty arrays and objects most rows hold. */
function parseJson<T>(text: unknown): T {
  if (text === '[]') return [] as T;
  if (text === '{}') return {} as T;
  return JSON.parse(String(text)) as T;
}

/**
 * Query types under which pg returns every value as the text PostgreSQL sent. Looking up and calling a parser per
 * value took about a quarter of the client CPU time of reading 10,000 favorites (bench/mirror.ts).
 */
const textValues = { getTypeParser: () => (text: string) => text };

/** Maps the values of {@link agentValueColumns}; null for a deleted agent, which reads as absent. */
function agentFromValues(values: unknown[]): AgentRecord | null {
  if (values[8] !== null) return null;
  return {
    agentId: String(values[0]),
    fname: str(values[1]),
    lname: str(values[2]),
    email: str(values[3]),
    phone: str(values[4]),
    brokerage: str(values[5]),
    externalId: str(values[6]),
    updatedAt: String(values[7]),
  };
}

function clientFromValues(values: unknown[]): ClientRecord {
  return {
    clientId: String(values[0]),
    agentId: str(values[1]),
    fname: str(values[2]),
    lname: str(values[3]),
    email: str(values[4]),
    phone: str(values[5]),
    status: values[6] === 't',
    externalId: str(values[7]),
    preferences: parseJson<Record<string, unknown>>(values[8]),
    tags: parseJson<string[]>(values[9]),
    optedOutAt: str(values[10]),
    deletedAt: str(values[11]),
    updatedAt: String(values[12]),
  };
}

/** Maps the values of `favoriteColumns`. */
function favoriteFromValues(values: unknown[]): FavoriteRecord {
  return {
    favoriteId: String(values[0]),
    clientId: String(values[1]),
    mlsNumber: String(values[2]),
    boardId: str(values[3]),
    tags: parseJson<string[]>(values[4]),
    comments: str(values[5]),
    createdAt: String(values[6]),
    updatedAt: String(values[7]),
    deletedAt: str(values[8]),
  };
}

/**
 * Condition, inside a favorites upsert, under which a create replaces the stored fields: the create is not older
 * than the stored row, or the stored row is a tombstone that never had fields.
 */
const newerFavoriteFields = "(EXCLUDED.updated_at >= favorites.updated_at OR favorites.client_id = '')";

/** First key of the advisory locks that serialise writes about one client; the second key is a hash of its id. */
const clientLockClass = 7_236_828;

/**
 * Joins of a favorite `f` to its client and the client's agent. An empty agent id counts as no agent, as in SQLite,
 * and a deleted agent as absent.
 */
const peopleJoins = `
  LEFT JOIN clients c ON c.client_id = f.client_id
  LEFT JOIN agents a ON a.agent_id = c.agent_id AND c.agent_id <> '' AND a.deleted_at IS NULL`;

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
    rateLimitedCount: Number(row.rate_limited_count),
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
    // pg waits for a connection without limit by default; a server that drops packets would hang every query.
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: options.maxConnections, connectionTimeoutMillis: 10_000 });
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

  /**
   * Runs `work` in one transaction holding the advisory lock of `clientId`. deleteClient and applyFavoriteCreated
   * take it, so a favorite inserted while its client is being deleted cannot miss the client's tombstone: under
   * READ COMMITTED neither statement would otherwise see the other's uncommitted row.
   */
  private async withClientLock(clientId: string, work: (connection: pg.PoolClient) => Promise<void>): Promise<void> {
    const connection = await this.pool.connect();
    let connectionBroken = false;
    try {
      await connection.query('BEGIN');
      await connection.query('SELECT pg_advisory_xact_lock($1::integer, hashtext($2::text))', [clientLockClass, clientId]);
      await work(connection);
      await connection.query('COMMIT');
    } catch (error) {
      try {
        await connection.query('ROLLBACK');
      } catch {
        connectionBroken = true;
      }
      throw error;
    } finally {
      connection.release(connectionBroken);
    }
  }

  async upsertAgent(agent: AgentInput, at: string): Promise<void> {
    await this.query(
      `INSERT INTO agents (agent_id, fname, lname, email, phone, brokerage, external_id, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (agent_id) DO UPDATE SET fname = EXCLUDED.fname, lname = EXCLUDED.lname, email = EXCLUDED.email,
         phone = EXCLUDED.phone, brokerage = EXCLUDED.brokerage, external_id = EXCLUDED.external_id,
         deleted_at = NULL, updated_at = EXCLUDED.updated_at
       WHERE EXCLUDED.updated_at > agents.updated_at
         OR (EXCLUDED.updated_at = agents.updated_at AND agents.deleted_at IS NULL)`,
      [agent.agentId, agent.fname, agent.lname, agent.email, agent.phone, agent.brokerage, agent.externalId, at],
    );
  }

  async deleteAgent(agentId: string, at: string): Promise<void> {
    await this.query(
      `INSERT INTO agents (agent_id, deleted_at, updated_at) VALUES ($1::text, $2::text, $2::text)
       ON CONFLICT (agent_id) DO UPDATE SET deleted_at = COALESCE(agents.deleted_at, EXCLUDED.deleted_at),
         updated_at = EXCLUDED.updated_at
       WHERE EXCLUDED.updated_at >= agents.updated_at`,
      [agentId, at],
    );
  }

  async upsertClient(client: ClientInput, at: string): Promise<void> {
    await this.query(
      `INSERT INTO clients (client_id, agent_id, fname, lname, email, phone, status, external_id, preferences, tags,
         opted_out_at, updated_at, data_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb,
         (SELECT opted_out_at FROM client_opt_outs WHERE client_id = $1), $11, $11)
       ON CONFLICT (client_id) DO UPDATE SET agent_id = EXCLUDED.agent_id, fname = EXCLUDED.fname,
         lname = EXCLUDED.lname, email = EXCLUDED.email, phone = EXCLUDED.phone, status = EXCLUDED.status,
         external_id = EXCLUDED.external_id, preferences = EXCLUDED.preferences, tags = EXCLUDED.tags,
         data_at = EXCLUDED.data_at, updated_at = GREATEST(clients.updated_at, EXCLUDED.updated_at)
       WHERE clients.data_at IS NULL OR EXCLUDED.data_at >= clients.data_at`,
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
    // PostgreSQL runs a data-modifying WITH clause to completion even though the outer UPDATE never reads it.
    await this.withClientLock(clientId, async (connection) => {
      await connection.query(
        `WITH tombstone AS (
           INSERT INTO clients (client_id, status, deleted_at, updated_at) VALUES ($1::text, false, $2::text, $2::text)
           ON CONFLICT (client_id) DO UPDATE SET deleted_at = COALESCE(clients.deleted_at, EXCLUDED.deleted_at),
             updated_at = GREATEST(clients.updated_at, EXCLUDED.updated_at)
         )
         UPDATE favorites SET deleted_at = $2::text, updated_at = GREATEST(updated_at, $2::text)
         WHERE client_id = $1::text AND deleted_at IS NULL`,
        [clientId, at],
      );
    });
  }

  async recordOptOut(clientId: string, at: string): Promise<void> {
    // The opt-out table keeps the opt-out of a client not mirrored yet; upsertClient copies it into the new row.
    await this.query(
      `WITH kept AS (
         INSERT INTO client_opt_outs (client_id, opted_out_at) VALUES ($1::text, $2::text) ON CONFLICT DO NOTHING
       )
       UPDATE clients SET opted_out_at = COALESCE(opted_out_at, $2::text), updated_at = $2::text
       WHERE client_id = $1::text`,
      [clientId, at],
    );
  }

  /**
   * Reads the rows of `table` whose `key` is one of `ids` as arrays of the values of `columns`, with a statement
   * prepared once per connection. PostgreSQL plans `= ANY` as one index scan over the sorted distinct ids, and
   * arrays spare pg building one object per row.
   */
  private async rowsByIds(table: string, key: string, columns: readonly string[], ids: readonly string[]): Promise<unknown[][]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<unknown[]>({
      name: `hub-${table}-by-id`,
      text: `SELECT ${columns.join(', ')} FROM ${table} WHERE ${key} = ANY($1::text[])`,
      values: [[...new Set(ids)]],
      rowMode: 'array',
      types: textValues,
    });
    return rows;
  }

  async getAgents(agentIds: readonly string[]): Promise<Map<string, AgentRecord>> {
    const found = new Map<string, AgentRecord>();
    for (const values of await this.rowsByIds('agents', 'agent_id', agentValueColumns, agentIds)) {
      const agent = agentFromValues(values);
      if (agent) found.set(agent.agentId, agent);
    }
    return found;
  }

  async getClients(clientIds: readonly string[]): Promise<Map<string, ClientRecord>> {
    const found = new Map<string, ClientRecord>();
    for (const values of await this.rowsByIds('clients', 'client_id', clientValueColumns, clientIds)) {
      const client = clientFromValues(values);
      found.set(client.clientId, client);
    }
    return found;
  }

  async applyFavoriteCreated(favorite: FavoriteInput, at: string): Promise<void> {
    // The new row takes the deletion time of a deleted client, so a late favorite.created is never routed.
    await this.withClientLock(favorite.clientId, async (connection) => {
      await connection.query(
        `INSERT INTO favorites (favorite_id, client_id, mls_number, board_id, tags, comments, created_at, updated_at,
           deleted_at)
         VALUES ($1::text, $2::text, $3::text, $4::text, $5::jsonb, $6::text, $7::text, $7::text,
           (SELECT deleted_at FROM clients WHERE client_id = $2::text))
         ON CONFLICT (favorite_id) DO UPDATE SET
           client_id = CASE WHEN ${newerFavoriteFields} THEN EXCLUDED.client_id ELSE favorites.client_id END,
           mls_number = CASE WHEN ${newerFavoriteFields} THEN EXCLUDED.mls_number ELSE favorites.mls_number END,
           board_id = CASE WHEN ${newerFavoriteFields} THEN EXCLUDED.board_id ELSE favorites.board_id END,
           tags = CASE WHEN ${newerFavoriteFields} THEN EXCLUDED.tags ELSE favorites.tags END,
           comments = CASE WHEN ${newerFavoriteFields} THEN EXCLUDED.comments ELSE favorites.comments END,
           created_at = LEAST(favorites.created_at, EXCLUDED.created_at),
           updated_at = GREATEST(favorites.updated_at, EXCLUDED.updated_at),
           deleted_at = COALESCE(favorites.deleted_at, EXCLUDED.deleted_at)`,
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
    });
  }

  async applyFavoriteDeleted(
    favorite: Pick<FavoriteInput, 'favoriteId'> & Partial<FavoriteInput>,
    at: string,
  ): Promise<void> {
    await this.query(
      `INSERT INTO favorites (favorite_id, client_id, mls_number, board_id, tags, comments, created_at, updated_at,
         deleted_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::text, $7::text, $7::text)
       ON CONFLICT (favorite_id) DO UPDATE SET
         deleted_at = LEAST(favorites.deleted_at, EXCLUDED.deleted_at),
         updated_at = GREATEST(favorites.updated_at, EXCLUDED.updated_at),
         client_id = CASE WHEN favorites.client_id = '' THEN EXCLUDED.client_id ELSE favorites.client_id END,
         mls_number = CASE WHEN favorites.mls_number = '' THEN EXCLUDED.mls_number ELSE favorites.mls_number END,
         board_id = CASE WHEN favorites.mls_number = '' THEN EXCLUDED.board_id ELSE favorites.board_id END`,
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

  async listClientIds(after: string, limit: number): Promise<string[]> {
    // Each side is limited before the union. The first `limit` ids of the union are among the first `limit` of
    // each side, so the result is the same, and each table's index then serves its side in order.
    const { rows } = await this.query(
      `SELECT client_id FROM (
         (SELECT client_id FROM clients WHERE deleted_at IS NULL AND client_id > $1::text
          ORDER BY client_id LIMIT $2::integer)
         UNION
         (SELECT DISTINCT client_id FROM favorites WHERE deleted_at IS NULL AND client_id > $1::text
          ORDER BY client_id LIMIT $2::integer)
       ) ids ORDER BY client_id LIMIT $2::integer`,
      [after, limit],
    );
    return rows.map((row) => String(row.client_id));
  }

  async listAgentIds(after: string, limit: number): Promise<string[]> {
    const { rows } = await this.query(
      'SELECT agent_id FROM agents WHERE deleted_at IS NULL AND agent_id > $1::text ORDER BY agent_id LIMIT $2::integer',
      [after, limit],
    );
    return rows.map((row) => String(row.agent_id));
  }

  async getFavoritesOfClients(clientIds: readonly string[]): Promise<FavoriteRecord[]> {
    if (clientIds.length === 0) return [];
    const { rows } = await this.query(
      `SELECT f.* FROM unnest($1::text[]) AS wanted (id) JOIN favorites f ON f.client_id = wanted.id
       ORDER BY f.favorite_id`,
      [[...new Set(clientIds)]],
    );
    return rows.map(favoriteFromRow);
  }

  async getFavorites(favoriteIds: readonly string[]): Promise<Map<string, FavoriteWithPeople>> {
    const found = new Map<string, FavoriteWithPeople>();
    if (favoriteIds.length === 0) return found;
    // Three single-table reads (favorites, then their distinct clients, then those clients' distinct agents) took
    // about a third less time than one joined query, because an agent shared by many clients is read and parsed
    // once (bench/mirror.ts). Joins also led PostgreSQL 15 to plan 10,000 ids as a merge join over the whole
    // primary-key index of a 1,000,000-row favorites table, a cost that grows with the table.
    const rows = await this.rowsByIds('favorites', 'favorite_id', favoriteColumns, favoriteIds);
    const favorites = rows.map(favoriteFromValues);
    const clients = await this.getClients([...new Set(favorites.map((favorite) => favorite.clientId))]);
    const agentIds = new Set<string>();
    for (const client of clients.values()) if (client.agentId) agentIds.add(client.agentId);
    const agents = await this.getAgents([...agentIds]);

    for (const favorite of favorites) {
      const client = clients.get(favorite.clientId) ?? null;
      const agent = client?.agentId ? (agents.get(client.agentId) ?? null) : null;
      found.set(favorite.favoriteId, { favorite, client, agent });
    }
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
         last_status = EXCLUDED.last_status, summary = EXCLUDED.summary, updated_at = EXCLUDED.updated_at
       WHERE EXCLUDED.updated_at >= listings.updated_at`,
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
    const subscription: HookSubscription = { event: String(row.event), secret: String(row.secret), createdAt: String(row.created_at) };
    if (row.previous_secret !== null && row.previous_secret !== undefined) {
      subscription.previous = {
        secret: String(row.previous_secret),
        validUntil: String(row.previous_valid_until),
        replacedAt: String(row.rotated_at),
      };
    }
    return subscription;
  }

  async rotateHookSecret(
    event: string,
    expected: string,
    secret: string,
    previousValidUntil: string,
    at: string,
  ): Promise<boolean> {
    // The right-hand sides read the row as it was, so previous_secret gets the secret being replaced.
    const result = await this.query(
      `UPDATE hook_subscriptions SET previous_secret = secret, previous_valid_until = $3, rotated_at = $4, secret = $5
       WHERE event = $1 AND secret = $2`,
      [event, expected, previousValidUntil, at, secret],
    );
    return result.rowCount === 1;
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

  async purgeEventsBefore(before: string): Promise<{ events: number; deliveries: number }> {
    const purged = { events: 0, deliveries: 0 };
    for (;;) {
      // One statement per batch, so a batch's events and their deliveries are deleted together.
      const { rows } = await this.query(
        `WITH doomed AS (
           SELECT event_id FROM events WHERE received_at < $1::text ORDER BY received_at LIMIT $2::integer
         ),
         deleted_deliveries AS (
           DELETE FROM deliveries d USING doomed WHERE d.event_id = doomed.event_id RETURNING 1
         ),
         deleted_events AS (
           DELETE FROM events e USING doomed WHERE e.event_id = doomed.event_id RETURNING 1
         )
         SELECT (SELECT count(*) FROM deleted_events)::integer AS events,
           (SELECT count(*) FROM deleted_deliveries)::integer AS deliveries`,
        [before, purgeBatchSize],
      );
      const events = Number(rows[0]?.events ?? 0);
      purged.events += events;
      purged.deliveries += Number(rows[0]?.deliveries ?? 0);
      if (events < purgeBatchSize) return purged;
    }
  }

  async recordEventTrace(eventId: string, trace: { matchedRules: readonly string[]; subjects: readonly EventSubject[] }): Promise<void> {
    // One statement, so the rules and the subjects are written together or not at all.
    await this.query(
      `WITH updated AS (
         UPDATE events SET matched_rules = $2::text WHERE event_id = $1::text RETURNING event_id, received_at
       )
       INSERT INTO event_subjects (kind, value, received_at, event_id)
       SELECT s.kind, s.value, u.received_at, u.event_id
       FROM updated u CROSS JOIN unnest($3::text[], $4::text[]) AS s (kind, value)
       ON CONFLICT DO NOTHING`,
      [
        eventId,
        JSON.stringify(trace.matchedRules),
        trace.subjects.map((subject) => subject.kind),
        trace.subjects.map((subject) => subject.value),
      ],
    );
  }

  async getEventTrace(eventId: string): Promise<EventTrace | null> {
    const { rows } = await this.query('SELECT matched_rules, replay_count FROM events WHERE event_id = $1', [eventId]);
    const row = rows[0];
    if (!row) return null;
    const subjects = await this.query('SELECT kind, value FROM event_subjects WHERE event_id = $1', [eventId]);
    return {
      matchedRules: row.matched_rules === null ? null : (JSON.parse(String(row.matched_rules)) as string[]),
      subjects: sortSubjects(subjects.rows.map((subject) => ({ kind: subject.kind, value: String(subject.value) }) as EventSubject)),
      replayCount: Number(row.replay_count),
    };
  }

  async searchEvents(search: EventSearch): Promise<EventRecord[]> {
    const values: unknown[] = [];
    const sql = eventSearchSql(search, (value) => {
      values.push(value);
      return `$${values.length}`;
    });
    const { rows } = await this.query(sql, values);
    return rows.map(eventFromRow);
  }

  async nextReplayNumber(eventId: string): Promise<number | null> {
    const { rows } = await this.query(
      'UPDATE events SET replay_count = replay_count + 1 WHERE event_id = $1 RETURNING replay_count',
      [eventId],
    );
    const row = rows[0];
    return row ? Number(row.replay_count) : null;
  }

  async searchDeliveries(search: DeliverySearch): Promise<DeliveryRecord[]> {
    const values: unknown[] = [];
    const sql = deliverySearchSql(search, (value) => {
      values.push(value);
      return `$${values.length}`;
    });
    const { rows } = await this.query(sql, values);
    return rows.map(deliveryFromRow);
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
    details: { error?: string | null; receipt?: string | null; rateLimited?: boolean },
    at: string,
  ): Promise<void> {
    await this.query(
      `UPDATE deliveries SET status = $2::text, attempts = attempts + $3::integer,
         rate_limited_count = rate_limited_count + $7::integer,
         last_error = COALESCE($4::text, CASE WHEN $2::text = 'sent' THEN NULL ELSE last_error END),
         receipt = COALESCE($5::text, receipt), updated_at = $6::text
       WHERE key = $1::text`,
      [key, status, status === 'sending' ? 1 : 0, details.error ?? null, details.receipt ?? null, at, details.rateLimited ? 1 : 0],
    );
  }
}
