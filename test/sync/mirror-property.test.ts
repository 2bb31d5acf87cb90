/**
 * The mirror equals Repliers after any history: random creates, updates and deletes of agents, clients and
 * favorites, delivered as webhooks that are lost, repeated and reordered, then one reconcile against the Repliers
 * stand-in over HTTP. Runs on both stores.
 *
 * SQLite runs MIRROR_PROPERTY_RUNS histories (10,000 by default), each on its own in-memory database. PostgreSQL
 * runs MIRROR_PROPERTY_RUNS_PG histories (10,000 by default), shared among MIRROR_PROPERTY_LANES_PG lanes (4 by
 * default) that run at once, because one lane spends about half its time waiting for the server. Each lane has its
 * own schema, emptied between histories, and its own Repliers stand-in. Each test prints how many histories it ran.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
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

/** A Repliers stand-in and the API client that reads it. Histories that run at once each need their own. */
interface RepliersSide {
  standIn: RepliersStandIn;
  repliers: RepliersApi;
}

async function startRepliersSide(): Promise<RepliersSide> {
  const standIn = await startRepliersStandIn({ listings: [], agents: [], clients: [], favorites: [] });
  return { standIn, repliers: new RepliersApi({ baseUrl: standIn.url, apiKey: standIn.apiKey, maxRetries: 0 }) };
}

/**
 * Plays one history into `store`, checks what the delivered events alone must show, and reconciles. Every tenth
 * history also replays all deliveries, which must change nothing, and reconciles twice, where the second must find
 * no drift.
 */
async function checkHistory(store: Store, side: RepliersSide, history: History, thorough: boolean): Promise<void> {
  const { standIn, repliers } = side;
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
    const side = await startRepliersSide();
    let ran = 0;
    const started = Date.now();

    try {
      await fc.assert(
        fc.asyncProperty(historyArbitrary, async (history) => {
          const store = new SqliteStore(':memory:');
          try {
            await store.migrate();
            await checkHistory(store, side, history, ran % 10 === 0);
          } finally {
            ran += 1;
            await store.close();
          }
        }),
        { numRuns: runs },
      );
    } finally {
      await side.standIn.close();
    }

    console.log(`mirror property: ${ran} histories on SQLite in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(ran).toBe(runs);
  }, 900_000);

  describe('on PostgreSQL', () => {
    const databaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    const schemas: string[] = [];

    /** Creates a schema of its own for one lane and returns a migrated store on it. */
    async function laneStore(): Promise<{ store: PostgresStore; schema: string }> {
      const schema = `hub_property_${randomBytes(6).toString('hex')}`;
      await admin.query(`CREATE SCHEMA ${schema}`);
      schemas.push(schema);
      const url = new URL(databaseUrl);
      url.searchParams.set('options', `-c search_path=${schema}`);
      const store = new PostgresStore(url.toString(), { logger, maxConnections: 2 });
      await store.migrate();
      return { store, schema };
    }

    afterAll(async () => {
      for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    });

    it('equals Repliers after any history', async () => {
      const runs = positiveNumber('MIRROR_PROPERTY_RUNS_PG', 10_000);
      const lanes = Math.min(positiveNumber('MIRROR_PROPERTY_LANES_PG', 4), runs);
      let ran = 0;
      const started = Date.now();

      // Each lane is its own fast-check run with its own seed, so a failing lane reports its seed and shrunk history.
      async function runLane(lane: number): Promise<void> {
        const { store, schema } = await laneStore();
        const side = await startRepliersSide();
        const laneRuns = Math.floor(runs / lanes) + (lane < runs % lanes ? 1 : 0);
        let laneRan = 0;
        try {
          await fc.assert(
            fc.asyncProperty(historyArbitrary, async (history) => {
              // DELETE beats TRUNCATE on tables this small.
              await admin.query(`DELETE FROM ${schema}.agents; DELETE FROM ${schema}.clients; DELETE FROM ${schema}.favorites`);
              try {
                await checkHistory(store, side, history, laneRan % 10 === 0);
              } finally {
                laneRan += 1;
                ran += 1;
              }
            }),
            { numRuns: laneRuns },
          );
        } finally {
          await side.standIn.close();
          await store.close();
        }
      }

      // Every lane is awaited before a failure is reported, so that no lane still runs when the schemas are dropped.
      const outcomes = await Promise.allSettled(Array.from({ length: lanes }, (_, lane) => runLane(lane)));
      const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failure) throw failure.reason;

      console.log(`mirror property: ${ran} histories on PostgreSQL in ${lanes} lanes in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(ran).toBe(runs);
    }, 900_000);
  });
});
