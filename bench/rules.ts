/**
 * Measures evaluations per second of 100 routing rules, with json-logic-js `apply` and with
 * compiled rules, over the rule data the hub builds for events made from 96 real Ottawa
 * listings. Throws if the two engines return different results for any rule and event.
 *
 * The corpus is what the events worker evaluates: webhook bodies (prices as strings, as the
 * Ottawa board sends them) go through routeResource, which normalises the listing, works out
 * the change and looks up the favorites, clients and agents in an SQLite mirror holding the
 * demo people; the rule data of every evaluation is captured.
 *
 * Run with `npm run bench:rules` (or `npx tsx bench/rules.ts`). Timing takes 3 s for the
 * whole set (ROUNDS x ROUND_MS per engine) and 7.2 s for the 12 rule families
 * (FAMILY_ROUNDS x FAMILY_MS per engine each), plus start-up and the result check.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import jsonLogic from 'json-logic-js';
import { buildDemoWorld } from '../src/demo/demo-world.js';
import { webhookBody } from '../src/demo/repliers-stand-in.js';
import { createLogger } from '../src/logger.js';
import { SqliteStore } from '../src/mirror/sqlite/sqlite-store.js';
import type { RepliersListing } from '../src/repliers/types.js';
import { readWebhookBody } from '../src/repliers/webhook-body.js';
import { domainOperations } from '../src/rules/domain-operations.js';
import { compileLogic } from '../src/rules/logic/index.js';
import type { CompiledRule, RuleSet } from '../src/rules/rule.js';
import { agentInput, clientInput, favoriteInput } from '../src/workers/apply-to-mirror.js';
import { routeResource } from '../src/workers/route-event.js';

// The engines take turns for ROUNDS rounds of ROUND_MS each, so that load from other
// processes affects both alike. The median and best round are reported.
const ROUNDS = 5;
const ROUND_MS = 300;
/** Time per engine for each rule family, in each round. */
const FAMILY_MS = 100;
/** Alternating rounds per rule family; the median is reported. */
const FAMILY_ROUNDS = 3;
/** The speed-up over json-logic-js `apply` that compiled rules are meant to reach. */
const GOAL_RATIO = 20;

// A real Repliers listing search response, kept outside the repository beside the project.
const listingsUrl = new URL('../../shared/data/repliers/listings-search-ottawa.json', import.meta.url);

type RuleData = Record<string, unknown>;

const applyReference = jsonLogic.apply as (logic: unknown, data: unknown) => unknown;
// json-logic-js calls an added operation with `this` bound to the data, as the compiler does.
for (const [name, operation] of Object.entries(domainOperations)) jsonLogic.add_operation(name, operation as (...args: unknown[]) => unknown);

function readListings(): RepliersListing[] {
  return (JSON.parse(readFileSync(listingsUrl, 'utf8')) as { listings: RepliersListing[] }).listings;
}

/** A price as the Ottawa board sends it: a string with two decimals. */
const boardPrice = (price: number): string => price.toFixed(2);

/**
 * Builds four webhook bodies per listing: created, price drop, sold and price increase. The
 * listing.updated bodies name the favorites of the listing, as Repliers does.
 */
function buildBodies(listings: readonly RepliersListing[], favoriteIdsOf: (mlsNumber: string) => unknown[]): { event: string; body: unknown }[] {
  const dropPercents = [1, 2.5, 4, 6, 8, 12, 15];
  const bodies: { event: string; body: unknown }[] = [];
  listings.forEach((listing, index) => {
    const price = Number(listing.listPrice);
    const favoriteIds = favoriteIdsOf(listing.mlsNumber);
    bodies.push({ event: 'listing.created', body: webhookBody('listing.created', listing) });

    const dropPercent = dropPercents[index % dropPercents.length] ?? 5;
    const reduced = Math.round((price * (1 - dropPercent / 100)) / 100) * 100;
    bodies.push({
      event: 'listing.updated',
      body: webhookBody('listing.updated', { ...listing, listPrice: boardPrice(reduced), lastStatus: 'Pc' }, {
        previous: { listPrice: listing.listPrice, lastStatus: listing.lastStatus },
        favoriteIds,
      }),
    });

    const soldStatus = index % 3 === 0 ? 'Sc' : 'Sld';
    bodies.push({
      event: 'listing.updated',
      body: webhookBody('listing.updated', { ...listing, status: 'U', lastStatus: soldStatus }, {
        previous: { status: 'A', lastStatus: listing.lastStatus },
        favoriteIds,
      }),
    });

    const raised = price + 10_000 * (1 + (index % 4));
    bodies.push({
      event: 'listing.updated',
      body: webhookBody('listing.updated', { ...listing, listPrice: boardPrice(raised), lastStatus: 'Ext' }, {
        previous: { listPrice: listing.listPrice, lastStatus: listing.lastStatus },
        favoriteIds,
      }),
    });
  });
  return bodies;
}

