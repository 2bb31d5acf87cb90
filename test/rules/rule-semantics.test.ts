/**
 * What rule conditions see and how the domain operations decide, through the hub's own routing: webhook bodies
 * built from the Ottawa listings (prices as strings, as that board sends them) routed by routeResource over a
 * mirror holding the demo clients, agents and favorites.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookBody } from '../../src/demo/repliers-stand-in.js';
import { domainOperations } from '../../src/rules/domain-operations.js';
import { compileLogic } from '../../src/rules/logic/index.js';
import { startRoutingHarness, type RoutingHarness } from './routing-harness.js';

let harness: RoutingHarness;

beforeAll(async () => {
  harness = await startRoutingHarness();
});

afterAll(async () => {
  await harness?.close();
});

const v = (path: string): unknown => ({ var: path });

/** The first listing: 62 Erin Crescent, listed at "699900.00", saved by three clients. */
function erin() {
  const listing = harness.listings[0]!;
  const favoriteIds = harness.world.favorites.filter((favorite) => favorite.mlsNumber === listing.mlsNumber).map((favorite) => favorite.favoriteId);
  return { listing, favoriteIds };
}

function listingUpdate(data: Record<string, unknown>, previous: Record<string, unknown>, favoriteIds: readonly unknown[]) {
  return webhookBody('listing.updated', data, { previous, favoriteIds });
}

describe('prices as numbers whatever their type on the wire', () => {
  it('reads a string price before and a number after as a drop', async () => {
    const { listing, favoriteIds } = erin();
    expect(listing.listPrice).toBe('699900.00');
    const routed = await harness.route(
      { dropped: [v('previous.listPrice'), v('listing.listPrice')] },
      'listing.updated',
      listingUpdate({ ...listing, listPrice: 674900 }, { listPrice: listing.listPrice }, favoriteIds),
    );

    expect(routed.evaluations).toHaveLength(3);
    expect(routed.evaluations.every((evaluation) => evaluation.result === true)).toBe(true);
    expect(routed.deliveries).toHaveLength(3);
    const data = routed.evaluations[0]!.data as { listing: { listPrice: unknown }; previous: { listPrice: unknown }; change: { price: unknown } };
    expect(data.listing.listPrice).toBe(674900);
    expect(data.previous.listPrice).toBe(699900);
    expect(data.change.price).toEqual({ from: 699900, to: 674900, amount: -25000, percent: expect.closeTo(-3.572, 3) });
  });

  it('reads a number before and a string after as a drop', async () => {
    const { listing, favoriteIds } = erin();
    const routed = await harness.route(
      { and: [{ dropped: [v('previous.listPrice'), v('listing.listPrice')] }, { at_most: [v('change.price.percent'), -3] }] },
      'listing.updated',
      listingUpdate({ ...listing, listPrice: '674900.00' }, { listPrice: 699900 }, favoriteIds),
    );
    expect(routed.matched).toBe(true);
    expect(routed.deliveries).toHaveLength(3);
  });

  it('sees no change between "699900.00" and 699900', async () => {
    const { listing, favoriteIds } = erin();
    const body = listingUpdate({ ...listing, listPrice: 699900 }, { listPrice: '699900.00' }, favoriteIds);
    const conditions: [string, unknown, boolean][] = [
      ['dropped', { dropped: [v('previous.listPrice'), v('listing.listPrice')] }, false],
      ['rose', { rose: [v('previous.listPrice'), v('listing.listPrice')] }, false],
      ['changed', { changed: 'listPrice' }, false],
      ['change.price', { '!!': [v('change.price')] }, false],
      ['== with a number', { '==': [v('listing.listPrice'), 699900] }, true],
      ['=== with a number', { '===': [v('listing.listPrice'), 699900] }, true],
      ['at_least with a string literal', { at_least: [v('listing.listPrice'), '699900.00'] }, true],
      ['below with a string literal', { below: [v('listing.listPrice'), '700000'] }, true],
    ];
    for (const [name, when, expected] of conditions) {
      const routed = await harness.route(when, 'listing.updated', body);
      expect(routed.matched, name).toBe(expected);
    }
  });

  it('never compares a placeholder price as zero', async () => {
    const { listing, favoriteIds } = erin();
    const body = listingUpdate({ ...listing, listPrice: '!scrubbed!' }, { listPrice: listing.listPrice }, favoriteIds);
    const domain = [
      { below: [v('listing.listPrice'), 1_000_000] },
      { at_most: [v('listing.listPrice'), 1_000_000] },
      { dropped: [v('previous.listPrice'), v('listing.listPrice')] },
      { at_most: [v('change.price.percent'), -5] },
    ];
    for (const when of domain) {
      expect((await harness.route(when, 'listing.updated', body)).matched, JSON.stringify(when)).toBe(false);
    }
    // Plain JSON Logic takes null as zero, which is why rules use the domain operations.
    expect((await harness.route({ '<': [v('listing.listPrice'), 1_000_000] }, 'listing.updated', body)).matched).toBe(true);
  });
});

