/**
 * Measures how long each store takes to look up 10,000 favoriteIds with their clients and agents
 * (`Store.getFavorites`), the read that routes a listing.updated, with 1,000,000 favorites of 200,000 clients of
 * 2,000 agents in the store. The goal is 50 ms or less on both stores.
 *
 * Run with `npm run bench:mirror`. It takes a few minutes, most of it loading. SQLite works on a file in a new
 * temporary folder; PostgreSQL (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test) in a new
 * schema `bench_mirror_<hex>`. Both are removed at the end. MIRROR_BENCH_STORES=sqlite or =postgres runs one.
 *
 * The rows are written with plain SQL in bulk, in the shape the store writes, because one store call per row would
 * take far longer than the lookups measured. PostgreSQL is vacuumed and analysed after loading, as
 * autovacuum would do on a table this size. Each round looks up 10,000 different random ids, 1% of them unknown.
 *
 * Besides wall time it prints CPU time: this process's, plus for PostgreSQL that of the server process serving the
 * store's connection (Linux only, from /proc/<pid>/schedstat). A lookup runs on one core at a time, so on an idle
 * machine its wall time is about its CPU time; on a busy one, compare CPU times, and the printed load average shows
 * how busy it was.
 *
 * It also prints a floor: the time each database takes only to find the same favorites, and then their clients, by
 * key, counting them instead of returning them. No store built on these tables can look the rows up faster.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PostgresStore } from '../src/mirror/postgres/postgres-store.js';
import { SqliteStore } from '../src/mirror/sqlite/sqlite-store.js';
import type { Store } from '../src/mirror/store.js';

const favoriteCount = 1_000_000;
const clientCount = 200_000;
const agentCount = 2_000;
const lookupSize = 10_000;
const warmupRounds = 3;
const rounds = 20;
const at = '2024-05-01T10:00:00.000Z';

const favoriteId = (index: number): string => String(90_000_000 + index);
const clientId = (index: number): string => String(5_000_000 + index);
const agentId = (index: number): string => String(100_000 + index);
/** Favorites are spread over clients by a multiplier, so that neighbouring favorite ids belong to far clients. */
const clientOfFavorite = (index: number): number => (index * 7919) % clientCount;

function randomIds(): string[] {
  const ids: string[] = [];
  for (let index = 0; index < lookupSize; index++) {
    const unknown = index % 100 === 99;
    ids.push(unknown ? `missing-${index}` : favoriteId(Math.floor(Math.random() * favoriteCount)));
  }
  return ids;
}