/**
 * Routes every body through the hub's routeResource with one rule per event that matches
 * everything, and returns the rule data of each evaluation: one per favorite concerned, or one
 * for a listing nobody saved. Each body goes through JSON.stringify and JSON.parse first, as
 * job data passes through a queue.
 */
async function buildCorpus(listings: RepliersListing[]): Promise<RuleData[]> {
  const world = buildDemoWorld(listings);
  const store = new SqliteStore(':memory:');
  await store.migrate();
  const at = new Date().toISOString();
  for (const agent of world.agents) await store.upsertAgent(agentInput(agent), at);
  for (const client of world.clients) await store.upsertClient(clientInput(client), at);
  for (const favorite of world.favorites) await store.applyFavoriteCreated(favoriteInput(favorite as unknown as Record<string, unknown>)!, at);

  const matchAll: CompiledRule = {
    id: 'capture',
    description: 'Captures the rule data.',
    events: ['listing.created', 'listing.updated'],
    when: true,
    actions: [{ connector: 'slack', template: 'price-drop', to: { channel: '#bench' } }],
    disabled: false,
    file: 'capture.json',
    condition: () => true,
  };
  const ruleSet: RuleSet = { version: 'bench', rules: [matchAll], byEvent: new Map(matchAll.events.map((event) => [event, [matchAll]])) };
  const favoriteIdsOf = (mlsNumber: string) => world.favorites.filter((favorite) => favorite.mlsNumber === mlsNumber).map((favorite) => favorite.favoriteId);

  const corpus: RuleData[] = [];
  const logger = createLogger('silent');
  for (const [index, { event, body }] of buildBodies(listings, favoriteIdsOf).entries()) {
    for (const resource of readWebhookBody(JSON.parse(JSON.stringify(body))).resources) {
      await routeResource(
        {
          store,
          ruleSet,
          viewOptions: { imageBaseUrl: 'https://images.example/', listingUrlTemplate: '' },
          logger,
          onEvaluated: ({ data }) => void corpus.push(data),
        },
        { eventId: `bench-${index}`, eventType: event, receivedAt: at },
        resource,
      );
    }
  }
  await store.close();
  return corpus;
}

const v = (path: string, fallback?: unknown): unknown => (fallback === undefined ? { var: path } : { var: [path, fallback] });
const isCreated = { '==': [v('event.type'), 'listing.created'] };
const isUpdated = { '==': [v('event.type'), 'listing.updated'] };

interface RuleFamily {
  name: string;
  rules: unknown[];
}

/**
 * Builds 100 routing rules of the kinds a team sets up, in families: area, price, drop, sold,
 * type and people filters. Three families use the hub's domain operations, which json-logic-js
 * runs through add_operation.
 */
