/**
 * The SQLite query plans of the admin event search: every filter is served by an index, in the order of the page,
 * with no full scan of the events and no sort of the whole result.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventSearchSql } from '../../src/mirror/admin-queries.js';
import { SqliteStore } from '../../src/mirror/sqlite/sqlite-store.js';
import type { EventSearch } from '../../src/mirror/store.js';

let directory: string;
let db: Database.Database;

beforeAll(async () => {
  directory = mkdtempSync(path.join(tmpdir(), 'hub-plan-'));
  const store = new SqliteStore(path.join(directory, 'hub.sqlite'));
  await store.migrate();
  await store.close();
  db = new Database(path.join(directory, 'hub.sqlite'), { readonly: true });
});

afterAll(() => {
  db?.close();
  rmSync(directory, { recursive: true, force: true });
});

function plan(search: EventSearch): string[] {
  const values: unknown[] = [];
  const sql = eventSearchSql(search, (value) => {
    values.push(value);
    return '?';
  });
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...values) as { detail: string }[]).map((row) => row.detail);
}

const searches: [string, EventSearch][] = [
  ['no filter', {}],
  ['listing', { subjects: [{ kind: 'mlsNumber', value: 'X1' }] }],
  ['client since', { subjects: [{ kind: 'clientId', value: '7' }], since: '2026-01-01T00:00:00.000Z' }],
  ['listing and client', { subjects: [{ kind: 'mlsNumber', value: 'X1' }, { kind: 'clientId', value: '7' }] }],
  ['type', { event: 'listing.updated' }],
  ['outcome with cursor', { outcome: 'failed', after: { receivedAt: '2026-01-01T00:00:00.000Z', eventId: 'e1' } }],
];

describe('event search plans', () => {
  for (const [name, search] of searches) {
    it(`${name} uses an index`, () => {
      const steps = plan(search);

      expect(steps.filter((step) => /^SCAN \w+$/.test(step)), steps.join(' | ')).toEqual([]);
      expect(steps.filter((step) => step.includes('TEMP B-TREE')), steps.join(' | ')).toEqual([]);
      expect(steps.some((step) => /USING (COVERING )?INDEX|USING PRIMARY KEY/.test(step)), steps.join(' | ')).toBe(true);
    });
  }
});
