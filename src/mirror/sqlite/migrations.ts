/** Versioned schema changes for the SQLite store, applied in order and recorded in `schema_migrations`. */
export const sqliteMigrations: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'mirror, subscriptions, events and deliveries',
    sql: `
      CREATE TABLE agents (
        agent_id TEXT PRIMARY KEY,
        fname TEXT, lname TEXT, email TEXT, phone TEXT, brokerage TEXT, external_id TEXT,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE clients (
        client_id TEXT PRIMARY KEY,
        agent_id TEXT,
        fname TEXT, lname TEXT, email TEXT, phone TEXT,
        status INTEGER NOT NULL DEFAULT 1,
        external_id TEXT,
        preferences TEXT NOT NULL DEFAULT '{}',
        tags TEXT NOT NULL DEFAULT '[]',
        opted_out_at TEXT,
        deleted_at TEXT,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX clients_agent ON clients (agent_id);
      CREATE TABLE favorites (
        favorite_id TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        mls_number TEXT NOT NULL,
        board_id TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        comments TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        deleted_at TEXT
      );
      CREATE INDEX favorites_listing ON favorites (mls_number, board_id);
      CREATE INDEX favorites_client ON favorites (client_id);
      CREATE TABLE listings (
        mls_number TEXT NOT NULL,
        board_id TEXT NOT NULL DEFAULT '',
        list_price REAL,
        status TEXT,
        last_status TEXT,
        summary TEXT NOT NULL DEFAULT '{}',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (mls_number, board_id)
      );
      CREATE TABLE hook_subscriptions (
        event TEXT PRIMARY KEY,
        secret TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE events (
        event_id TEXT PRIMARY KEY,
        event TEXT NOT NULL,
        source TEXT NOT NULL,
        path TEXT NOT NULL,
        received_at TEXT NOT NULL,
        verified INTEGER NOT NULL,
        payload TEXT NOT NULL,
        outcome TEXT NOT NULL DEFAULT 'received',
        outcome_detail TEXT,
        rule_set_version TEXT,
        finished_at TEXT
      );
      CREATE INDEX events_received ON events (received_at);
      CREATE TABLE deliveries (
        key TEXT PRIMARY KEY,
        event_id TEXT NOT NULL,
        rule_id TEXT NOT NULL,
        rule_set_version TEXT NOT NULL,
        connector TEXT NOT NULL,
        recipient TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        receipt TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX deliveries_event ON deliveries (event_id);
    `,
  },
];