describe('missing previous fields', () => {
  it('matches no price or status rule when previous lacks the field', async () => {
    const { listing, favoriteIds } = erin();
    const body = listingUpdate({ ...listing, lastStatus: 'Sld', timestamps: { listingUpdated: '2026-02-01T00:00:00Z' } }, { timestamps: { listingUpdated: '2026-01-01T00:00:00Z' } }, favoriteIds);
    const conditions = [
      { dropped: [v('previous.listPrice'), v('listing.listPrice')] },
      { rose: [v('previous.listPrice'), v('listing.listPrice')] },
      { at_most: [v('change.price.percent'), -1] },
      { at_least: [v('change.price.amount'), -1_000_000] },
      { became: [v('change.lastStatus'), ['Sld']] },
      { left: [v('change.status'), ['A']] },
      { changed: ['listPrice', 'lastStatus', 'status'] },
      { '!!': [{ number: [v('previous.listPrice')] }] },
    ];
    for (const when of conditions) {
      const routed = await harness.route(when, 'listing.updated', body);
      expect(routed.evaluations, JSON.stringify(when)).toHaveLength(3);
      expect(routed.matched, JSON.stringify(when)).toBe(false);
    }
  });

  it('builds no change when previous is absent', async () => {
    const { listing, favoriteIds } = erin();
    const routed = await harness.route(true, 'listing.updated', webhookBody('listing.updated', listing, { favoriteIds }));
    const data = routed.evaluations[0]!.data as { previous: unknown; change: unknown };
    expect(data.previous).toEqual({});
    expect(data.change).toEqual({ price: null, status: null, lastStatus: null });
  });

  it('reports a changed nested field, numbers compared as numbers', async () => {
    const { listing, favoriteIds } = erin();
    const details = listing.details as Record<string, unknown>;
    const body = listingUpdate({ ...listing, details: { ...details, numBedrooms: '4' } }, { details: { numBedrooms: 3 } }, favoriteIds);
    expect((await harness.route({ changed: 'details.numBedrooms' }, 'listing.updated', body)).matched).toBe(true);
    const same = listingUpdate({ ...listing, details: { ...details, numBedrooms: '3' } }, { details: { numBedrooms: 3 } }, favoriteIds);
    expect((await harness.route({ changed: 'details.numBedrooms' }, 'listing.updated', same)).matched).toBe(false);
    // A field the hub does not normalise is still compared as a number when both sides are numeric.
    const area = listingUpdate({ ...listing, details: { ...details, sqft: '1500' } }, { details: { sqft: 1500 } }, favoriteIds);
    expect((await harness.route({ changed: 'details.sqft' }, 'listing.updated', area)).matched).toBe(false);
  });
});

