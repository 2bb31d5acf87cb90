/**
 * The mirror equals Repliers after any history: random creates, updates and deletes of agents, clients and
 * favorites, delivered as webhooks that are lost, repeated and reordered, then one reconcile against the Repliers
 * stand-in over HTTP. Runs on both stores.
 *
 * SQLite runs MIRROR_PROPERTY_RUNS histories (10,000 by default), each on its own in-memory database. PostgreSQL
 * runs up to MIRROR_PROPERTY_RUNS_PG histories (10,000 by default) for at most MIRROR_PROPERTY_SECONDS_PG seconds
 * (60 by default), on one schema emptied between histories. Each test prints how many histories it ran.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRepliersStandIn, type RepliersStandIn } from '../../src/demo/repliers-stand-in.js';
import { createLogger } from '../../src/logger.js';
import { PostgresStore } from '../../src/mirror/postgres/postgres-store.js';
import { SqliteStore } from '../../src/mirror/sqlite/sqlite-store.js';
import type { Store } from '../../src/mirror/store.js';
import { RepliersApi } from '../../src/repliers/api-client.js';
import { reconcileMirror } from '../../src/sync/reconcile-mirror.js';
import { applyToMirror } from '../../src/workers/apply-to-mirror.js';
import {
  deliveryOrder,
  expectDeliveredEventsApplied,
  expectMirrorEqualsTruth,
  historyArbitrary,
  Truth,
  type History,
} from './mirror-history.js';

const logger = createLogger('silent');

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number of 1 or more; got "${raw}"`);
  return value;
}

let standIn: RepliersStandIn;
let repliers: RepliersApi;

beforeAll(async () => {
  standIn = await startRepliersStandIn({ listings: [], agents: [], clients: [], favorites: [] });
  repliers = new RepliersApi({ baseUrl: standIn.url, apiKey: standIn.apiKey, maxRetries: 0 });
});

afterAll(async () => {
  await standIn?.close();
});

/**
 * Plays one history into `store`, checks what the delivered events alone must show, and reconciles. Every tenth
 * history also replays all deliveries, which must change nothing, and reconciles twice, where the second must find
 * no drift.
 */
async function checkHistory(store: Store, history: History, thorough: boolean): Promise<void> {
  const truth = new Truth(history.intents);
  Object.assign(standIn.world, truth.world());
  standIn.requests.length = 0;

  const received = deliveryOrder(truth.events, history.deliveries);
  const deps = { store, repliers: null, logger };
  for (const delivery of received) await applyToMirror(deps, delivery.event, delivery.data, delivery.at);
  await expectDeliveredEventsApplied(store, truth, new Set(received));

  if (thorough) {
    const before = await snapshot(store, truth);
    for (const delivery of received) await applyToMirror(deps, delivery.event, delivery.data, delivery.at);
    expect(await snapshot(store, truth), 'replaying every delivery changed the mirror').toEqual(before);
  }

  const report = await reconcileMirror({ store, repliers, logger, concurrency: 2 });
  expect(report.clients.conflict + report.favorites.conflict, 'conflicts').toBe(0);
  expect(report.failedClients).toBe(0);
  await expectMirrorEqualsTruth(store, truth);

  if (thorough) {
    const again = await reconcileMirror({ store, repliers, logger, concurrency: 2 });
    const drift = [again.agents, again.clients, again.favorites].map(({ read: _read, ...counts }) => counts);
    expect(drift, 'second reconcile found drift').toEqual(Array(3).fill({ added: 0, changed: 0, removed: 0, conflict: 0 }));
  }
}

async function snapshot(store: Store, truth: Truth): Promise<unknown> {
  const ids = (start: number) => Array.from({ length: 4 }, (_, index) => String(start + index));
  return {
    agents: [...(await store.getAgents(ids(101)))].sort(),
    clients: [...(await store.getClients(ids(5001)))].sort(),
    favorites: [...(await store.getFavorites(truth.favoriteIds()))].sort(),
  };
}

describe('mirror property', () => {
  it('equals Repliers after any history on SQLite', async () => {
    const runs = positiveNumber('MIRROR_PROPERTY_RUNS', 10_000);
    let ran = 0;
    const started = Date.now();

    await fc.assert(
      fc.asyncProperty(historyArbitrary, async (history) => {
        const store = new SqliteStore(':memory:');
        try {
          await store.migrate();
          await checkHistory(store, history, ran % 10 === 0);
        } finally {
          ran += 1;
          await store.close();
        }
      }),
      { numRuns: runs },
    );

    console.log(`mirror property: ${ran} histories on SQLite in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(ran).toBeGreaterThanOrEqual(runs);
  }, 900_000);

  describe('on PostgreSQL', () => {
    const databaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const schema = `hub_property_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    let store: PostgresStore;

    beforeAll(async () => {
      await admin.query(`CREATE SCHEMA ${schema}`);
      const url = new URL(databaseUrl);
      url.searchParams.set('options', `-c search_path=${schema}`);
      store = new PostgresStore(url.toString(), { logger, maxConnections: 4 });
      await store.migrate();
    });

    afterAll(async () => {
      await store?.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    });

    it('equals Repliers after any history', async () => {
      const runs = positiveNumber('MIRROR_PROPERTY_RUNS_PG', 10_000);
      const seconds = positiveNumber('MIRROR_PROPERTY_SECONDS_PG', 60);
      let ran = 0;
      const started = Date.now();

      await fc.assert(
        fc.asyncProperty(historyArbitrary, async (history) => {
          // DELETE beats TRUNCATE on tables this small.
          await admin.query(`DELETE FROM ${schema}.agents; DELETE FROM ${schema}.clients; DELETE FROM ${schema}.favorites`);
          try {
            await checkHistory(store, history, ran % 10 === 0);
          } finally {
            ran += 1;
          }
        }),
        // Runs stop at the time limit without failing; a failure found before it still fails the test.
        { numRuns: runs, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
      );

      console.log(`mirror property: ${ran} histories on PostgreSQL in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(ran).toBeGreaterThanOrEqual(Math.min(runs, 100));
    }, 900_000);
  });
});
