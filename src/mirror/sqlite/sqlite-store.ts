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
  FavoriteInput,
  FavoriteWithPeople,
  ListingInput,
  NewDelivery,
  NewEvent,
  Store,
} from '../store.js';
import { sqliteMigrations } from './migrations.js';

type Row = Record<string, unknown>;

const str = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

function agentFromRow(row: Row): AgentRecord {
  return {
    agentId: String(row.agent_id),
    fname: str(row.fname),
    lname: str(row.lname),
    email: str(row.email),
    phone: str(row.phone),
    brokerage: str(row.brokerage),
    externalId: str(row.external_id),
    updatedAt: String(row.updated_at),
  };
}

function clientFromRow(row: Row): ClientRecord {
  return {
    clientId: String(row.client_id),
    agentId: str(row.agent_id),
    fname: str(row.fname),
    lname: str(row.lname),
    email: str(row.email),
    phone: str(row.phone),
    status: Number(row.status) === 1,
    externalId: str(row.external_id),
    preferences: JSON.parse(String(row.preferences)) as Record<string, unknown>,
    tags: JSON.parse(String(row.tags)) as string[],
    optedOutAt: str(row.opted_out_at),
    deletedAt: str(row.deleted_at),
    updatedAt: String(row.updated_at),
  };
}

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
    lastError: str(row.last_error),
    receipt: str(row.receipt),
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  };
}

