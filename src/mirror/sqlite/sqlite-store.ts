/**
 * The SQLite store: the default, one file under `./data/`. better-sqlite3 is synchronous, so each call runs to
 * completion before the event loop moves on; WAL mode lets an API process and a worker process share the file.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
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
import { sqliteMigrations } from './migrations.js';

type Row = Record<string, unknown>;

const str = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

function favoriteFromRow(row: Row): FavoriteRecord {
  return {
    favoriteId: String(row.favorite_id),
    clientId: String(row.client_id),
    mlsNumber: String(row.mls_number),
    boardId: str(row.board_id),
    tags: JSON.parse(String(row.tags)) as string[],
    comments: str(row.comments),
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
    deletedAt: str(row.deleted_at),
  };
}

function eventFromRow(row: Row): EventRecord {
  return {
    eventId: String(row.event_id),
    event: String(row.event),
    source: String(row.source),
    path: String(row.path),
    receivedAt: String(row.received_at),
    verified: Number(row.verified) === 1,
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

// Column lists of the by-id reads of agents, clients and favorites, and mappers from their value arrays.
const agentValueColumns = ['agent_id', 'fname', 'lname', 'email', 'phone', 'brokerage', 'external_id', 'updated_at', 'deleted_at'];
const clientValueColumns = [
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
];
const favoriteValueColumns = [
  'favorite_id',
  'client_id',
  'mls_number',
  'board_id',
  'tags',
  'comments',
  'created_at',
  'updated_at',
  'deleted_at',
];

/** Parses a stored JSON array or object, sparing JSON.parse for the empty ones most rows contain. */
function parseJson<T>(text: unknown): T {
  if (text === '[]') return [] as T;
  if (text === '{}') return {} as T;
  return JSON.parse(String(text)) as T;
}

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
    status: Number(values[6]) === 1,
    externalId: str(values[7]),
    preferences: parseJson<Record<string, unknown>>(values[8]),
    tags: parseJson<string[]>(values[9]),
    optedOutAt: str(values[10]),
    deletedAt: str(values[11]),
    updatedAt: String(values[12]),
  };
}

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
const newerFavoriteFields = "(excluded.updated_at >= favorites.updated_at OR favorites.client_id = '')";

/** SQLite binds at most 32,766 parameters per statement; id lists are read in chunks well below that. */
const idChunkSize = 900;

/** Prepared statements kept per store before the cache starts again empty. */
const maxCachedStatements = 256;

