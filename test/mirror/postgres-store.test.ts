/**
 * Runs the store contract on PostgreSQL at TEST_DATABASE_URL. Each run of this file works in its own schema,
 * `hub_test_<random hex>`, which it creates first and drops at the end. The stores select that schema through the
 * URL's `options=-c search_path=…` parameter, as a deployment would.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyPostgresMigrations, postgresMigrations } from '../../src/mirror/postgres/migrations.js';
import { PostgresStore } from '../../src/mirror/postgres/postgres-store.js';
import { describeEventRetentionContract } from './event-retention-contract.js';
import { describeHookRotationContract } from './hook-rotation-contract.js';
import { describeOrderContract } from './order-contract.js';
import { describeStoreContract } from './store-contract.js';

const databaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `hub_test_${randomBytes(6).toString('hex')}`;

function withSearchPath(url: string, searchPath: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${searchPath}`);
  return parsed.toString();
}

const storeUrl = withSearchPath(databaseUrl, schema);
const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });

async function resetSchema(): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
}

beforeAll(resetSchema);

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

describeStoreContract('PostgresStore', async () => new PostgresStore(storeUrl), resetSchema);
describeOrderContract('PostgresStore', async () => new PostgresStore(storeUrl), resetSchema);
describeHookRotationContract('PostgresStore', async () => new PostgresStore(storeUrl), resetSchema);
describeEventRetentionContract('PostgresStore', async () => new PostgresStore(storeUrl), resetSchema);

describe('PostgresStore', () => {
  beforeEach(resetSchema);

  it('kind is postgres', async () => {
    const store = new PostgresStore(storeUrl);
    await store.close();

    expect(store.kind).toBe('postgres');
  });

  it('migrate creates tables in the URL schema', async () => {
    const store = new PostgresStore(storeUrl);
    try {
      await store.migrate();
    } finally {
      await store.close();
    }

    const { rows } = await admin.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [schema],
    );
    expect(rows.map((row) => row.table_name)).toEqual([
      'agents',
      'client_opt_outs',
      'clients',
      'deliveries',
      'event_subjects',
      'events',
      'favorites',
      'hook_subscriptions',
      'listings',
      'schema_migrations',
    ]);
  });

  it('concurrent migrate applies each version once', async () => {
    const stores = Array.from({ length: 4 }, () => new PostgresStore(storeUrl));
    try {
      await Promise.all(stores.map((store) => store.migrate()));
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }

    const { rows } = await admin.query<{ version: number; name: string }>(
      `SELECT version, name FROM ${schema}.schema_migrations ORDER BY version`,
    );
    expect(rows).toEqual(postgresMigrations.map(({ version, name }) => ({ version, name })));
  });

  it('applyPostgresMigrations returns versions applied', async () => {
    const pool = new pg.Pool({ connectionString: storeUrl, max: 1 });
    try {
      expect(await applyPostgresMigrations(pool)).toEqual(postgresMigrations.map((migration) => migration.version));
      expect(await applyPostgresMigrations(pool)).toEqual([]);
    } finally {
      await pool.end();
    }
  });

  it('failed migration rolls back the run', async () => {
    const pool = new pg.Pool({ connectionString: storeUrl, max: 1 });
    const migrations = [
      { version: 1, name: 'first step', sql: 'CREATE TABLE first_step (id integer)' },
      { version: 2, name: 'broken step', sql: 'SELECT * FROM table_that_does_not_exist' },
    ];
    try {
      await expect(applyPostgresMigrations(pool, migrations)).rejects.toThrow(/table_that_does_not_exist/);
      // The pool's single connection must be usable again after the rollback.
      await expect(pool.query('SELECT 1')).resolves.toBeDefined();
    } finally {
      await pool.end();
    }

    const { rows } = await admin.query<{ first: string | null; record: string | null }>(
      'SELECT to_regclass($1)::text AS first, to_regclass($2)::text AS record',
      [`${schema}.first_step`, `${schema}.schema_migrations`],
    );
    expect(rows[0]).toEqual({ first: null, record: null });
  });

  it('migrate rejects a missing schema', async () => {
    const store = new PostgresStore(withSearchPath(databaseUrl, `${schema}_missing`));
    try {
      await expect(store.migrate()).rejects.toThrow(/no schema has been selected/);
    } finally {
      await store.close();
    }
  });

  it('text containing NUL is rejected', async () => {
    const store = new PostgresStore(storeUrl);
    try {
      await store.migrate();

      const write = store.createHookSubscription('favorite.created', 'a\u0000b', '2024-05-01T10:00:00Z');

      await expect(write).rejects.toThrow();
      expect(await store.getHookSubscription('favorite.created')).toBeNull();
    } finally {
      await store.close();
    }
  });
});
