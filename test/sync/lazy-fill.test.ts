/**
 * Lazy fill end to end: a listing.updated names favorites the hub never mirrored, and a real hub on Redis fetches
 * them from the Repliers stand-in before routing, so their clients get the price-drop email (to the outbox here).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoWorld, type DemoWorld } from '../../src/demo/demo-world.js';
import { readListingsFile } from '../../src/demo/listings-file.js';
import { startRepliersStandIn, webhookBody, type RepliersStandIn } from '../../src/demo/repliers-stand-in.js';
import { waitForEvents } from '../../src/demo/wait-for-events.js';
import { startHub, type RunningHub } from '../../src/hub.js';
import { createLogger } from '../../src/logger.js';
import { metricsRegistry } from '../../src/metrics/registry.js';
import type { RepliersListing } from '../../src/repliers/types.js';
import { favoriteOwners } from '../../src/sync/lazy-fill.js';
import { repoRoot, testHubSettings, type TestHubFolder } from '../helpers/test-hub.js';

let standIn: RepliersStandIn;
let folder: TestHubFolder;
let hub: RunningHub;
let world: DemoWorld;
let listings: RepliersListing[];

beforeAll(async () => {
  listings = await readListingsFile(path.join(repoRoot, 'src/demo/sample-listings.json'));
  world = buildDemoWorld(listings);
  standIn = await startRepliersStandIn(world);
  folder = await testHubSettings({ REPLIERS_API_URL: standIn.url, REPLIERS_API_KEY: standIn.apiKey });
  hub = await startHub(folder.settings, 'all', createLogger('silent'));
  await hub.secrets.expect('listing.updated', 60);
  expect((await standIn.subscribe(`${hub.url}/webhooks/repliers/listing.updated`, 'listing.updated')).status).toBe(200);
});

afterAll(async () => {
  await hub?.close();
  await standIn?.close();
  await folder?.cleanup();
});

async function lazyFillCount(result: 'filled' | 'unknown'): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('hub_mirror_lazy_fill_favorites_total')?.get();
  return metric?.values.find((value) => value.labels.result === result)?.value ?? 0;
}

describe('favoriteOwners', () => {
  it('reads favorite objects with a clientId', () => {
    const owners = favoriteOwners({ favorites: [{ favoriteId: 1, clientId: 5 }, 2, { favoriteId: '3' }, null] });

    expect([...owners]).toEqual([['1', '5']]);
  });
});

describe('listing.updated naming unmirrored favorites', () => {
  it('fetches favorites with owners before routing', async () => {
    const listing = listings[0]!;
    const fans = world.favorites.filter((favorite) => favorite.mlsNumber === listing.mlsNumber);
    expect(fans).toHaveLength(3);
    const filledBefore = await lazyFillCount('filled');

    const body = webhookBody(
      'listing.updated',
      {
        ...listing,
        listPrice: 1000,
        favorites: fans.map((favorite) => ({ favoriteId: favorite.favoriteId, clientId: favorite.clientId })),
      },
      { previous: { listPrice: listing.listPrice } },
    );
    const answer = await standIn.deliver('listing.updated', body);
    const [finished] = await waitForEvents(hub.store, [(JSON.parse(answer.body) as { eventId: string }).eventId]);

    const emails = finished!.deliveries.filter((delivery) => delivery.connector === 'email');
    expect(emails.map((delivery) => delivery.recipient).sort()).toEqual(
      fans.map((favorite) => `client:${favorite.clientId}`).sort(),
    );
    expect(finished!.event.outcomeDetail).not.toContain('not in the mirror');
    expect(await lazyFillCount('filled')).toBe(filledBefore + 3);
    expect(standIn.requests).toContain(`GET /favorites?clientId=${fans[0]!.clientId}&pageNum=1&resultsPerPage=100`);
  });

  it('counts bare ids it cannot fetch', async () => {
    const listing = listings[3]!;
    const unknownBefore = await lazyFillCount('unknown');

    const body = webhookBody(
      'listing.updated',
      { ...listing, listPrice: 1000 },
      { previous: { listPrice: listing.listPrice }, favoriteIds: [777001, 777002] },
    );
    const answer = await standIn.deliver('listing.updated', body);
    const [finished] = await waitForEvents(hub.store, [(JSON.parse(answer.body) as { eventId: string }).eventId]);

    expect(finished!.event.outcomeDetail).toContain('2 favoriteIds not in the mirror');
    expect(await lazyFillCount('unknown')).toBe(unknownBefore + 2);
  });
});
