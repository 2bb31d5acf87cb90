/**
 * Measures evaluations per second of 100 routing rules, with json-logic-js `apply` and with
 * compiled rules, over events built from 96 real Ottawa listings. Throws if the two
 * engines return different results.
 *
 * Run with `npx tsx bench/rules.ts`. Timing takes 3 s (ROUNDS x ROUND_MS per engine), plus
 * start-up and the result check.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import jsonLogic from 'json-logic-js';
import { compileLogic } from '../src/rules/logic/index.js';

// The engines take turns for ROUNDS rounds of ROUND_MS each, so that load from other
// processes affects both alike. The median and best round are reported.
const ROUNDS = 5;
const ROUND_MS = 300;

// A real Repliers listing search response, kept outside the repository beside the project.
const listingsUrl = new URL('../../shared/data/repliers/listings-search-ottawa.json', import.meta.url);

interface SourceListing {
  mlsNumber: string;
  status: string;
  lastStatus: string;
  listPrice: string;
  address: { city: string | null; neighborhood: string | null };
  details: { numBedrooms: string | null; propertyType: string | null };
}

interface PriceChange {
  from: number;
  to: number;
  amount: number;
  percent: number;
}

interface RoutingContext {
  event: { type: string };
  listing: {
    mlsNumber: string;
    listPrice: number;
    status: string;
    lastStatus: string;
    address: { city: string | null; neighborhood: string | null };
    details: { numBedrooms?: number; propertyType: string | null };
  };
  previous: { listPrice?: number; status?: string; lastStatus?: string };
  change: { price: PriceChange | null };
}

type Listing = RoutingContext['listing'];

const applyReference = jsonLogic.apply as (logic: unknown, data: unknown) => unknown;

function readListings(): Listing[] {
  const response = JSON.parse(readFileSync(listingsUrl, 'utf8')) as { listings: SourceListing[] };
  return response.listings.map((source) => {
    const details: Listing['details'] = { propertyType: source.details.propertyType };
    // Some listings have no bedroom count or a "!scrubbed!" placeholder, so rules fall back to a default.
    if (source.details.numBedrooms !== null && /^\d+$/.test(source.details.numBedrooms)) {
      details.numBedrooms = Number(source.details.numBedrooms);
    }
    return {
      mlsNumber: source.mlsNumber,
      listPrice: Number(source.listPrice),
      status: source.status,
      lastStatus: source.lastStatus,
      address: { city: source.address.city, neighborhood: source.address.neighborhood },
      details,
    };
  });
}

function priceChange(from: number, to: number): PriceChange {
  const amount = to - from;
  return { from, to, amount, percent: Math.round((amount / from) * 10_000) / 100 };
}

/**
 * Builds four events per listing: created, price drop, sold and price increase. Each event
 * goes through JSON.stringify and JSON.parse, as job data passes through a queue, so the
 * rules see objects as JSON.parse builds them.
 */
function buildEvents(listings: readonly Listing[]): RoutingContext[] {
  const dropPercents = [1, 2.5, 4, 6, 8, 12, 15];
  const events: RoutingContext[] = [];
  listings.forEach((listing, index) => {
    events.push({ event: { type: 'listing.created' }, listing, previous: {}, change: { price: null } });

    const dropPercent = dropPercents[index % dropPercents.length] ?? 5;
    const reduced = Math.round((listing.listPrice * (1 - dropPercent / 100)) / 100) * 100;
    events.push({
      event: { type: 'listing.updated' },
      listing: { ...listing, listPrice: reduced, lastStatus: 'Pc' },
      previous: { listPrice: listing.listPrice, status: 'A', lastStatus: listing.lastStatus },
      change: { price: priceChange(listing.listPrice, reduced) },
    });

    const soldStatus = index % 3 === 0 ? 'Sc' : 'Sld';
    events.push({
      event: { type: 'listing.updated' },
      listing: { ...listing, status: 'U', lastStatus: soldStatus },
      previous: { listPrice: listing.listPrice, status: 'A', lastStatus: listing.lastStatus },
      change: { price: null },
    });

    const raised = listing.listPrice + 10_000 * (1 + (index % 4));
    events.push({
      event: { type: 'listing.updated' },
      listing: { ...listing, listPrice: raised, lastStatus: 'Ext' },
      previous: { listPrice: listing.listPrice, status: 'A', lastStatus: listing.lastStatus },
      change: { price: priceChange(listing.listPrice, raised) },
    });
  });
  return events.map((event) => JSON.parse(JSON.stringify(event)) as RoutingContext);
}

const v = (path: string, fallback?: unknown): unknown => (fallback === undefined ? { var: path } : { var: [path, fallback] });
const isCreated = { '==': [v('event.type'), 'listing.created'] };
const isUpdated = { '==': [v('event.type'), 'listing.updated'] };