describe('status transitions and membership', () => {
  const sale = (from: Record<string, unknown>, to: Record<string, unknown>) => {
    const { listing, favoriteIds } = erin();
    return listingUpdate({ ...listing, ...to }, from, favoriteIds);
  };

  it('matches became sold only on the move into the codes', async () => {
    const becameSold = { became: [v('change.lastStatus'), ['Sld', 'Lsd']] };
    expect((await harness.route(becameSold, 'listing.updated', sale({ lastStatus: 'New' }, { lastStatus: 'Sld' }))).matched).toBe(true);
    expect((await harness.route(becameSold, 'listing.updated', sale({ lastStatus: 'Sld' }, { lastStatus: 'Lsd' }))).matched).toBe(false);
    expect((await harness.route(becameSold, 'listing.updated', sale({ lastStatus: 'Sld' }, { lastStatus: 'Dft' }))).matched).toBe(false);
    expect((await harness.route({ became: [v('change.lastStatus'), 'Sld'] }, 'listing.updated', sale({ lastStatus: null }, { lastStatus: 'Sld' }))).matched).toBe(true);
  });

  it('matches left available when status moves from A', async () => {
    const leftAvailable = { left: [v('change.status'), 'A'] };
    expect((await harness.route(leftAvailable, 'listing.updated', sale({ status: 'A' }, { status: 'U' }))).matched).toBe(true);
    expect((await harness.route(leftAvailable, 'listing.updated', sale({ status: 'U' }, { status: 'A' }))).matched).toBe(false);
  });

  it('tests membership of the current status', async () => {
    const soldOrLeased = { in: [v('listing.lastStatus'), ['Sld', 'Lsd']] };
    expect((await harness.route(soldOrLeased, 'listing.updated', sale({ lastStatus: 'New' }, { lastStatus: 'Lsd' }))).matched).toBe(true);
    expect((await harness.route(soldOrLeased, 'listing.updated', sale({ lastStatus: 'Sld' }, { lastStatus: 'Dft' }))).matched).toBe(false);
    const { listing, favoriteIds } = erin();
    const withoutStatus: Record<string, unknown> = { ...listing };
    delete withoutStatus.lastStatus;
    expect((await harness.route(soldOrLeased, 'listing.updated', listingUpdate(withoutStatus, { listPrice: 1 }, favoriteIds))).matched).toBe(false);
  });

  it('keeps the transition in change.lastStatus', async () => {
    const routed = await harness.route(true, 'listing.updated', sale({ status: 'A', lastStatus: 'New' }, { status: 'U', lastStatus: 'Sld' }));
    const data = routed.evaluations[0]!.data as { change: unknown };
    expect(data.change).toEqual({ price: null, status: { from: 'A', to: 'U' }, lastStatus: { from: 'New', to: 'Sld' } });
  });
});

describe('the favorite, client and agent', () => {
  it('evaluates once per favorite with its client and agent', async () => {
    const { listing, favoriteIds } = erin();
    const ada = harness.world.clients[0]!;
    const routed = await harness.route(
      { '==': [v('client.clientId'), String(ada.clientId)] },
      'listing.updated',
      listingUpdate({ ...listing, listPrice: 1 }, { listPrice: listing.listPrice }, favoriteIds),
    );
    expect(routed.evaluations.map((evaluation) => evaluation.favoriteId).sort()).toEqual(favoriteIds.map(String).sort());
    expect(routed.deliveries.map((delivery) => delivery.recipient)).toEqual([{ kind: 'client', clientId: String(ada.clientId) }]);
    const data = routed.evaluations.find((evaluation) => evaluation.result)!.data as Record<string, { [key: string]: unknown }>;
    expect(data.client!.fname).toBe('Ada');
    expect(data.agent!.agentId).toBe(String(ada.agentId));
    expect(data.favoriteCount).toBe(3);
  });

  it('gives favorite.created no change', async () => {
    const favorite = harness.world.favorites[0]!;
    const routed = await harness.route(
      { became: [v('change.lastStatus'), ['Sld']] },
      'favorite.created',
      webhookBody('favorite.created', favorite),
      [{ connector: 'slack', template: 'favorite-created', to: 'agents' }],
    );
    expect(routed.evaluations).toHaveLength(1);
    expect(routed.evaluations[0]!.data.change).toBeNull();
    expect(routed.matched).toBe(false);
  });
});

describe('domain comparisons', () => {
  const names = ['below', 'above', 'at_most', 'at_least', 'dropped', 'rose'] as const;
  const notNumeric = fc.oneof(
    fc.constant(null),
    fc.constant(undefined),
    fc.constant(''),
    fc.constant('!scrubbed!'),
    fc.boolean(),
    fc.string().filter((text) => !/^\s*-?(\d+(\.\d*)?|\.\d+)\s*$/.test(text)),
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.constant(Number.NaN),
    fc.constant(Number.POSITIVE_INFINITY),
  );

  it('are false whenever a side is missing or not numeric', () => {
    const compiled = names.map((name) => compileLogic({ [name]: [v('a'), v('b')] }, { operations: domainOperations }));
    fc.assert(
      fc.property(notNumeric, fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), notNumeric), fc.boolean(), (bad, other, badFirst) => {
        const data = badFirst ? { a: bad, b: other } : { a: other, b: bad };
        for (const evaluate of compiled) expect(evaluate(data)).toBe(false);
      }),
    );
  });

  it('compare numeric strings as numbers', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), (a, b) => {
        const data = { a: `${a}.00`, b };
        expect(compileLogic({ below: [v('a'), v('b')] }, { operations: domainOperations })(data)).toBe(a < b);
        expect(compileLogic({ at_least: [v('a'), v('b')] }, { operations: domainOperations })(data)).toBe(a >= b);
      }),
      { numRuns: 200 },
    );
  });
});
