import type { Store } from './store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

/** Opens the store named by DATABASE_URL: PostgreSQL for `postgres://` URLs, else an SQLite file. */
export async function openStore(databaseUrl: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    const { PostgresStore } = await import('./postgres/postgres-store.js');
    const store = new PostgresStore(databaseUrl);
    await store.migrate();
    return store;
  }
  const file = databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : databaseUrl;
  const store = new SqliteStore(file);
  await store.migrate();
  return store;
}
