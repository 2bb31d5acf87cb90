import type { Store } from './store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { mask } from '../config/settings.js';

/** Error for a store named by DATABASE_URL that cannot be opened or migrated. Its message names what to check. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

/** Turns a PostgreSQL connection or migration error into a message that names the fix. */
function postgresProblem(databaseUrl: string, error: unknown): StoreUnavailableError {
  const details = error as { code?: string; message?: string };
  const where = mask(databaseUrl);
  const reason = details.message ?? String(error);
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || '(the default database)';
  let fix: string;
  switch (details.code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
      fix = 'Start PostgreSQL (`docker compose up -d postgres`) or correct the host and port in DATABASE_URL.';
      break;
    case '3D000':
      fix = `Create the database first (\`createdb ${database}\`) or name an existing one in DATABASE_URL.`;
      break;
    case '3F000':
      fix = 'The schema named by search_path in DATABASE_URL does not exist: create it first (CREATE SCHEMA <name>) or drop the options parameter.';
      break;
    case '28P01':
    case '28000':
      fix = 'PostgreSQL rejected the user or password in DATABASE_URL.';
      break;
    case '42501':
      fix = "The user in DATABASE_URL may not create tables in this database or schema: grant it CREATE or use the schema's owner.";
      break;
    default:
      fix = /timeout/i.test(reason)
        ? 'Check that PostgreSQL runs and is reachable at the host and port in DATABASE_URL.'
        : 'Check DATABASE_URL and the PostgreSQL server log.';
  }
  return new StoreUnavailableError(`cannot open the PostgreSQL store at ${where} (${reason}). ${fix}`, { cause: error });
}

/**
 * Opens the store named by DATABASE_URL (PostgreSQL for `postgres://` URLs, else an SQLite file) and applies its
 * migrations. Throws StoreUnavailableError when it cannot.
 */
export async function openStore(databaseUrl: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    const { PostgresStore } = await import('./postgres/postgres-store.js');
    const store = new PostgresStore(databaseUrl);
    try {
      await store.migrate();
    } catch (error) {
      await store.close().catch(() => {});
      throw postgresProblem(databaseUrl, error);
    }
    return store;
  }

  const file = databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : databaseUrl;
  let store: SqliteStore;
  try {
    store = new SqliteStore(file);
    await store.migrate();
  } catch (error) {
    const reason = (error as Error).message ?? String(error);
    throw new StoreUnavailableError(
      `cannot open the SQLite store at ${file} (${reason}). Check DATABASE_URL, and that its folder exists or can be created and is writable.`,
      { cause: error },
    );
  }
  return store;
}
