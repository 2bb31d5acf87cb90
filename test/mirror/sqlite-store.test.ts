import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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
});