function elapsed(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** CPU time this process has used, in milliseconds. */
function processCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Returns a reader of the CPU time a local process has run, in milliseconds, or null where /proc is missing. */
function cpuOfProcess(pid: number): (() => number) | null {
  const file = `/proc/${pid}/schedstat`;
  try {
    readFileSync(file);
  } catch {
    return null;
  }
  // The first field is the time spent running on a CPU, in nanoseconds.
  return () => Number(readFileSync(file, 'utf8').split(' ')[0]) / 1e6;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Counts the rows of `table` whose `key` is one of `ids`, finding them exactly as the store's lookup does. */
type CountByKey = (table: 'favorites' | 'clients', key: string, ids: readonly string[]) => Promise<number>;

interface MeasuredStore {
  label: string;
  store: Store;
  countByKey: CountByKey;
  /** Reader of the CPU time of the server process serving the store, where there is one. */
  serverCpuMs?: (() => number) | null;
  /** Settings of the database worth printing beside its figures. */
  settings?: string;
}

async function measure({ label, store, countByKey, serverCpuMs = null, settings = '' }: MeasuredStore): Promise<void> {
  for (let round = 0; round < warmupRounds; round++) await store.getFavorites(randomIds());

  const times: number[] = [];
  const cpuTimes: number[] = [];
  const serverTimes: number[] = [];
  const favoriteFloors: number[] = [];
  const clientFloors: number[] = [];
  let found = 0;
  const loadBefore = os.loadavg()[0]!;
  for (let round = 0; round < rounds; round++) {
    const ids = randomIds();
    const cpuBefore = processCpuMs();
    const serverBefore = serverCpuMs?.() ?? 0;
    const start = process.hrtime.bigint();
    const result = await store.getFavorites(ids);
    times.push(elapsed(start));
    cpuTimes.push(processCpuMs() - cpuBefore);
    serverTimes.push((serverCpuMs?.() ?? 0) - serverBefore);
    found = result.size;
    const sample = result.get(ids[0]!);
    if (!sample?.client || !sample.agent) throw new Error(`${label}: favorite ${ids[0]} came back without its people`);

    const clientIds = [...new Set([...result.values()].map((entry) => entry.favorite.clientId))];
    let floorStart = process.hrtime.bigint();
    const favoritesCounted = await countByKey('favorites', 'favorite_id', [...new Set(ids)]);
    favoriteFloors.push(elapsed(floorStart));
    floorStart = process.hrtime.bigint();
    const clientsCounted = await countByKey('clients', 'client_id', clientIds);
    clientFloors.push(elapsed(floorStart));
    if (favoritesCounted !== result.size || clientsCounted !== clientIds.length) {
      throw new Error(`${label}: the floor query counted ${favoritesCounted} favorites and ${clientsCounted} clients, the lookup found ${result.size} and ${clientIds.length}`);
    }
  }
  times.sort((a, b) => a - b);
  const pick = (share: number): string => times[Math.min(times.length - 1, Math.floor(share * times.length))]!.toFixed(1);
  const server = serverCpuMs ? ` + server ${median(serverTimes).toFixed(1)} ms` : '';
  console.log(
    `${label.padEnd(10)} getFavorites of ${lookupSize.toLocaleString('en-US')} ids (${found.toLocaleString('en-US')} found): ` +
      `wall median ${pick(0.5)} ms, p90 ${pick(0.9)} ms, best ${times[0]!.toFixed(1)} ms over ${rounds} rounds; ` +
      `CPU median ${median(cpuTimes).toFixed(1)} ms${server}; load average ${loadBefore.toFixed(1)} to ` +
      `${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs`,
  );
  console.log(
    `${''.padEnd(10)} floor: finding the favorites by key, counting them, median ${median(favoriteFloors).toFixed(1)} ms, ` +
      `then their clients ${median(clientFloors).toFixed(1)} ms${settings}`,
  );
}

function loadSqlite(file: string): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const agent = db.prepare(
    'INSERT INTO agents (agent_id, fname, lname, email, phone, brokerage, external_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const client = db.prepare(
    `INSERT INTO clients (client_id, agent_id, fname, lname, email, phone, status, external_id, preferences, tags,
       updated_at, data_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, '{"email":true}', '["buyer"]', ?, ?)`,
  );
  const favorite = db.prepare(
    `INSERT INTO favorites (favorite_id, client_id, mls_number, board_id, tags, comments, created_at, updated_at)
     VALUES (?, ?, ?, '12', '[]', ?, ?, ?)`,
  );
  db.transaction(() => {
    for (let index = 0; index < agentCount; index++) {
      agent.run(agentId(index), 'Maya', `Agent${index}`, `agent${index}@brokerage.example`, '16135550100', 'North Realty', `crm-${index}`, at);
    }
    for (let index = 0; index < clientCount; index++) {
      const id = clientId(index);
      client.run(id, agentId(index % agentCount), 'Ada', `Client${index}`, `client${index}@mail.example`, '16135550199', `crm-${id}`, at, at);
    }
    for (let index = 0; index < favoriteCount; index++) {
      const comments = index % 10 === 0 ? 'Close to the park' : null;
      favorite.run(favoriteId(index), clientId(clientOfFavorite(index)), `X${index % 50_000}`, comments, at, at);
    }
  })();
  db.close();
}

async function benchSqlite(): Promise<void> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'bench-mirror-'));
  try {
    const file = path.join(directory, 'hub.sqlite');
    const store = new SqliteStore(file);
    await store.migrate();
    await store.close();

    const start = process.hrtime.bigint();
    loadSqlite(file);
    console.log(`sqlite     loaded in ${(elapsed(start) / 1000).toFixed(1)} s`);

    const loaded = new SqliteStore(file);
    const counter = new Database(file, { readonly: true });
    // The store's own page cache and mmap settings, so the count reads as the store does.
    counter.pragma('cache_size = -65536');
    counter.pragma('mmap_size = 268435456');
    // Prepared before timing, as the store prepares its reads once.
    const counts = {
      favorites: counter.prepare('SELECT count(*) AS n FROM json_each(?) AS wanted JOIN favorites t ON t.favorite_id = wanted.value'),
      clients: counter.prepare('SELECT count(*) AS n FROM json_each(?) AS wanted JOIN clients t ON t.client_id = wanted.value'),
    };
    const countByKey: CountByKey = async (table, _key, ids) =>
      (counts[table].get(JSON.stringify([...ids].sort())) as { n: number }).n;
    try {
      await measure({ label: 'sqlite', store: loaded, countByKey });
    } finally {
      counter.close();
      await loaded.close();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

async function benchPostgres(): Promise<void> {
  const databaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `bench_mirror_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  url.searchParams.set('application_name', schema);
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
    const store = new PostgresStore(url.toString());
    await store.migrate();
    await store.close();

    const start = process.hrtime.bigint();
    await admin.query(`SET search_path = ${schema}`);
    await admin.query(
      `INSERT INTO agents (agent_id, fname, lname, email, phone, brokerage, external_id, updated_at)
       SELECT (100000 + g)::text, 'Maya', 'Agent' || g, 'agent' || g || '@brokerage.example', '16135550100',
         'North Realty', 'crm-' || g, $1
       FROM generate_series(0, $2 - 1) g`,
      [at, agentCount],
    );
    await admin.query(
      `INSERT INTO clients (client_id, agent_id, fname, lname, email, phone, status, external_id, preferences, tags,
         updated_at, data_at)
       SELECT (5000000 + g)::text, (100000 + g % $2)::text, 'Ada', 'Client' || g, 'client' || g || '@mail.example',
         '16135550199', true, 'crm-' || (5000000 + g), '{"email":true}', '["buyer"]', $1, $1
       FROM generate_series(0, $3 - 1) g`,
      [at, agentCount, clientCount],
    );
    await admin.query(
      `INSERT INTO favorites (favorite_id, client_id, mls_number, board_id, tags, comments, created_at, updated_at)
       SELECT (90000000 + g)::text, (5000000 + (g::bigint * 7919) % $2)::text, 'X' || (g % 50000), '12', '[]',
         CASE WHEN g % 10 = 0 THEN 'Close to the park' END, $1, $1
       FROM generate_series(0, $3 - 1) g`,
      [at, clientCount, favoriteCount],
    );
    await admin.query('VACUUM ANALYZE agents, clients, favorites');
    console.log(`postgres   loaded in ${(elapsed(start) / 1000).toFixed(1)} s (schema ${schema})`);

    // One connection, so that the server process whose CPU time is read is the one serving every lookup.
    const loaded = new PostgresStore(url.toString(), { maxConnections: 1 });
    try {
      await loaded.ping();
      const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [
        schema,
      ]);
      const countByKey: CountByKey = async (table, key, ids) => {
        const counted = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${key} = ANY($1::text[])`, [ids]);
        return Number(counted.rows[0]!.n);
      };
      const { rows: buffers } = await admin.query<{ shared_buffers: string }>('SHOW shared_buffers');
      await measure({
        label: 'postgres',
        store: loaded,
        countByKey,
        serverCpuMs: rows.length === 1 ? cpuOfProcess(rows[0]!.pid) : null,
        settings: `; server shared_buffers ${buffers[0]!.shared_buffers}`,
      });
    } finally {
      await loaded.close();
    }
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

/** Names MIRROR_BENCH_STORES accepts; a name outside them would otherwise measure nothing and exit 0. */
const storeNames = ['sqlite', 'postgres'];
const storesSetting = process.env.MIRROR_BENCH_STORES ?? storeNames.join(',');
const stores = storesSetting
  .split(',')
  .map((name) => name.trim())
  .filter((name) => name !== '');
if (stores.length === 0 || stores.some((name) => !storeNames.includes(name))) {
  console.error(`MIRROR_BENCH_STORES must be sqlite, postgres or sqlite,postgres, in lower case; got "${storesSetting}".`);
  process.exit(1);
}

console.log(
  `${favoriteCount.toLocaleString('en-US')} favorites, ${clientCount.toLocaleString('en-US')} clients, ` +
    `${agentCount.toLocaleString('en-US')} agents; Node ${process.version}, ${os.cpus().length} CPUs`,
);
if (stores.includes('sqlite')) await benchSqlite();
if (stores.includes('postgres')) await benchPostgres();