function buildRuleFamilies(): RuleFamily[] {
  const families: RuleFamily[] = [];
  const family = (name: string, rules: unknown[]): void => void families.push({ name, rules });

  const cityGroups = [['Ottawa'], ['Nepean', 'Kanata'], ['Gloucester', 'Orleans'], ['Ottawa', 'Nepean', 'Gloucester']];
  family(
    'new listing in an area under a cap',
    cityGroups.flatMap((cities) =>
      [500_000, 750_000, 1_000_000].map((cap) => ({ and: [isCreated, { in: [v('listing.address.city'), cities] }, { '<=': [v('listing.listPrice'), cap] }] })),
    ),
  );

  const typeGroups = [['Detached', 'Semi Detached'], ['Apartment', 'Stacked'], ['Row Unit']];
  family(
    'drop by percent and type',
    [2, 3, 5, 8, 10].flatMap((percent) =>
      typeGroups.map((types) => ({
        and: [
          isUpdated,
          { '!=': [v('change.price'), null] },
          { '<=': [v('change.price.percent'), -percent] },
          { in: [v('listing.details.propertyType'), types] },
        ],
      })),
    ),
  );

  const neighborhoodGroups = [
    ['Centretown', 'Byward Market', 'Lower Town', 'Sandy Hill'],
    ['Westboro', 'Ottawa West', 'West Centre Town'],
    ['Alta Vista', 'Riverview Park', 'Hunt Club', 'Blossom Park'],
    ['The Glebe', 'Old Ottawa South'],
    ['Vanier', 'Overbrook', 'Manor Park'],
  ];
  family(
    'neighborhood and bedrooms',
    neighborhoodGroups.flatMap((neighborhoods) =>
      [[1, 2], [2, 3], [3, 5]].map(([fewest, most]) => ({
        and: [{ in: [v('listing.address.neighborhood'), neighborhoods] }, { '<=': [fewest, v('listing.details.numBedrooms', 0), most] }],
      })),
    ),
  );

  family(
    'sold above a floor (plain)',
    [300_000, 500_000, 700_000, 900_000, 1_250_000].map((floor) => ({
      and: [
        { '==': [v('listing.status'), 'U'] },
        { in: [v('listing.lastStatus'), ['Sld', 'Sc', 'Lsd']] },
        { '==': [v('previous.status', 'A'), 'A'] },
        { '>=': [v('listing.listPrice'), floor] },
      ],
    })),
  );
  family(
    'sold above a floor (domain)',
    [400_000, 600_000, 800_000, 1_000_000, 1_500_000].map((floor) => ({
      and: [{ became: [v('change.lastStatus'), ['Sld', 'Sc', 'Lsd']] }, { at_least: [v('listing.listPrice'), floor] }],
    })),
  );

  family(
    'drop by amount in a place',
    [5_000, 10_000, 20_000, 30_000, 40_000, 50_000, 75_000, 100_000, 150_000, 200_000].map((amount) => ({
      and: [
        isUpdated,
        { '>=': [{ '-': [v('previous.listPrice', 0), v('listing.listPrice')] }, amount] },
        { or: [{ '==': [v('listing.address.city'), 'Ottawa'] }, { in: [v('listing.address.neighborhood'), ['Westboro', 'Centretown']] }] },
      ],
    })),
  );

  family(
    'cap or bedrooms',
    [400_000, 500_000, 600_000, 700_000, 800_000].flatMap((cap) =>
      [2, 4].map((bedrooms) => ({
        and: [
          { '!': { in: [v('listing.details.propertyType'), ['Lots/Acreage']] } },
          { or: [{ '<': [v('listing.listPrice'), cap] }, { '>=': [v('listing.details.numBedrooms', 0), bedrooms] }] },
        ],
      })),
    ),
  );

  family(
    'urgency and status change',
    [1, 3, 5, 7, 9].flatMap((percent) => [
      {
        if: [
          { and: [{ '!!': v('change.price') }, { '<=': [v('change.price.percent'), -2 * percent] }] },
          'urgent',
          { and: [{ '!=': [v('listing.lastStatus'), v('previous.lastStatus', '')] }, { '<=': [v('change.price.percent', 0), -percent] }] },
          'normal',
          null,
        ],
      },
      {
        and: [
          { '!=': [v('listing.lastStatus'), v('previous.lastStatus', '')] },
          { '>=': [{ '*': [{ '/': [v('change.price.amount', 0), v('listing.listPrice')] }, -100] }, percent] },
        ],
      },
    ]),
  );

  family(
    'city present or dropped',
    ['Ottawa', 'Nepean', 'Gloucester', 'Kanata'].flatMap((city) => [
      { and: [{ '!': { missing: ['listing.mlsNumber', 'listing.address.city'] } }, { in: [city, v('listing.address.city', '')] }] },
      {
        or: [
          { and: [isCreated, { '==': [v('listing.address.city'), city] }, { '>=': [v('listing.details.numBedrooms', 0), 3] }] },
          { and: [isUpdated, { '<=': [v('change.price.percent', 0), -5] }, { '==': [v('listing.address.city'), city] }] },
        ],
      },
    ]),
  );

  family(
    'agent and client drops (domain)',
    [
      ...['101', '102'].map((agentId) => ({ and: [{ '==': [v('agent.agentId'), agentId] }, { dropped: [v('previous.listPrice'), v('listing.listPrice')] }] })),
      { and: [{ '>': [v('favoriteCount'), 1] }, { at_most: [v('change.price.percent'), -4] }] },
      { and: [{ '!!': v('client.email') }, { changed: ['listPrice', 'status'] }, { below: [v('listing.listPrice'), 800_000] }] },
    ],
  );

  family(
    'new listing in a price band',
    [[200_000, 400_000], [400_000, 600_000], [600_000, 900_000], [750_000, 1_000_000]].map(
      ([low, high]) => ({ and: [isCreated, { '<': [low, v('listing.listPrice'), high] }] }),
    ),
  );

  family(
    'price band by domain operations',
    [[300_000, 600_000], [500_000, 900_000]].map(([low, high]) => ({ and: [{ at_least: [v('listing.listPrice'), low] }, { below: [v('listing.listPrice'), high] }] })),
  );

  const count = families.reduce((sum, entry) => sum + entry.rules.length, 0);
  if (count !== 100) throw new Error(`expected 100 rules, built ${count}`);
  return families;
}