/** Builds 100 routing rules of the kinds a team sets up: area, price, drop, sold and type filters. */
function buildRules(): unknown[] {
  const rules: unknown[] = [];

  const cityGroups = [['Ottawa'], ['Nepean', 'Kanata'], ['Gloucester', 'Orleans'], ['Ottawa', 'Nepean', 'Gloucester']];
  for (const cities of cityGroups) {
    for (const cap of [500_000, 750_000, 1_000_000]) {
      rules.push({ and: [isCreated, { in: [v('listing.address.city'), cities] }, { '<=': [v('listing.listPrice'), cap] }] });
    }
  }

  const typeGroups = [['Detached', 'Semi Detached'], ['Apartment', 'Stacked'], ['Row Unit']];
  for (const percent of [2, 3, 5, 8, 10]) {
    for (const types of typeGroups) {
      rules.push({
        and: [
          isUpdated,
          { '!=': [v('change.price'), null] },
          { '<=': [v('change.price.percent'), -percent] },
          { in: [v('listing.details.propertyType'), types] },
        ],
      });
    }
  }

  const neighborhoodGroups = [
    ['Centretown', 'Byward Market', 'Lower Town', 'Sandy Hill'],
    ['Westboro', 'Ottawa West', 'West Centre Town'],
    ['Alta Vista', 'Riverview Park', 'Hunt Club', 'Blossom Park'],
    ['The Glebe', 'Old Ottawa South'],
    ['Vanier', 'Overbrook', 'Manor Park'],
  ];
  for (const neighborhoods of neighborhoodGroups) {
    for (const [fewest, most] of [[1, 2], [2, 3], [3, 5]]) {
      rules.push({
        and: [
          { in: [v('listing.address.neighborhood'), neighborhoods] },
          { '<=': [fewest, v('listing.details.numBedrooms', 0), most] },
        ],
      });
    }
  }

  for (const floor of [300_000, 400_000, 500_000, 600_000, 700_000, 800_000, 900_000, 1_000_000, 1_250_000, 1_500_000]) {
    rules.push({
      and: [
        { '==': [v('listing.status'), 'U'] },
        { in: [v('listing.lastStatus'), ['Sld', 'Sc', 'Lsd']] },
        { '==': [v('previous.status', 'A'), 'A'] },
        { '>=': [v('listing.listPrice'), floor] },
      ],
    });
  }

  for (const amount of [5_000, 10_000, 20_000, 30_000, 40_000, 50_000, 75_000, 100_000, 150_000, 200_000]) {
    rules.push({
      and: [
        isUpdated,
        { '>=': [{ '-': [v('previous.listPrice', 0), v('listing.listPrice')] }, amount] },
        { or: [{ '==': [v('listing.address.city'), 'Ottawa'] }, { in: [v('listing.address.neighborhood'), ['Westboro', 'Centretown']] }] },
      ],
    });
  }

  for (const cap of [400_000, 500_000, 600_000, 700_000, 800_000]) {
    for (const bedrooms of [2, 4]) {
      rules.push({
        and: [
          { '!': { in: [v('listing.details.propertyType'), ['Lots/Acreage']] } },
          { or: [{ '<': [v('listing.listPrice'), cap] }, { '>=': [v('listing.details.numBedrooms', 0), bedrooms] }] },
        ],
      });
    }
  }

  for (const percent of [1, 3, 5, 7, 9]) {
    rules.push({
      if: [
        { and: [{ '!!': v('change.price') }, { '<=': [v('change.price.percent'), -2 * percent] }] },
        'urgent',
        { and: [{ '!=': [v('listing.lastStatus'), v('previous.lastStatus', '')] }, { '<=': [v('change.price.percent', 0), -percent] }] },
        'normal',
        null,
      ],
    });
    rules.push({
      and: [
        { '!=': [v('listing.lastStatus'), v('previous.lastStatus', '')] },
        { '>=': [{ '*': [{ '/': [v('change.price.amount', 0), v('listing.listPrice')] }, -100] }, percent] },
      ],
    });
  }

  for (const city of ['Ottawa', 'Nepean', 'Gloucester', 'Kanata']) {
    rules.push({ and: [{ '!': { missing: ['listing.mlsNumber', 'listing.address.city'] } }, { in: [city, v('listing.address.city', '')] }] });
    rules.push({
      or: [
        { and: [isCreated, { '==': [v('listing.address.city'), city] }, { '>=': [v('listing.details.numBedrooms', 0), 3] }] },
        { and: [isUpdated, { '<=': [v('change.price.percent', 0), -5] }, { '==': [v('listing.address.city'), city] }] },
      ],
    });
  }

  for (const [low, high] of [[200_000, 400_000], [300_000, 500_000], [400_000, 600_000], [500_000, 750_000], [600_000, 900_000], [750_000, 1_000_000], [900_000, 1_300_000], [1_000_000, 2_000_000], [250_000, 350_000], [450_000, 550_000]]) {
    rules.push({ and: [isCreated, { '<': [low, v('listing.listPrice'), high] }] });
  }

  if (rules.length !== 100) throw new Error(`expected 100 rules, built ${rules.length}`);
  return rules;
}