/** SQLite binds at most 32,766 parameters per statement; id lists are read in chunks well below that. */
const idChunkSize = 900;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
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
    this.db.prepare('SELECT 1').get();
  }

  async upsertAgent(agent: AgentInput, at: string): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO agents (agent_id, fname, lname, email, phone, brokerage, external_id, updated_at)
         VALUES (@agentId, @fname, @lname, @email, @phone, @brokerage, @externalId, @at)
         ON CONFLICT (agent_id) DO UPDATE SET fname = excluded.fname, lname = excluded.lname, email = excluded.email,
           phone = excluded.phone, brokerage = excluded.brokerage, external_id = excluded.external_id,
           updated_at = excluded.updated_at`,
      )
      .run({ ...agent, at });
  }

  async upsertClient(client: ClientInput, at: string): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO clients (client_id, agent_id, fname, lname, email, phone, status, external_id, preferences, tags, updated_at)
         VALUES (@clientId, @agentId, @fname, @lname, @email, @phone, @status, @externalId, @preferences, @tags, @at)
         ON CONFLICT (client_id) DO UPDATE SET agent_id = excluded.agent_id, fname = excluded.fname,
           lname = excluded.lname, email = excluded.email, phone = excluded.phone, status = excluded.status,
           external_id = excluded.external_id, preferences = excluded.preferences, tags = excluded.tags,
           updated_at = excluded.updated_at`,
      )
      .run({
        ...client,
        status: client.status ? 1 : 0,
        preferences: JSON.stringify(client.preferences),
        tags: JSON.stringify(client.tags),
        at,
      });
  }

  async deleteClient(clientId: string, at: string): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO clients (client_id, status, deleted_at, updated_at) VALUES (?, 0, ?, ?)
           ON CONFLICT (client_id) DO UPDATE SET deleted_at = COALESCE(clients.deleted_at, excluded.deleted_at),
             updated_at = excluded.updated_at`,
        )
        .run(clientId, at, at);
      this.db
        .prepare('UPDATE favorites SET deleted_at = ?, updated_at = ? WHERE client_id = ? AND deleted_at IS NULL')
        .run(at, at, clientId);
    })();
  }

  async recordOptOut(clientId: string, at: string): Promise<void> {
    this.db
      .prepare('UPDATE clients SET opted_out_at = COALESCE(opted_out_at, ?), updated_at = ? WHERE client_id = ?')
      .run(at, at, clientId);
  }

  async getAgents(agentIds: readonly string[]): Promise<Map<string, AgentRecord>> {
    const found = new Map<string, AgentRecord>();
    for (const part of chunks([...new Set(agentIds)], idChunkSize)) {
      const rows = this.db
        .prepare(`SELECT * FROM agents WHERE agent_id IN (${part.map(() => '?').join(',')})`)
        .all(...part) as Row[];
      for (const row of rows) found.set(String(row.agent_id), agentFromRow(row));
    }
    return found;
  }

  async getClients(clientIds: readonly string[]): Promise<Map<string, ClientRecord>> {
    const found = new Map<string, ClientRecord>();
    for (const part of chunks([...new Set(clientIds)], idChunkSize)) {
      const rows = this.db
        .prepare(`SELECT * FROM clients WHERE client_id IN (${part.map(() => '?').join(',')})`)
        .all(...part) as Row[];
      for (const row of rows) found.set(String(row.client_id), clientFromRow(row));
    }
    return found;
  }

  async applyFavoriteCreated(favorite: FavoriteInput, at: string): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO favorites (favorite_id, client_id, mls_number, board_id, tags, comments, created_at, updated_at)
         VALUES (@favoriteId, @clientId, @mlsNumber, @boardId, @tags, @comments, @at, @at)
         ON CONFLICT (favorite_id) DO UPDATE SET client_id = excluded.client_id, mls_number = excluded.mls_number,
           board_id = excluded.board_id, tags = excluded.tags, comments = excluded.comments,
           updated_at = excluded.updated_at`,
      )
      .run({ ...favorite, tags: JSON.stringify(favorite.tags), at });
  }

  async applyFavoriteDeleted(
    favorite: Pick<FavoriteInput, 'favoriteId'> & Partial<FavoriteInput>,
    at: string,
  ): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO favorites (favorite_id, client_id, mls_number, board_id, tags, comments, created_at, updated_at, deleted_at)
         VALUES (@favoriteId, @clientId, @mlsNumber, @boardId, @tags, @comments, @at, @at, @at)
         ON CONFLICT (favorite_id) DO UPDATE SET deleted_at = COALESCE(favorites.deleted_at, excluded.deleted_at),
           updated_at = excluded.updated_at`,
      )
      .run({
        favoriteId: favorite.favoriteId,
        clientId: favorite.clientId ?? '',
        mlsNumber: favorite.mlsNumber ?? '',
        boardId: favorite.boardId ?? null,
        tags: JSON.stringify(favorite.tags ?? []),
        comments: favorite.comments ?? null,
        at,
      });
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
    const favorites: FavoriteRecord[] = [];
    for (const part of chunks([...new Set(favoriteIds)], idChunkSize)) {
      const rows = this.db
        .prepare(`SELECT * FROM favorites WHERE favorite_id IN (${part.map(() => '?').join(',')})`)
        .all(...part) as Row[];
      for (const row of rows) favorites.push(favoriteFromRow(row));
    }
    const joined = await this.withPeople(favorites);
    return new Map(joined.map((entry) => [entry.favorite.favoriteId, entry]));
  }

  async getFavoritesOfListing(mlsNumber: string, boardId: string | null): Promise<FavoriteWithPeople[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM favorites WHERE mls_number = ? AND deleted_at IS NULL
           AND (? IS NULL OR board_id IS NULL OR board_id = ?)`,
      )
      .all(mlsNumber, boardId, boardId) as Row[];
    return this.withPeople(rows.map(favoriteFromRow));
  }

  async upsertListing(listing: ListingInput, at: string): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO listings (mls_number, board_id, list_price, status, last_status, summary, updated_at)
         VALUES (@mlsNumber, @boardId, @listPrice, @status, @lastStatus, @summary, @at)
         ON CONFLICT (mls_number, board_id) DO UPDATE SET list_price = excluded.list_price, status = excluded.status,
           last_status = excluded.last_status, summary = excluded.summary, updated_at = excluded.updated_at`,
      )
      .run({ ...listing, boardId: listing.boardId ?? '', summary: JSON.stringify(listing.summary), at });
  }

  async getListing(mlsNumber: string, boardId: string | null): Promise<ListingRecord | null> {
    const row = this.db
      .prepare('SELECT * FROM listings WHERE mls_number = ? AND board_id = ?')
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
    const row = this.db.prepare('SELECT * FROM hook_subscriptions WHERE event = ?').get(event) as Row | undefined;
    if (!row) return null;
    return { event: String(row.event), secret: String(row.secret), createdAt: String(row.created_at) };
  }

  async createHookSubscription(event: string, secret: string, at: string): Promise<boolean> {
    const result = this.db
      .prepare('INSERT INTO hook_subscriptions (event, secret, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
      .run(event, secret, at);
    return result.changes === 1;
  }

  async recordEvent(event: NewEvent): Promise<boolean> {
    const result = this.db
      .prepare(
        `INSERT INTO events (event_id, event, source, path, received_at, verified, payload)
         VALUES (@eventId, @event, @source, @path, @receivedAt, @verified, @payload) ON CONFLICT DO NOTHING`,
      )
      .run({ ...event, verified: event.verified ? 1 : 0 });
    return result.changes === 1;
  }

  async getEvent(eventId: string): Promise<EventRecord | null> {
    const row = this.db.prepare('SELECT * FROM events WHERE event_id = ?').get(eventId) as Row | undefined;
    return row ? eventFromRow(row) : null;
  }

  async setEventOutcome(
    eventId: string,
    outcome: EventOutcome,
    detail: string | null,
    ruleSetVersion: string | null,
    at: string,
  ): Promise<void> {
    this.db
      .prepare(
        'UPDATE events SET outcome = ?, outcome_detail = ?, rule_set_version = ?, finished_at = ? WHERE event_id = ?',
      )
      .run(outcome, detail, ruleSetVersion, at, eventId);
  }

  async listEvents(filter: { since?: string; event?: string; limit?: number }): Promise<EventRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM events WHERE (@since IS NULL OR received_at >= @since) AND (@event IS NULL OR event = @event)
         ORDER BY received_at DESC LIMIT @limit`,
      )
      .all({ since: filter.since ?? null, event: filter.event ?? null, limit: filter.limit ?? 100 }) as Row[];
    return rows.map(eventFromRow);
  }

  async recordDeliveries(deliveries: readonly NewDelivery[], at: string): Promise<void> {
    const insert = this.db.prepare(
      `INSERT INTO deliveries (key, event_id, rule_id, rule_set_version, connector, recipient, created_at, updated_at)
       VALUES (@key, @eventId, @ruleId, @ruleSetVersion, @connector, @recipient, @at, @at) ON CONFLICT DO NOTHING`,
    );
    this.db.transaction(() => {
      for (const delivery of deliveries) insert.run({ ...delivery, at });
    })();
  }

  async getDelivery(key: string): Promise<DeliveryRecord | null> {
    const row = this.db.prepare('SELECT * FROM deliveries WHERE key = ?').get(key) as Row | undefined;
    return row ? deliveryFromRow(row) : null;
  }

  async listDeliveries(eventId: string): Promise<DeliveryRecord[]> {
    const rows = this.db
      .prepare('SELECT * FROM deliveries WHERE event_id = ? ORDER BY created_at, key')
      .all(eventId) as Row[];
    return rows.map(deliveryFromRow);
  }

  async setDeliveryStatus(
    key: string,
    status: DeliveryStatus,
    details: { error?: string | null; receipt?: string | null },
    at: string,
  ): Promise<void> {
    this.db
      .prepare(
        `UPDATE deliveries SET status = @status, attempts = attempts + @attempt,
           last_error = COALESCE(@error, CASE WHEN @status = 'sent' THEN NULL ELSE last_error END),
           receipt = COALESCE(@receipt, receipt), updated_at = @at WHERE key = @key`,
      )
      .run({
        key,
        status,
        attempt: status === 'sending' ? 1 : 0,
        error: details.error ?? null,
        receipt: details.receipt ?? null,
        at,
      });
  }
}
