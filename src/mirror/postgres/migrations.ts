/**
 * Versioned schema changes for the PostgreSQL store, applied in order and recorded in `schema_migrations`.
 *
 * Tables are created unqualified, so they land in the first schema of the connection's `search_path`. Every text
 * column uses the "C" collation, so that comparisons and ORDER BY follow byte order as in SQLite, whatever collation
 * the database was created with. ISO timestamps stored as text then sort chronologically.
 */
import type pg from 'pg';

export interface PostgresMigration {
  version: number;
  name: string;
  sql: string;
}

export const postgresMigrations: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'mirror, subscriptions, events and deliveries',
    sql: `
      CREATE TABLE agents (
        agent_id text COLLATE "C" PRIMARY KEY,
        fname text COLLATE "C",
        lname text COLLATE "C",
        email text COLLATE "C",
        phone text COLLATE "C",
        brokerage text COLLATE "C",
        external_id text COLLATE "C",
        updated_at text COLLATE "C" NOT NULL
      );
      CREATE TABLE clients (
        client_id text COLLATE "C" PRIMARY KEY,
        agent_id text COLLATE "C",
        fname text COLLATE "C",
        lname text COLLATE "C",
        email text COLLATE "C",
        phone text COLLATE "C",
        status boolean NOT NULL DEFAULT true,
        external_id text COLLATE "C",
        preferences jsonb NOT NULL DEFAULT '{}',
        tags jsonb NOT NULL DEFAULT '[]',
        opted_out_at text COLLATE "C",
        deleted_at text COLLATE "C",
        updated_at text COLLATE "C" NOT NULL
      );
      CREATE INDEX clients_agent ON clients (agent_id);
      CREATE TABLE favorites (
        favorite_id text COLLATE "C" PRIMARY KEY,
        client_id text COLLATE "C" NOT NULL,
        mls_number text COLLATE "C" NOT NULL,
        board_id text COLLATE "C",
        tags jsonb NOT NULL DEFAULT '[]',
        comments text COLLATE "C",
        created_at text COLLATE "C" NOT NULL,
        updated_at text COLLATE "C" NOT NULL,
        deleted_at text COLLATE "C"
      );
      CREATE INDEX favorites_listing ON favorites (mls_number, board_id);
      CREATE INDEX favorites_client ON favorites (client_id);
      CREATE TABLE listings (
        mls_number text COLLATE "C" NOT NULL,
        board_id text COLLATE "C" NOT NULL DEFAULT '',
        list_price double precision,
        status text COLLATE "C",
        last_status text COLLATE "C",
        summary jsonb NOT NULL DEFAULT '{}',
        updated_at text COLLATE "C" NOT NULL,
        PRIMARY KEY (mls_number, board_id)
      );
      CREATE TABLE hook_subscriptions (
        event text COLLATE "C" PRIMARY KEY,
        secret text COLLATE "C" NOT NULL,
        created_at text COLLATE "C" NOT NULL
      );
      CREATE TABLE events (
        event_id text COLLATE "C" PRIMARY KEY,
        event text COLLATE "C" NOT NULL,
        source text COLLATE "C" NOT NULL,
        path text COLLATE "C" NOT NULL,
        received_at text COLLATE "C" NOT NULL,
        verified boolean NOT NULL,
        payload text COLLATE "C" NOT NULL,
        outcome text COLLATE "C" NOT NULL DEFAULT 'received',
        outcome_detail text COLLATE "C",
        rule_set_version text COLLATE "C",
        finished_at text COLLATE "C"
      );
      CREATE INDEX events_received ON events (received_at);
      CREATE TABLE deliveries (
        key text COLLATE "C" PRIMARY KEY,
        event_id text COLLATE "C" NOT NULL,
        rule_id text COLLATE "C" NOT NULL,
        rule_set_version text COLLATE "C" NOT NULL,
        connector text COLLATE "C" NOT NULL,
        recipient text COLLATE "C" NOT NULL,
        status text COLLATE "C" NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        last_error text COLLATE "C",
        receipt text COLLATE "C",
        created_at text COLLATE "C" NOT NULL,
        updated_at text COLLATE "C" NOT NULL
      );
      CREATE INDEX deliveries_event ON deliveries (event_id);
    `,
  },
  {
    version: 2,
    name: 'opt-outs of clients not yet mirrored, rate-limit count of deliveries',
    sql: `
      CREATE TABLE client_opt_outs (
        client_id text COLLATE "C" PRIMARY KEY,
        opted_out_at text COLLATE "C" NOT NULL
      );
      INSERT INTO client_opt_outs (client_id, opted_out_at)
        SELECT client_id, opted_out_at FROM clients WHERE opted_out_at IS NOT NULL;
      ALTER TABLE deliveries ADD COLUMN rate_limited_count integer NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 3,
    name: 'hook secret rotation',
    // The secret replaced by a rotation stays valid until previous_valid_until, so deliveries signed before the
    // rotation still verify during the grace period.
    sql: `
      ALTER TABLE hook_subscriptions ADD COLUMN previous_secret text COLLATE "C";
      ALTER TABLE hook_subscriptions ADD COLUMN previous_valid_until text COLLATE "C";
      ALTER TABLE hook_subscriptions ADD COLUMN rotated_at text COLLATE "C";
    `,
  },
  {
    version: 4,
    name: 'order-tolerant mirror writes and agent tombstones',
    // data_at is the time of the Repliers data a client row holds, apart from updated_at, which opt-outs and
    // deletions also move. A row that only records a deletion or an opt-out has no data yet (NULL).
    sql: `
      ALTER TABLE clients ADD COLUMN data_at text COLLATE "C";
      UPDATE clients SET data_at = updated_at WHERE deleted_at IS NULL;
      ALTER TABLE agents ADD COLUMN deleted_at text COLLATE "C";
    `,
  },
  {
    version: 5,
    name: 'event subjects, rule traces and replay counts for the admin event log',
    // event_subjects copies received_at from its event so that a filter by listing or client reads one index range
    // in time order. The foreign key removes an event's subjects with the event, whoever deletes it.
    sql: `
      ALTER TABLE events ADD COLUMN matched_rules text COLLATE "C";
      ALTER TABLE events ADD COLUMN replay_count integer NOT NULL DEFAULT 0;
      CREATE INDEX events_received_id ON events (received_at, event_id);
      CREATE INDEX events_type_received ON events (event, received_at, event_id);
      CREATE INDEX events_outcome_received ON events (outcome, received_at, event_id);
      CREATE TABLE event_subjects (
        kind text COLLATE "C" NOT NULL,
        value text COLLATE "C" NOT NULL,
        received_at text COLLATE "C" NOT NULL,
        event_id text COLLATE "C" NOT NULL REFERENCES events (event_id) ON DELETE CASCADE,
        PRIMARY KEY (kind, value, received_at, event_id)
      );
      CREATE INDEX event_subjects_event ON event_subjects (event_id);
      CREATE INDEX deliveries_status_updated ON deliveries (status, updated_at);
    `,
  },
];

/**
 * Key of the transaction-scoped advisory lock that serialises migration runs. Any fixed number works as long as no
 * other code using the same database takes an advisory lock with it.
 */
const migrationLockKey = '7236828311020168801';

/**
 * Applies the pending migrations in one transaction and returns the versions it applied.
 *
 * The transaction first takes an advisory lock, so a second process that starts at the same time waits here, then
 * finds the versions already recorded and applies nothing. A failing migration rolls back every change of the run,
 * including the creation of `schema_migrations`.
 */
export async function applyPostgresMigrations(
  pool: pg.Pool,
  migrations: readonly PostgresMigration[] = postgresMigrations,
): Promise<number[]> {
  const client = await pool.connect();
  let connectionBroken = false;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [migrationLockKey]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.version));

    const appliedNow: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      appliedNow.push(migration.version);
    }

    await client.query('COMMIT');
    return appliedNow;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch {
      // The migration error is rethrown below. A connection that cannot roll back is destroyed, not reused.
      connectionBroken = true;
    }
    throw error;
  } finally {
    client.release(connectionBroken);
  }
}
