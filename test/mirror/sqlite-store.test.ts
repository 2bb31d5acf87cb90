import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { sqliteMigrations } from '../../src/mirror/sqlite/migrations.js';
import { SqliteStore } from '../../src/mirror/sqlite/sqlite-store.js';
import type { Store } from '../../src/mirror/store.js';
import { describeEventRetentionContract } from './event-retention-contract.js';
import { describeHookRotationContract } from './hook-rotation-contract.js';
import { describeOrderContract } from './order-contract.js';
import { describeStoreContract } from './store-contract.js';

/** Temporary directory of each open store, removed once the store is closed. */
const directories = new Map<Store, string>();

function openFresh(): SqliteStore {
  const directory = mkdtempSync(path.join(tmpdir(), 'hub-sqlite-'));
  const store = new SqliteStore(path.join(directory, 'hub.db'));
  directories.set(store, directory);
  return store;
}

async function removeDirectory(store: Store): Promise<void> {
  const directory = directories.get(store);
  directories.delete(store);
  if (directory) rmSync(directory, { recursive: true, force: true });
}

describeStoreContract('SqliteStore', async () => openFresh(), removeDirectory);
describeOrderContract('SqliteStore', async () => openFresh(), removeDirectory);
describeHookRotationContract('SqliteStore', async () => openFresh(), removeDirectory);
describeEventRetentionContract('SqliteStore', async () => openFresh(), removeDirectory);

describe('SqliteStore', () => {
  it('kind is sqlite', async () => {
    const store = openFresh();
    try {
      expect(store.kind).toBe('sqlite');
    } finally {
      await store.close();
      await removeDirectory(store);
    }
  });

  it('second store on the same file migrates safely', async () => {
    const first = openFresh();
    const file = path.join(directories.get(first) ?? '', 'hub.db');
    const second = new SqliteStore(file);
    try {
      await Promise.all([first.migrate(), second.migrate()]);
      await first.upsertAgent(
        {
          agentId: 'a1',
          fname: null,
          lname: null,
          email: null,
          phone: null,
          brokerage: null,
          externalId: null,
        },
        '2024-05-01T10:00:00.000Z',
      );

      expect((await second.getAgents(['a1'])).size).toBe(1);
    } finally {
      await second.close();
      await first.close();
      await removeDirectory(first);
    }
  });

  it('migration 6 keeps favorites and clients', async () => {
    const store = openFresh();
    const file = path.join(directories.get(store) ?? '', 'hub.db');
    // The file is brought to version 5 by hand, as a hub released before version 6 left it.
    const older = new Database(file);
    older.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const migration of sqliteMigrations.filter((candidate) => candidate.version <= 5)) {
      older.exec(migration.sql);
      older
        .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
        .run(migration.version, migration.name, '2024-05-01T00:00:00.000Z');
    }
    older.close();
    try {
      const at = '2024-05-01T10:00:00.000Z';
      const later = '2024-05-02T10:00:00.000Z';
      const client = (clientId: string) => ({
        clientId,
        agentId: 'a1',
        fname: 'Ada',
        lname: clientId,
        email: `${clientId}@mail.example`,
        phone: null,
        status: true,
        externalId: null,
        preferences: { email: true },
        tags: ['buyer'],
      });
      const favorite = (favoriteId: string, clientId: string) => ({
        favoriteId,
        clientId,
        mlsNumber: 'X1',
        boardId: '12',
        tags: ['short-list'],
        comments: 'Close to the park',
      });
      await store.upsertAgent(
        { agentId: 'a1', fname: 'Maya', lname: null, email: null, phone: null, brokerage: null, externalId: null },
        at,
      );
      await store.upsertClient(client('c1'), at);
      await store.upsertClient(client('c2'), at);
      await store.recordOptOut('c2', later);
      await store.applyFavoriteCreated(favorite('f1', 'c1'), at);
      await store.applyFavoriteCreated(favorite('f2', 'c2'), at);
      await store.applyFavoriteDeleted({ favoriteId: 'f2' }, later);
      await store.deleteClient('c3', later);
      const favoritesBefore = await store.getFavorites(['f1', 'f2']);
      const clientsBefore = await store.getClients(['c1', 'c2', 'c3']);

      await store.migrate();

      expect(await store.getFavorites(['f1', 'f2'])).toEqual(favoritesBefore);
      expect(await store.getClients(['c1', 'c2', 'c3'])).toEqual(clientsBefore);
      expect(clientsBefore.size).toBe(3);
      expect(favoritesBefore.size).toBe(2);
      const check = new Database(file, { readonly: true });
      try {
        const tables = check
          .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name IN ('favorites', 'clients')")
          .all() as { name: string; sql: string }[];
        expect(tables.map((table) => table.name).sort()).toEqual(['clients', 'favorites']);
        for (const table of tables) expect(table.sql).toMatch(/WITHOUT ROWID/);
      } finally {
        check.close();
      }
      // The rebuilt tables take upserts by their primary keys again.
      await store.applyFavoriteCreated(favorite('f3', 'c1'), later);
      const ofListing = await store.getFavoritesOfListing('X1', '12');
      expect(ofListing.map((entry) => entry.favorite.favoriteId).sort()).toEqual(['f1', 'f3']);
    } finally {
      await store.close();
      await removeDirectory(store);
    }
  });
});
