/**
 * Times the admin event log's searches on a large SQLite store, and on PostgreSQL when TEST_DATABASE_URL or the
 * local default is reachable. Events with their subjects are seeded first. Then searches by listing, by client, by
 * type and by outcome are timed one page (50 events) at a time. Prints milliseconds per search; asserts nothing.
 *
 *   npx tsx bench/event-search.ts [events, default 100000]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { PostgresStore } from '../src/mirror/postgres/postgres-store.js';
import { SqliteStore } from '../src/mirror/sqlite/sqlite-store.js';
import type { EventSearch, Store } from '../src/mirror/store.js';

const eventCount = Number(process.argv[2] ?? 100_000);
const listings = 5_000;
const clients = 20_000;
const searchesPerKind = 200;

function at(index: number): string {
  return new Date(Date.UTC(2026, 0, 1) + index * 1000).toISOString();
}

async function seed(store: Store): Promise<void> {
  const started = Date.now();
  for (let index = 0; index < eventCount; index += 1) {
    const eventId = `e${index}`;
    await store.recordEvent({
      eventId,
      event: index % 10 === 0 ? 'favorite.created' : 'listing.updated',
      source: 'repliers',
      path: '/webhooks/repliers/listing.updated',
      receivedAt: at(index),
      verified: true,
      payload: '{}',
    });
    await store.recordEventTrace(eventId, {
      matchedRules: ['price-drop-email'],
      subjects: [
        { kind: 'mlsNumber', value: `X${index % listings}` },
        { kind: 'clientId', value: String(index % clients) },
        { kind: 'clientId', value: String((index * 7) % clients) },
      ],
    });
    if (index % 3 === 0) await store.setEventOutcome(eventId, 'routed', '1 delivery', 'v1', at(index));
  }
  console.log(`  seeded ${eventCount} events in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function time(store: Store, label: string, searchFor: (index: number) => EventSearch): Promise<void> {
  const durations: number[] = [];
  let found = 0;
  for (let index = 0; index < searchesPerKind; index += 1) {
    const started = process.hrtime.bigint();
    found += (await store.searchEvents({ ...searchFor(index), limit: 50 })).length;
    durations.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  durations.sort((a, b) => a - b);
  const p50 = durations[Math.floor(durations.length / 2)]!;
  const p99 = durations[Math.floor(durations.length * 0.99)]!;
  console.log(`  ${label.padEnd(28)} p50 ${p50.toFixed(2)} ms  p99 ${p99.toFixed(2)} ms  (${(found / searchesPerKind).toFixed(1)} events per page)`);
}

async function measure(name: string, store: Store): Promise<void> {
  console.log(`${name}:`);
  await store.migrate();
  await seed(store);
  await time(store, 'by listing', (index) => ({ subjects: [{ kind: 'mlsNumber', value: `X${(index * 31) % listings}` }] }));
  await time(store, 'by client', (index) => ({ subjects: [{ kind: 'clientId', value: String((index * 97) % clients) }] }));
  await time(store, 'by listing and client', (index) => ({
    subjects: [
      { kind: 'mlsNumber', value: `X${index % listings}` },
      { kind: 'clientId', value: String(index % clients) },
    ],
  }));
  await time(store, 'by type', () => ({ event: 'favorite.created' }));
  await time(store, 'by outcome, last day', () => ({ outcome: 'routed', since: at(eventCount - 86_400) }));
  await time(store, 'newest, no filter', () => ({}));
}

const directory = mkdtempSync(path.join(tmpdir(), 'hub-bench-search-'));
const sqlite = new SqliteStore(path.join(directory, 'hub.sqlite'));
try {
  await measure('SQLite', sqlite);
} finally {
  await sqlite.close();
  rmSync(directory, { recursive: true, force: true });
}

const databaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `hub_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
try {
  await admin.query(`CREATE SCHEMA ${schema}`);
} catch (error) {
  console.log(`PostgreSQL skipped: ${(error as Error).message}`);
  await admin.end();
  process.exit(0);
}
const url = new URL(databaseUrl);
url.searchParams.set('options', `-c search_path=${schema}`);
const postgres = new PostgresStore(url.toString());
try {
  await measure('PostgreSQL', postgres);
} finally {
  await postgres.close();
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}
