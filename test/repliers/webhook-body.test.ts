import { describe, expect, it } from 'vitest';
import { buildListingChange, formatAddress } from '../../src/repliers/listing-view.js';
import { normaliseListingFields, toNumber } from '../../src/repliers/listing-values.js';
import { readWebhookBody, WebhookBodyError } from '../../src/repliers/webhook-body.js';

describe('readWebhookBody', () => {
  it('reads favoriteIds at the top level', () => {
    const body = readWebhookBody({ data: { mlsNumber: 'A' }, previous: { listPrice: '10' }, favoriteIds: [1, '2'] });
    expect(body.resources[0]!.favoriteIds).toEqual(['1', '2']);
    expect(body.resources[0]!.previous).toEqual({ listPrice: '10' });
  });

  it('reads favorites as objects inside data', () => {
    const body = readWebhookBody({ data: { mlsNumber: 'A', favorites: [{ favoriteId: 3 }, { favoriteId: 4 }], previous: { status: 'A' } } });
    expect(body.resources[0]!.favoriteIds).toEqual(['3', '4']);
    expect(body.resources[0]!.previous).toEqual({ status: 'A' });
  });

  it('takes the event from hook.event', () => {
    expect(readWebhookBody({ data: {}, hook: { event: 'listing.updated' } }).hookEvent).toBe('listing.updated');
  });

  it('rejects an array item that is not an object', () => {
    expect(() => readWebhookBody([{}, 3])).toThrow(WebhookBodyError);
    expect(() => readWebhookBody([{}, 3])).toThrow(/item 1/);
  });
});

describe('listing values', () => {
  it('reads string and number prices alike', () => {
    expect(toNumber('699900.00')).toBe(699900);
    expect(toNumber(369000)).toBe(369000);
  });

  it('gives null for placeholders and empty values', () => {
    for (const value of ['!scrubbed!', '', null, undefined, NaN, '12abc', {}]) expect(toNumber(value)).toBeNull();
  });

  it('keeps absent fields absent', () => {
    const normalised = normaliseListingFields({ status: 'A' });
    expect('listPrice' in normalised).toBe(false);
  });

  it('normalises nested numbers', () => {
    const normalised = normaliseListingFields({ listPrice: '5', details: { numBedrooms: '3' }, map: { latitude: '45.3' } });
    expect(normalised).toMatchObject({ listPrice: 5, details: { numBedrooms: 3 }, map: { latitude: 45.3 } });
  });
});

describe('buildListingChange', () => {
  it('computes a price drop from string and number prices', () => {
    const change = buildListingChange({ listPrice: 650000 }, { listPrice: '700000.00' });
    expect(change.price).toEqual({ from: 700000, to: 650000, amount: -50000, percent: expect.closeTo(-7.142857, 5) });
  });

  it('gives no price change when the old price is missing', () => {
    expect(buildListingChange({ listPrice: 650000 }, {}).price).toBeNull();
    expect(buildListingChange({ listPrice: 650000 }, { listPrice: '!scrubbed!' }).price).toBeNull();
  });

  it('reports status transitions', () => {
    const change = buildListingChange({ status: 'U', lastStatus: 'Sld' }, { status: 'A', lastStatus: 'New' });
    expect(change.status).toEqual({ from: 'A', to: 'U' });
    expect(change.lastStatus).toEqual({ from: 'New', to: 'Sld' });
  });
});

describe('formatAddress', () => {
  it('title-cases upper-case street names', () => {
    expect(formatAddress({ streetNumber: '62', streetName: 'ERIN', streetSuffix: 'Crescent', city: 'Ottawa' })).toBe('62 Erin Crescent, Ottawa');
  });

  it('puts the unit first', () => {
    expect(formatAddress({ unitNumber: '1204', streetNumber: '200', streetName: 'Rideau', city: 'Ottawa' })).toBe('1204-200 Rideau, Ottawa');
  });
});