interface Measurement {
  /** Median rate of the rounds, in evaluations per second. */
  median: number;
  /** Highest rate of the rounds, in evaluations per second. */
  best: number;
  /** Evaluations over all rounds. */
  evaluations: number;
}

type Evaluate = (data: RuleData) => unknown;

/**
 * Runs passes of every rule over all events for about `roundMs` and returns the rate and the
 * number of truthy results, which must be the same in every pass.
 */
function timeRound(rules: readonly Evaluate[], events: readonly RuleData[], roundMs: number) {
  let passes = 0;
  let matches = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < roundMs) {
    for (const event of events) {
      for (const evaluate of rules) {
        if (jsonLogic.truthy(evaluate(event))) matches++;
      }
    }
    passes++;
    elapsed = performance.now() - started;
  }
  const evaluations = passes * rules.length * events.length;
  return { rate: (evaluations / elapsed) * 1000, evaluations, passes, matches };
}

function summarise(rates: number[], evaluations: number): Measurement {
  const sorted = [...rates].sort((left, right) => left - right);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? 0, best: sorted.at(-1) ?? 0, evaluations };
}

function formatRate(rate: number): string {
  return Math.round(rate).toLocaleString('en-US');
}

/** Evaluates every rule on every event with both engines and throws at the first difference; returns the truthy count per rule. */
function checkIdentical(rules: readonly unknown[], compiled: readonly Evaluate[], events: readonly RuleData[]): number[] {
  const truthyCounts = rules.map(() => 0);
  for (const [ruleIndex, rule] of rules.entries()) {
    for (const [eventIndex, event] of events.entries()) {
      const expected = applyReference(rule, event);
      const actual = compiled[ruleIndex]!(event);
      if (!isDeepStrictEqual(actual, expected)) {
        throw new Error(
          `results differ for rule ${ruleIndex} on event ${eventIndex}: json-logic-js returned ${JSON.stringify(expected)}, ` +
            `the compiled rule returned ${JSON.stringify(actual)}\nrule: ${JSON.stringify(rule)}\nevent: ${JSON.stringify(event)}`,
        );
      }
      if (jsonLogic.truthy(actual)) truthyCounts[ruleIndex]! += 1;
    }
  }
  return truthyCounts;
}