interface Measurement {
  /** Median rate of the rounds, in evaluations per second. */
  median: number;
  /** Highest rate of the rounds, in evaluations per second. */
  best: number;
  /** Evaluations over all rounds. */
  evaluations: number;
}

/**
 * Runs passes of `evaluateEvent` over all events for about ROUND_MS. `evaluateEvent`
 * evaluates every rule for one event and returns the number of truthy results.
 */
function timeRound(evaluateEvent: (event: RoutingContext) => number, ruleCount: number, events: readonly RoutingContext[]) {
  let passes = 0;
  let matches = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < ROUND_MS) {
    for (const event of events) matches += evaluateEvent(event);
    passes++;
    elapsed = performance.now() - started;
  }
  const evaluations = passes * ruleCount * events.length;
  return { rate: (evaluations / elapsed) * 1000, evaluations, passes, matches };
}

function summarise(rates: number[], evaluations: number): Measurement {
  const sorted = [...rates].sort((left, right) => left - right);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? 0, best: sorted.at(-1) ?? 0, evaluations };
}

function formatRate(rate: number): string {
  return Math.round(rate).toLocaleString('en-US');
}

function main(): void {
  const listings = readListings();
  const events = buildEvents(listings);
  const rules = buildRules();

  const compileStarted = performance.now();
  const compiled = rules.map((rule) => compileLogic(rule));
  const compileMs = performance.now() - compileStarted;

  // Both engines must return the same result for every rule and event before anything is timed.
  let matched = 0;
  for (const [eventIndex, event] of events.entries()) {
    for (const [ruleIndex, rule] of rules.entries()) {
      const expected = applyReference(rule, event);
      const actual = compiled[ruleIndex]?.(event);
      if (!isDeepStrictEqual(actual, expected)) {
        throw new Error(
          `results differ for rule ${ruleIndex} on event ${eventIndex}: json-logic-js returned ${JSON.stringify(expected)}, ` +
            `the compiled rule returned ${JSON.stringify(actual)}\nrule: ${JSON.stringify(rule)}\nevent: ${JSON.stringify(event)}`,
        );
      }
      if (jsonLogic.truthy(actual)) matched++;
    }
  }

  const evaluateReference = (event: RoutingContext): number => {
    let matches = 0;
    for (const rule of rules) {
      if (jsonLogic.truthy(applyReference(rule, event))) matches++;
    }
    return matches;
  };
  const evaluateCompiled = (event: RoutingContext): number => {
    let matches = 0;
    for (const evaluate of compiled) {
      if (jsonLogic.truthy(evaluate(event))) matches++;
    }
    return matches;
  };

  const referenceRates: number[] = [];
  const compiledRates: number[] = [];
  let referenceEvaluations = 0;
  let compiledEvaluations = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const referenceRound = timeRound(evaluateReference, rules.length, events);
    const compiledRound = timeRound(evaluateCompiled, rules.length, events);
    for (const [engine, timed] of [['json-logic-js', referenceRound], ['compiled', compiledRound]] as const) {
      if (timed.matches !== timed.passes * matched) {
        throw new Error(`${engine} found ${timed.matches} matches in ${timed.passes} passes of round ${round}, expected ${matched} per pass`);
      }
    }
    referenceRates.push(referenceRound.rate);
    compiledRates.push(compiledRound.rate);
    referenceEvaluations += referenceRound.evaluations;
    compiledEvaluations += compiledRound.evaluations;
  }
  const reference = summarise(referenceRates, referenceEvaluations);
  const fast = summarise(compiledRates, compiledEvaluations);

  const cpus = os.cpus();
  console.log(`Node ${process.version}, ${cpus[0]?.model ?? 'unknown CPU'} (${cpus.length} logical CPUs)`);
  console.log(`${rules.length} rules x ${events.length} events from ${listings.length} listings = ${rules.length * events.length} evaluations per pass`);
  console.log(`results identical for all ${rules.length * events.length} pairs; ${matched} evaluations are truthy`);
  console.log(`compiling ${rules.length} rules took ${compileMs.toFixed(1)} ms`);
  console.log(`timing: ${ROUNDS} alternating rounds of ${ROUND_MS} ms per engine, median (best) round`);
  console.log(`json-logic-js apply: ${formatRate(reference.median)} (${formatRate(reference.best)}) evaluations/s, ${reference.evaluations} evaluations`);
  console.log(`compiled:            ${formatRate(fast.median)} (${formatRate(fast.best)}) evaluations/s, ${fast.evaluations} evaluations`);
  console.log(`ratio: ${(fast.median / reference.median).toFixed(1)}x median, ${(fast.best / reference.best).toFixed(1)}x best`);
}

main();
