/** The listing view that messages render, built from listings in the shape of a real Repliers search response. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildListingView } from '../../src/repliers/listing-view.js';
import { sharedData } from '../helpers/test-hub.js';

const options = { imageBaseUrl: 'https://cdn.example.com', listingUrlTemplate: '' };

async function ottawaListing(): Promise<Record<string, unknown>> {
  const response = JSON.parse(await readFile(path.join(sharedData, 'repliers/listings-search-ottawa.json'), 'utf8')) as {
    listings: Record<string, unknown>[];
  };
  return response.listings[0]!;
}

describe('listing view', () => {
  it('reads prices given as text', async () => {
    const listing = await ottawaListing();

    const view = buildListingView({ ...listing, listPrice: '699900.00', soldPrice: '690000.00', soldDate: '2024-05-03T00:00:00.000Z' }, options);

    expect(view.listPrice).toBe(699_900);
    expect(view.soldPrice).toBe(690_000);
    expect(view.soldDate).toBe('2024-05-03');
  });

  it('has no sold price before a sale', async () => {
    const view = buildListingView(await ottawaListing(), options);

    expect(view.soldPrice).toBeNull();
    expect(view.soldDate).toBeNull();
  });

  it('treats a scrubbed sold price as missing', async () => {
    const view = buildListingView({ ...(await ottawaListing()), soldPrice: '!scrubbed!' }, options);

    expect(view.soldPrice).toBeNull();
  });
});