/** Events deleted per transaction by purgeEventsBefore. */
const purgeBatchSize = 1000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  /** Statements by SQL text; see {@link SqliteStore.statement}. */
  private readonly statements = new Map<string, Database.Statement>();
  /** Statements of rowsByIds by table, prepared at their first use because their tables exist only after migrate. */
  private readonly byIdStatements = new Map<string, Database.Statement>();

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    // A 64 MiB page cache (the default is 2 MiB) and reads through a memory map keep lookups of a mirror with a
    // million favorites in memory: getFavorites of 10,000 ids took about half as long (bench/mirror.ts).
    this.db.pragma('cache_size = -65536');
    this.db.pragma('mmap_size = 268435456');
  }

  /**
   * Returns the statement of `sql`, prepared at its first use. Preparing parses and plans the SQL, and doing it on
   * every call took about 8% of the hub's CPU time in a profile of bench/latency.ts.
   */
  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      // Searches and id lists build their SQL, so the set of texts is bounded only by this limit.
      if (this.statements.size >= maxCachedStatements) this.statements.clear();
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  async migrate(): Promise<void> {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const applied = new Set(
      (this.db.prepare('SELECT version FROM schema_migrations').all() as Row[]).map((row) => Number(row.version)),
    );
    for (const migration of sqliteMigrations) {
      if (applied.has(migration.version)) continue;
      // IMMEDIATE takes the write lock first, so two processes starting together cannot both apply a migration.
      this.db.transaction(() => {
        const again = this.db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(migration.version);
        if (again) return;
        this.db.exec(migration.sql);
        this.db
          .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
          .run(migration.version, migration.name, new Date().toISOString());
      }).immediate();
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async ping(): Promise<void> {
    this.statement('SELECT 1').get();
  }

  async upsertAgent(agent: AgentInput, at: string): Promise<void> {
    this.statement(
      `INSERT INTO agents (agent_id, fname, lname, email, phone, brokerage, external_id, updated_at)
       VALUES (@agentId, @fname, @lname, @email, @phone, @brokerage, @externalId, @at)
       ON CONFLICT (agent_id) DO UPDATE SET fname = excluded.fname, lname = excluded.lname, email = excluded.email,
         phone = excluded.phone, brokerage = excluded.brokerage, external_id = excluded.external_id,
         deleted_at = NULL, updated_at = excluded.updated_at
       WHERE excluded.updated_at > agents.updated_at
         OR (excluded.updated_at = agents.updated_at AND agents.deleted_at IS NULL)`,
    ).run({ ...agent, at });
  }

  async deleteAgent(agentId: string, at: string): Promise<void> {
    this.statement(
      `INSERT INTO agents (agent_id, deleted_at, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (agent_id) DO UPDATE SET deleted_at = COALESCE(agents.deleted_at, excluded.deleted_at),
         updated_at = excluded.updated_at
       WHERE excluded.updated_at >= agents.updated_at`,
    ).run(agentId, at, at);
  }

  async upsertClient(client: ClientInput, at: string): Promise<void> {
    this.statement(
      `INSERT INTO clients (client_id, agent_id, fname, lname, email, phone, status, external_id, preferences, tags,
         opted_out_at, updated_at, data_at)
       VALUES (@clientId, @agentId, @fname, @lname, @email, @phone, @status, @externalId, @preferences, @tags,
         (SELECT opted_out_at FROM client_opt_outs WHERE client_id = @clientId), @at, @at)
       ON CONFLICT (client_id) DO UPDATE SET agent_id = excluded.agent_id, fname = excluded.fname,
         lname = excluded.lname, email = excluded.email, phone = excluded.phone, status = excluded.status,
         external_id = excluded.external_id, preferences = excluded.preferences, tags = excluded.tags,
         data_at = excluded.data_at, updated_at = MAX(clients.updated_at, excluded.updated_at)
       WHERE clients.data_at IS NULL OR excluded.data_at >= clients.data_at`,
    ).run({
        ...client,
        status: client.status ? 1 : 0,
        preferences: JSON.stringify(client.preferences),
        tags: JSON.stringify(client.tags),
        at,
      });
  }

  async deleteClient(clientId: string, at: string): Promise<void> {
    // IMMEDIATE takes the write lock before reading, so no favorite of this client can be inserted in between.
    this.db.transaction(() => {
      this.statement(
        `INSERT INTO clients (client_id, status, deleted_at, updated_at) VALUES (?, 0, ?, ?)
         ON CONFLICT (client_id) DO UPDATE SET deleted_at = COALESCE(clients.deleted_at, excluded.deleted_at),
           updated_at = MAX(clients.updated_at, excluded.updated_at)`,
      ).run(clientId, at, at);
      this.statement(
        `UPDATE favorites SET deleted_at = @at, updated_at = MAX(updated_at, @at)
         WHERE client_id = @clientId AND deleted_at IS NULL`,
      ).run({ clientId, at });
    }).immediate();
  }

  async recordOptOut(clientId: string, at: string): Promise<void> {
    // The opt-out table keeps the opt-out of a client not mirrored yet; upsertClient copies it into the new row.
    this.db.transaction(() => {
      this.statement('INSERT INTO client_opt_outs (client_id, opted_out_at) VALUES (?, ?) ON CONFLICT DO NOTHING')
        .run(clientId, at);
      this.statement('UPDATE clients SET opted_out_at = COALESCE(opted_out_at, ?), updated_at = ? WHERE client_id = ?')
        .run(at, at, clientId);
    })();
  }

  /**
   * Reads the rows of `table` whose `key` is one of `ids` as arrays of the values of `columns`, in one statement
   * over a JSON array of the distinct ids, so there is no limit on their number. Sorted ids make consecutive index
   * probes touch neighbouring pages, and arrays spare building one object per row: together they made a lookup of
   * 10,000 favorites with their people about 40% cheaper (bench/mirror.ts).
   */
  private rowsByIds(table: string, key: string, columns: readonly string[], ids: readonly string[]): unknown[][] {
    if (ids.length === 0) return [];
    let statement = this.byIdStatements.get(table);
    if (!statement) {
      const select = columns.map((column) => `t.${column}`).join(', ');
      statement = this.db
        .prepare(`SELECT ${select} FROM json_each(?) AS wanted JOIN ${table} t ON t.${key} = wanted.value`)
        .raw(true);
      this.byIdStatements.set(table, statement);
    }
    return statement.all(JSON.stringify([...new Set(ids)].sort())) as unknown[][];
  }

  async getAgents(agentIds: readonly string[]): Promise<Map<string, AgentRecord>> {
    const found = new Map<string, AgentRecord>();
    for (const values of this.rowsByIds('agents', 'agent_id', agentValueColumns, agentIds)) {
      const agent = agentFromValues(values);
      if (agent) found.set(agent.agentId, agent);
    }
    return found;
  }

  async getClients(clientIds: readonly string[]): Promise<Map<string, ClientRecord>> {
    const found = new Map<string, ClientRecord>();
    for (const values of this.rowsByIds('clients', 'client_id', clientValueColumns, clientIds)) {
      const client = clientFromValues(values);
      found.set(client.clientId, client);
    }
    return found;
  }

  async applyFavoriteCreated(favorite: FavoriteInput, at: string): Promise<void> {
    // The new row takes the deletion time of a deleted client, so a late favorite.created is never routed. The
    // SELECT needs its WHERE clause, or SQLite would read ON CONFLICT as a join constraint.
    this.statement(
      `INSERT INTO favorites (favorite_id, client_id, mls_number, board_id, tags, comments, created_at, updated_at,
         deleted_at)
       SELECT @favoriteId, @clientId, @mlsNumber, @boardId, @tags, @comments, @at, @at,
         (SELECT deleted_at FROM clients WHERE client_id = @clientId)
       WHERE true
       ON CONFLICT (favorite_id) DO UPDATE SET
         client_id = CASE WHEN ${newerFavoriteFields} THEN excluded.client_id ELSE favorites.client_id END,
         mls_number = CASE WHEN ${newerFavoriteFields} THEN excluded.mls_number ELSE favorites.mls_number END,
         board_id = CASE WHEN ${newerFavoriteFields} THEN excluded.board_id ELSE favorites.board_id END,
         tags = CASE WHEN ${newerFavoriteFields} THEN excluded.tags ELSE favorites.tags END,
         comments = CASE WHEN ${newerFavoriteFields} THEN excluded.comments ELSE favorites.comments END,
         created_at = MIN(favorites.created_at, excluded.created_at),
         updated_at = MAX(favorites.updated_at, excluded.updated_at),
         deleted_at = COALESCE(favorites.deleted_at, excluded.deleted_at)`,
    ).run({ ...favorite, tags: JSON.stringify(favorite.tags), at });
  }

  async applyFavoriteDeleted(
    favorite: Pick<FavoriteInput, 'favoriteId'> & Partial<FavoriteInput>,
    at: string,
  ): Promise<void> {
    this.statement(
      `INSERT INTO favorites (favorite_id, client_id, mls_number, board_id, tags, comments, created_at, updated_at, deleted_at)
       VALUES (@favoriteId, @clientId, @mlsNumber, @boardId, @tags, @comments, @at, @at, @at)
       ON CONFLICT (favorite_id) DO UPDATE SET
         deleted_at = CASE WHEN favorites.deleted_at IS NULL OR excluded.deleted_at < favorites.deleted_at
           THEN excluded.deleted_at ELSE favorites.deleted_at END,
         updated_at = MAX(favorites.updated_at, excluded.updated_at),
         client_id = CASE WHEN favorites.client_id = '' THEN excluded.client_id ELSE favorites.client_id END,
         mls_number = CASE WHEN favorites.mls_number = '' THEN excluded.mls_number ELSE favorites.mls_number END,
         board_id = CASE WHEN favorites.mls_number = '' THEN excluded.board_id ELSE favorites.board_id END`,
    ).run({
        favoriteId: favorite.favoriteId,
        clientId: favorite.clientId ?? '',
        mlsNumber: favorite.mlsNumber ?? '',
        boardId: favorite.boardId ?? null,
        tags: JSON.stringify(favorite.tags ?? []),
        comments: favorite.comments ?? null,
        at,
      });
  }

  async listClientIds(after: string, limit: number): Promise<string[]> {
    // Each side is limited before the union. The first `limit` ids of the union are among the first `limit` of
    // each side, so the result is the same, and each table's index then serves its side in order.
    const rows = this.statement(
      `SELECT client_id FROM (
         SELECT client_id FROM (
           SELECT client_id FROM clients WHERE deleted_at IS NULL AND client_id > @after ORDER BY client_id LIMIT @limit)
         UNION
         SELECT client_id FROM (
           SELECT DISTINCT client_id FROM favorites WHERE deleted_at IS NULL AND client_id > @after
           ORDER BY client_id LIMIT @limit)
       ) ORDER BY client_id LIMIT @limit`,
    ).all({ after, limit }) as Row[];
    return rows.map((row) => String(row.client_id));
  }

  async listAgentIds(after: string, limit: number): Promise<string[]> {
    const rows = this.statement('SELECT agent_id FROM agents WHERE deleted_at IS NULL AND agent_id > ? ORDER BY agent_id LIMIT ?')
      .all(after, limit) as Row[];
    return rows.map((row) => String(row.agent_id));
  }

  async getFavoritesOfClients(clientIds: readonly string[]): Promise<FavoriteRecord[]> {
    const favorites: FavoriteRecord[] = [];
    for (const part of chunks([...new Set(clientIds)], idChunkSize)) {
      const rows = this.statement(`SELECT * FROM favorites WHERE client_id IN (${part.map(() => '?').join(',')}) ORDER BY favorite_id`)
        .all(...part) as Row[];
      for (const row of rows) favorites.push(favoriteFromRow(row));
    }
    return favorites;
  }

  private async withPeople(favorites: FavoriteRecord[]): Promise<FavoriteWithPeople[]> {
    const clients = await this.getClients(favorites.map((favorite) => favorite.clientId));
    const agentIds = [...clients.values()].flatMap((client) => (client.agentId ? [client.agentId] : []));
    const agents = await this.getAgents(agentIds);
    return favorites.map((favorite) => {
      const client = clients.get(favorite.clientId) ?? null;
      const agent = client?.agentId ? (agents.get(client.agentId) ?? null) : null;
      return { favorite, client, agent };
    });
  }

  async getFavorites(favoriteIds: readonly string[]): Promise<Map<string, FavoriteWithPeople>> {
    // Three single-table reads (favorites, then their distinct clients, then those clients' distinct agents) cost
    // less than one joined query, because an agent shared by many clients is read once.
    const rows = this.rowsByIds('favorites', 'favorite_id', favoriteValueColumns, favoriteIds);
    const joined = await this.withPeople(rows.map(favoriteFromValues));
    return new Map(joined.map((entry) => [entry.favorite.favoriteId, entry]));
  }

  async getFavoritesOfListing(mlsNumber: string, boardId: string | null): Promise<FavoriteWithPeople[]> {
    const rows = this.statement(
      `SELECT * FROM favorites WHERE mls_number = ? AND deleted_at IS NULL
         AND (? IS NULL OR board_id IS NULL OR board_id = ?)`,
    ).all(mlsNumber, boardId, boardId) as Row[];
    return this.withPeople(rows.map(favoriteFromRow));
  }

  async upsertListing(listing: ListingInput, at: string): Promise<void> {
    this.statement(
      `INSERT INTO listings (mls_number, board_id, list_price, status, last_status, summary, updated_at)
       VALUES (@mlsNumber, @boardId, @listPrice, @status, @lastStatus, @summary, @at)
       ON CONFLICT (mls_number, board_id) DO UPDATE SET list_price = excluded.list_price, status = excluded.status,
         last_status = excluded.last_status, summary = excluded.summary, updated_at = excluded.updated_at
       WHERE excluded.updated_at >= listings.updated_at`,
    ).run({ ...listing, boardId: listing.boardId ?? '', summary: JSON.stringify(listing.summary), at });
  }

  async getListing(mlsNumber: string, boardId: string | null): Promise<ListingRecord | null> {
    const row = this.statement('SELECT * FROM listings WHERE mls_number = ? AND board_id = ?')
      .get(mlsNumber, boardId ?? '') as Row | undefined;
    if (!row) return null;
    return {
      mlsNumber: String(row.mls_number),
      boardId: row.board_id === '' ? null : str(row.board_id),
      listPrice: row.list_price === null ? null : Number(row.list_price),
      status: str(row.status),
      lastStatus: str(row.last_status),
      summary: JSON.parse(String(row.summary)) as Record<string, unknown>,
      updatedAt: String(row.updated_at),
    };
  }

  async getHookSubscription(event: string): Promise<HookSubscription | null> {
    const row = this.statement('SELECT * FROM hook_subscriptions WHERE event = ?').get(event) as Row | undefined;
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
    const result = this.statement(
      `UPDATE hook_subscriptions SET previous_secret = secret, previous_valid_until = ?, rotated_at = ?, secret = ?
       WHERE event = ? AND secret = ?`,
    ).run(previousValidUntil, at, secret, event, expected);
    return result.changes === 1;
  }

  async createHookSubscription(event: string, secret: string, at: string): Promise<boolean> {
    const result = this.statement('INSERT INTO hook_subscriptions (event, secret, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
      .run(event, secret, at);
    return result.changes === 1;
  }

  async recordEvent(event: NewEvent): Promise<boolean> {
    const result = this.statement(
      `INSERT INTO events (event_id, event, source, path, received_at, verified, payload)
       VALUES (@eventId, @event, @source, @path, @receivedAt, @verified, @payload) ON CONFLICT DO NOTHING`,
    ).run({ ...event, verified: event.verified ? 1 : 0 });
    return result.changes === 1;
  }

  async getEvent(eventId: string): Promise<EventRecord | null> {
    const row = this.statement('SELECT * FROM events WHERE event_id = ?').get(eventId) as Row | undefined;
    return row ? eventFromRow(row) : null;
  }

  async setEventOutcome(
    eventId: string,
    outcome: EventOutcome,
    detail: string | null,
    ruleSetVersion: string | null,
    at: string,
  ): Promise<void> {
    this.statement(
      'UPDATE events SET outcome = ?, outcome_detail = ?, rule_set_version = ?, finished_at = ? WHERE event_id = ?',
    ).run(outcome, detail, ruleSetVersion, at, eventId);
  }

  async listEvents(filter: { since?: string; event?: string; limit?: number }): Promise<EventRecord[]> {
    const rows = this.statement(
      `SELECT * FROM events WHERE (@since IS NULL OR received_at >= @since) AND (@event IS NULL OR event = @event)
       ORDER BY received_at DESC LIMIT @limit`,
    ).all({ since: filter.since ?? null, event: filter.event ?? null, limit: filter.limit ?? 100 }) as Row[];
    return rows.map(eventFromRow);
  }

  async purgeEventsBefore(before: string): Promise<{ events: number; deliveries: number }> {
    const selectBatch = this.db
      .prepare('SELECT event_id FROM events WHERE received_at < ? ORDER BY received_at LIMIT ?')
      .pluck();
    const deleteDeliveries = this.statement('DELETE FROM deliveries WHERE event_id = ?');
    const deleteEvent = this.statement('DELETE FROM events WHERE event_id = ?');
    const purged = { events: 0, deliveries: 0 };
    const purgeBatch = this.db.transaction((): number => {
      const eventIds = selectBatch.all(before, purgeBatchSize) as string[];
      for (const eventId of eventIds) {
        purged.deliveries += deleteDeliveries.run(eventId).changes;
        purged.events += deleteEvent.run(eventId).changes;
      }
      return eventIds.length;
    });
    while (purgeBatch() === purgeBatchSize) {
      // better-sqlite3 blocks the event loop, so other work gets a turn between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return purged;
  }

  async recordEventTrace(eventId: string, trace: { matchedRules: readonly string[]; subjects: readonly EventSubject[] }): Promise<void> {
    const setRules = this.statement('UPDATE events SET matched_rules = ? WHERE event_id = ?');
    const insertSubject = this.statement(
      `INSERT INTO event_subjects (kind, value, received_at, event_id)
       SELECT ?, ?, received_at, event_id FROM events WHERE event_id = ? ON CONFLICT DO NOTHING`,
    );
    this.db.transaction(() => {
      setRules.run(JSON.stringify(trace.matchedRules), eventId);
      for (const subject of trace.subjects) insertSubject.run(subject.kind, subject.value, eventId);
    })();
  }

  async getEventTrace(eventId: string): Promise<EventTrace | null> {
    const row = this.statement('SELECT matched_rules, replay_count FROM events WHERE event_id = ?').get(eventId) as Row | undefined;
    if (!row) return null;
    const subjects = this.statement('SELECT kind, value FROM event_subjects WHERE event_id = ?')
      .all(eventId) as EventSubject[];
    return {
      matchedRules: row.matched_rules === null ? null : (JSON.parse(String(row.matched_rules)) as string[]),
      subjects: sortSubjects(subjects.map(({ kind, value }) => ({ kind, value }))),
      replayCount: Number(row.replay_count),
    };
  }

  async searchEvents(search: EventSearch): Promise<EventRecord[]> {
    const values: unknown[] = [];
    const sql = eventSearchSql(search, (value) => {
      values.push(value);
      return '?';
    });
    return (this.statement(sql).all(...values) as Row[]).map(eventFromRow);
  }

  async nextReplayNumber(eventId: string): Promise<number | null> {
    const row = this.statement('UPDATE events SET replay_count = replay_count + 1 WHERE event_id = ? RETURNING replay_count')
      .get(eventId) as Row | undefined;
    return row ? Number(row.replay_count) : null;
  }

  async searchDeliveries(search: DeliverySearch): Promise<DeliveryRecord[]> {
    const values: unknown[] = [];
    const sql = deliverySearchSql(search, (value) => {
      values.push(value);
      return '?';
    });
    return (this.statement(sql).all(...values) as Row[]).map(deliveryFromRow);
  }

  async recordDeliveries(deliveries: readonly NewDelivery[], at: string): Promise<void> {
    const insert = this.statement(
      `INSERT INTO deliveries (key, event_id, rule_id, rule_set_version, connector, recipient, created_at, updated_at)
       VALUES (@key, @eventId, @ruleId, @ruleSetVersion, @connector, @recipient, @at, @at) ON CONFLICT DO NOTHING`,
    );
    this.db.transaction(() => {
      for (const delivery of deliveries) insert.run({ ...delivery, at });
    })();
  }

  async getDelivery(key: string): Promise<DeliveryRecord | null> {
    const row = this.statement('SELECT * FROM deliveries WHERE key = ?').get(key) as Row | undefined;
    return row ? deliveryFromRow(row) : null;
  }

  async listDeliveries(eventId: string): Promise<DeliveryRecord[]> {
    const rows = this.statement('SELECT * FROM deliveries WHERE event_id = ? ORDER BY created_at, key')
      .all(eventId) as Row[];
    return rows.map(deliveryFromRow);
  }

  async setDeliveryStatus(
    key: string,
    status: DeliveryStatus,
    details: { error?: string | null; receipt?: string | null; rateLimited?: boolean },
    at: string,
  ): Promise<void> {
    this.statement(
      `UPDATE deliveries SET status = @status, attempts = attempts + @attempt,
         rate_limited_count = rate_limited_count + @rateLimited,
         last_error = COALESCE(@error, CASE WHEN @status = 'sent' THEN NULL ELSE last_error END),
         receipt = COALESCE(@receipt, receipt), updated_at = @at WHERE key = @key`,
    ).run({
        key,
        status,
        attempt: status === 'sending' ? 1 : 0,
        rateLimited: details.rateLimited ? 1 : 0,
        error: details.error ?? null,
        receipt: details.receipt ?? null,
        at,
      });
  }
}