async function main(): Promise<void> {
  const listings = readListings();
  const events = await buildCorpus(listings);
  const families = buildRuleFamilies();
  const rules = families.flatMap((entry) => entry.rules);

  const compileStarted = performance.now();
  const compiled: Evaluate[] = rules.map((rule) => compileLogic(rule, { operations: domainOperations }));
  const compileMs = performance.now() - compileStarted;
  const reference: Evaluate[] = rules.map((rule) => (data) => applyReference(rule, data));

  // Both engines must return the same result for every rule and event before anything is timed.
  const truthyCounts = checkIdentical(rules, compiled, events);
  const matched = truthyCounts.reduce((sum, count) => sum + count, 0);

  const referenceRates: number[] = [];
  const compiledRates: number[] = [];
  let referenceEvaluations = 0;
  let compiledEvaluations = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const referenceRound = timeRound(reference, events, ROUND_MS);
    const compiledRound = timeRound(compiled, events, ROUND_MS);
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
  const slow = summarise(referenceRates, referenceEvaluations);
  const fast = summarise(compiledRates, compiledEvaluations);

  const cpus = os.cpus();
  const favoriteEvaluations = events.filter((event) => event.favorite !== null).length;
  console.log(`Node ${process.version}, ${cpus[0]?.model ?? 'unknown CPU'} (${cpus.length} logical CPUs)`);
  console.log(
    `${rules.length} rules x ${events.length} rule data from ${listings.length} listings (${favoriteEvaluations} for a favorite with its client and agent) = ` +
      `${rules.length * events.length} evaluations per pass`,
  );
  console.log(`results identical for all ${rules.length * events.length} pairs, rule by rule; ${matched} evaluations are truthy`);
  console.log(`compiling ${rules.length} rules took ${compileMs.toFixed(1)} ms`);
  console.log(`timing: ${ROUNDS} alternating rounds of ${ROUND_MS} ms per engine, median (best) round`);
  console.log(`json-logic-js apply: ${formatRate(slow.median)} (${formatRate(slow.best)}) evaluations/s, ${slow.evaluations} evaluations`);
  console.log(`compiled:            ${formatRate(fast.median)} (${formatRate(fast.best)}) evaluations/s, ${fast.evaluations} evaluations`);
  const ratio = fast.median / slow.median;
  console.log(`ratio: ${ratio.toFixed(1)}x median, ${(fast.best / slow.best).toFixed(1)}x best`);
  console.log(`goal: compiled at least ${GOAL_RATIO}x json-logic-js apply (median): ${ratio >= GOAL_RATIO ? 'met' : 'NOT met'}`);

  console.log(`\nby rule family, median of ${FAMILY_ROUNDS} alternating rounds of ${FAMILY_MS} ms per engine (evaluations/s):`);
  const width = Math.max(...families.map((entry) => entry.name.length));
  console.log(`  ${'family'.padEnd(width)}  rules  json-logic-js      compiled   ratio  truthy`);
  let offset = 0;
  for (const entry of families) {
    const from = offset;
    offset += entry.rules.length;
    const referenceRates: number[] = [];
    const compiledRates: number[] = [];
    for (let round = 0; round < FAMILY_ROUNDS; round++) {
      referenceRates.push(timeRound(reference.slice(from, offset), events, FAMILY_MS).rate);
      compiledRates.push(timeRound(compiled.slice(from, offset), events, FAMILY_MS).rate);
    }
    const slowFamily = summarise(referenceRates, 0).median;
    const fastFamily = summarise(compiledRates, 0).median;
    const truthy = truthyCounts.slice(from, offset).reduce((sum, count) => sum + count, 0);
    console.log(
      `  ${entry.name.padEnd(width)}  ${String(entry.rules.length).padStart(5)}  ${formatRate(slowFamily).padStart(13)}  ` +
        `${formatRate(fastFamily).padStart(12)}  ${(fastFamily / slowFamily).toFixed(1).padStart(5)}x  ${String(truthy).padStart(6)}`,
    );
  }
  console.log(`peak memory: ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
}

await main();
