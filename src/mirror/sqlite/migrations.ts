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
  {
    version: 2,
    name: 'opt-outs of clients not yet mirrored, rate-limit count of deliveries',
    sql: `
      CREATE TABLE client_opt_outs (
        client_id TEXT PRIMARY KEY,
        opted_out_at TEXT NOT NULL
      );
      INSERT INTO client_opt_outs (client_id, opted_out_at)
        SELECT client_id, opted_out_at FROM clients WHERE opted_out_at IS NOT NULL;
      ALTER TABLE deliveries ADD COLUMN rate_limited_count INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 3,
    name: 'hook secret rotation',
    // The secret replaced by a rotation stays valid until previous_valid_until, so deliveries signed before the
    // rotation still verify during the grace period.
    sql: `
      ALTER TABLE hook_subscriptions ADD COLUMN previous_secret TEXT;
      ALTER TABLE hook_subscriptions ADD COLUMN previous_valid_until TEXT;
      ALTER TABLE hook_subscriptions ADD COLUMN rotated_at TEXT;
    `,
  },
  {
    version: 4,
    name: 'order-tolerant mirror writes and agent tombstones',
    // data_at is the time of the Repliers data a client row holds, apart from updated_at, which opt-outs and
    // deletions also move. A row that only records a deletion or an opt-out has no data yet (NULL).
    sql: `
      ALTER TABLE clients ADD COLUMN data_at TEXT;
      UPDATE clients SET data_at = updated_at WHERE deleted_at IS NULL;
      ALTER TABLE agents ADD COLUMN deleted_at TEXT;
    `,
  },
  {
    version: 5,
    name: 'event subjects, rule traces and replay counts for the admin event log',
    // event_subjects copies received_at from its event so that a filter by listing or client reads one index range
    // in time order. The trigger removes an event's subjects with the event, whoever deletes it.
    sql: `
      ALTER TABLE events ADD COLUMN matched_rules TEXT;
      ALTER TABLE events ADD COLUMN replay_count INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX events_received_id ON events (received_at, event_id);
      CREATE INDEX events_type_received ON events (event, received_at, event_id);
      CREATE INDEX events_outcome_received ON events (outcome, received_at, event_id);
      CREATE TABLE event_subjects (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        received_at TEXT NOT NULL,
        event_id TEXT NOT NULL,
        PRIMARY KEY (kind, value, received_at, event_id)
      );
      CREATE INDEX event_subjects_event ON event_subjects (event_id);
      CREATE TRIGGER events_delete_subjects AFTER DELETE ON events BEGIN
        DELETE FROM event_subjects WHERE event_id = OLD.event_id;
      END;
      CREATE INDEX deliveries_status_updated ON deliveries (status, updated_at);
    `,
  },
  {
    version: 6,
    name: 'favorites and clients keyed by their id without a rowid',
    // A WITHOUT ROWID table keeps each row in the B-tree of its primary key, so a lookup by id is one descent
    // instead of one in the key's index and a second in the rowid table. SQLite cannot change that in place, so
    // both tables are rebuilt with the same columns in the same order and their indexes created again. A WITHOUT
    // ROWID primary key rejects NULL, which the old tables allowed. Such a row could never be found by id, so the
    // copy leaves it out.
    // NOTE: the old tables' pages stay in the file as free pages, reused by later writes; VACUUM returns them.
    sql: `
      CREATE TABLE favorites_v6 (
        favorite_id TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        mls_number TEXT NOT NULL,
        board_id TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        comments TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        deleted_at TEXT
      ) WITHOUT ROWID;
      INSERT INTO favorites_v6 (favorite_id, client_id, mls_number, board_id, tags, comments, created_at, updated_at,
          deleted_at)
        SELECT favorite_id, client_id, mls_number, board_id, tags, comments, created_at, updated_at, deleted_at
        FROM favorites WHERE favorite_id IS NOT NULL;
      DROP TABLE favorites;
      ALTER TABLE favorites_v6 RENAME TO favorites;
      CREATE INDEX favorites_listing ON favorites (mls_number, board_id);
      CREATE INDEX favorites_client ON favorites (client_id);

      CREATE TABLE clients_v6 (
        client_id TEXT PRIMARY KEY,
        agent_id TEXT,
        fname TEXT, lname TEXT, email TEXT, phone TEXT,
        status INTEGER NOT NULL DEFAULT 1,
        external_id TEXT,
        preferences TEXT NOT NULL DEFAULT '{}',
        tags TEXT NOT NULL DEFAULT '[]',
        opted_out_at TEXT,
        deleted_at TEXT,
        updated_at TEXT NOT NULL,
        data_at TEXT
      ) WITHOUT ROWID;
      INSERT INTO clients_v6 (client_id, agent_id, fname, lname, email, phone, status, external_id, preferences, tags,
          opted_out_at, deleted_at, updated_at, data_at)
        SELECT client_id, agent_id, fname, lname, email, phone, status, external_id, preferences, tags,
          opted_out_at, deleted_at, updated_at, data_at
        FROM clients WHERE client_id IS NOT NULL;
      DROP TABLE clients;
      ALTER TABLE clients_v6 RENAME TO clients;
      CREATE INDEX clients_agent ON clients (agent_id);
    `,
  },
];
