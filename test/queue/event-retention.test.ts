/** The worker role's purge of old event records, on a real SQLite store. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { SqliteStore } from '../../src/mirror/sqlite/sqlite-store.js';
import { startEventRetention } from '../../src/queue/event-retention.js';

let dir: string;
let store: SqliteStore;

function daysAgo(days: number): string {
  return new Date(Date.now() - days * 86_400_000).toISOString();
}

async function record(eventId: string, receivedAt: string): Promise<void> {
  await store.recordEvent({ eventId, event: 'listing.updated', source: 'repliers', path: '/webhooks/repliers/listing.updated', receivedAt, verified: true, payload: '{}' });
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hub-retention-'));
  store = new SqliteStore(path.join(dir, 'hub.sqlite'));
  await store.migrate();
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('event retention', () => {
  it('purges events older than the retention at start', async () => {
    await record('old', daysAgo(31));
    await record('recent', daysAgo(29));
    await store.recordDeliveries([{ key: 'k-old', eventId: 'old', ruleId: 'r', ruleSetVersion: 'v1', connector: 'email', recipient: 'client:1' }], daysAgo(31));

    const retention = startEventRetention({ store, retentionDays: 30, logger: createLogger('silent') });
    await retention.stop();

    expect(await store.getEvent('old')).toBeNull();
    expect(await store.getDelivery('k-old')).toBeNull();
    expect((await store.getEvent('recent'))?.eventId).toBe('recent');
  });

  it('purges again on each run', async () => {
    const retention = startEventRetention({ store, retentionDays: 1, logger: createLogger('silent') });
    await record('later', daysAgo(2));

    expect(await retention.purgeNow()).toEqual({ events: 1, deliveries: 0 });
    await retention.stop();
    expect(await store.getEvent('later')).toBeNull();
  });
});
