/**
 * `hub rules test`, `simulate` and `reload` on events a real hub recorded from the Ottawa listings: a Repliers
 * stand-in sends favorites, a price drop and a sale over HTTP to a hub on the real Redis, and the commands then run
 * against that hub's SQLite mirror, both in a child process as a user runs them and in-process.
 */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reloadRules, simulateRules, testRules, type CommandOutput } from '../../src/cli/rules-commands.js';
import { loadSettings, type Settings } from '../../src/config/settings.js';
import { buildDemoWorld, type DemoWorld } from '../../src/demo/demo-world.js';
import { readListingsFile } from '../../src/demo/listings-file.js';
import { startRepliersStandIn, webhookBody, type RepliersStandIn } from '../../src/demo/repliers-stand-in.js';
import { waitForEvents } from '../../src/demo/wait-for-events.js';
import { startHub, type RunningHub } from '../../src/hub.js';
import { createLogger } from '../../src/logger.js';
import { metricsRegistry } from '../../src/metrics/registry.js';
import type { RepliersListing } from '../../src/repliers/types.js';
import type { SimulationReport } from '../../src/rules/simulate.js';
import type { ResourceTrial } from '../../src/rules/try-event.js';
import { repoRoot, testHubSettings, type TestHubFolder } from '../helpers/test-hub.js';
import { spawnHub, type RunResult } from '../helpers/run-hub.js';

// Read in place, through a path relative to this test file.
const ottawaListings = new URL('../../../shared/data/repliers/listings-search-ottawa.json', import.meta.url);

let standIn: RepliersStandIn;
let folder: TestHubFolder;
let hub: RunningHub;
let world: DemoWorld;
let listings: RepliersListing[];
let rulesDir: string;
let scratch: string;
let dropEventId: string;
let saleEventId: string;

function hubEnv(): Record<string, string> {
  const settings = folder.settings;
  return {
    REDIS_URL: settings.redisUrl,
    DATABASE_URL: settings.databaseUrl,
    QUEUE_PREFIX: settings.queuePrefix,
    OUTBOX_DIR: settings.outboxDir,
    RULES_DIR: rulesDir,
    LOG_LEVEL: 'silent',
  };
}

function settingsFor(env: Record<string, string> = {}): Readonly<Settings> {
  return loadSettings({ ...hubEnv(), ...env });
}

function runHub(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return spawnHub(args, { ...process.env, ...hubEnv(), ...env }, scratch);
}

function capture(): CommandOutput & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => void stdout.push(text), err: (text) => void stderr.push(text) };
}

function fansOf(listing: RepliersListing) {
  return world.favorites.filter((favorite) => favorite.mlsNumber === listing.mlsNumber);
}

async function deliver(event: string, body: unknown): Promise<string> {
  const answer = await standIn.deliver(event, body);
  expect(answer.status).toBe(202);
  return (JSON.parse(answer.body) as { eventId: string }).eventId;
}

/** Writes the payload the hub recorded for an event to a file, as a user would save it. */
async function recordedPayloadFile(eventId: string, name: string): Promise<string> {
  const event = await hub.store.getEvent(eventId);
  expect(event).not.toBeNull();
  const file = path.join(scratch, name);
  await writeFile(file, event!.payload);
  return file;
}

async function outboxFiles(): Promise<number> {
  const root = folder.settings.outboxDir;
  let count = 0;
  for (const connector of await readdir(root).catch(() => [] as string[])) {
    count += (await readdir(path.join(root, connector)).catch(() => [] as string[])).length;
  }
  return count;
}

/** Counts of what the hub has recorded, to show that a command wrote nothing. */
async function recordedState(): Promise<string> {
  const events = await hub.store.listEvents({ limit: 1000 });
  const deliveries = await Promise.all(events.map((event) => hub.store.listDeliveries(event.eventId)));
  return JSON.stringify({ events: events.map((event) => [event.eventId, event.outcome]), deliveries, outbox: await outboxFiles() });
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'hub-rules-cli-'));
  rulesDir = path.join(scratch, 'rules');
  await cp(path.join(repoRoot, 'rules'), rulesDir, { recursive: true });

  listings = await readListingsFile(ottawaListings.pathname);
  world = buildDemoWorld(listings);
  standIn = await startRepliersStandIn(world);
  folder = await testHubSettings({ REPLIERS_API_URL: standIn.url, REPLIERS_API_KEY: standIn.apiKey, RULES_DIR: rulesDir });
  hub = await startHub(folder.settings, 'all', createLogger('silent'));

  for (const event of ['favorite.created', 'listing.updated']) {
    await hub.secrets.expect(event, 60);
    expect((await standIn.subscribe(`${hub.url}/webhooks/repliers/${event}`, event)).status).toBe(200);
  }
  const created: string[] = [];
  for (const favorite of world.favorites) created.push(await deliver('favorite.created', webhookBody('favorite.created', favorite)));
  await waitForEvents(hub.store, created);

  const erin = listings[0]!;
  dropEventId = await deliver(
    'listing.updated',
    webhookBody('listing.updated', { ...erin, listPrice: '674900.00', lastStatus: 'Pc' }, {
      previous: { listPrice: erin.listPrice, lastStatus: 'New' },
      favoriteIds: fansOf(erin).map((favorite) => favorite.favoriteId),
    }),
  );
  const sold = listings[1]!;
  saleEventId = await deliver(
    'listing.updated',
    webhookBody('listing.updated', { ...sold, status: 'U', lastStatus: 'Sld' }, {
      previous: { status: 'A', lastStatus: sold.lastStatus },
      favoriteIds: fansOf(sold).map((favorite) => favorite.favoriteId),
    }),
  );
  await waitForEvents(hub.store, [dropEventId, saleEventId]);
}, 120_000);

afterAll(async () => {
  await hub?.close();
  await standIn?.close();
  await folder?.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('hub rules check', () => {
  it('lists every problem of every file and exits 1', async () => {
    const broken = path.join(scratch, 'broken-check');
    await cp(rulesDir, broken, { recursive: true });
    await writeFile(path.join(broken, 'price-drop-email.json'), '{"id": "price-drop-email",');
    const sold = JSON.parse(await readFile(path.join(broken, 'favorite-sold-slack.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(broken, 'favorite-sold-slack.json'), JSON.stringify({ ...sold, when: { '==': [{ var: 'listing.lastStatus' }, 'Sold'] }, actions: [{ connector: 'fax' }] }));

    const result = await runHub(['rules', 'check', '--dir', broken]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^favorite-sold-slack\.json rule "favorite-sold-slack" at \/when\/==\/1: unknown lastStatus code "Sold"/),
      expect.stringMatching(/^favorite-sold-slack\.json rule "favorite-sold-slack" at \/actions\/0\/connector: unknown connector "fax"; use one of email, slack/),
      expect.stringMatching(/^price-drop-email\.json at \/: invalid JSON/),
      `3 problems found in ${broken}`,
    ]);
  }, 60_000);
});

describe('hub rules test', () => {
  it('traces each rule on a recorded price drop and previews its emails', async () => {
    const file = await recordedPayloadFile(dropEventId, 'price-drop.json');
    const before = await recordedState();
    const result = await runHub(['rules', 'test', file]);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toContain(`listing.updated, event ${dropEventId}, rules version`);
    expect(out).toContain('62 Erin Crescent, Ottawa');
    expect(out).toContain('✓ price-drop-email: matched 3 of 3 evaluations → 3 deliveries');
    expect(out).toMatch(/\{"var":"previous\.listPrice"\} → 699900\n/);
    expect(out).toMatch(/\{"var":"listing\.listPrice"\} → 674900\n/);
    expect(out).toContain('✗ favorite-sold-slack: matched 0 of 3 evaluations');
    expect(out).toMatch(/\* \{"became":\[\{"var":"change\.lastStatus"\},\["Sld"\]\]\} → false/);
    expect(out).toContain('- favorite-created: not for this event (listens to favorite.created)');
    expect(out).toContain('deliveries (3, previews only: nothing is sent):');
    for (const favorite of fansOf(listings[0]!)) {
      const client = world.clients.find((candidate) => candidate.clientId === favorite.clientId)!;
      expect(out).toContain(`email price-drop to client:${client.clientId} (rule price-drop-email)`);
      expect(out).toContain(`target: ${client.email}`);
    }
    expect(out).toMatch(/subject: .*62 Erin Crescent, Ottawa/);
    expect(out).toContain('$674,900');
    expect(await recordedState()).toBe(before);
  }, 60_000);

  it('reads a bare array body with --event and previews the Slack post', async () => {
    const sold = listings[1]!;
    const file = path.join(scratch, 'sale-array.json');
    const resource = { ...sold, status: 'U', lastStatus: 'Sld', previous: { status: 'A', lastStatus: 'New' }, favoriteIds: fansOf(sold).map((favorite) => favorite.favoriteId) };
    await writeFile(file, JSON.stringify([resource]));
    const result = await runHub(['rules', 'test', file, '--event', 'listing.updated']);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✓ favorite-sold-slack: matched 2 of 2 evaluations → 1 delivery');
    expect(result.stdout).toMatch(/\* \{"became":\[\{"var":"change\.lastStatus"\},\["Sld"\]\]\} → true/);
    expect(result.stdout).toContain('slack listing-sold to channel:#listing-alerts (rule favorite-sold-slack)');
    expect(result.stdout).toContain('target: #listing-alerts');
  }, 60_000);

  it('says in one line when the event name is missing', async () => {
    const file = path.join(scratch, 'no-event.json');
    await writeFile(file, JSON.stringify({ data: { mlsNumber: 'X1' } }));
    const result = await runHub(['rules', 'test', file]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('hub: the body has no hook.event; name the event with --event, such as --event listing.updated');
  }, 60_000);

  it('gives the delivery keys the hub recorded', async () => {
    const file = await recordedPayloadFile(dropEventId, 'price-drop-keys.json');
    const output = capture();
    expect(await testRules(settingsFor(), file, { json: true }, output)).toBe(0);

    const report = JSON.parse(output.stdout.join('\n')) as { event: { eventId: string }; resources: ResourceTrial[] };
    expect(report.event.eventId).toBe(dropEventId);
    const [resource] = report.resources;
    const recorded = await hub.store.listDeliveries(dropEventId);
    expect(resource!.deliveries.map((delivery) => delivery.key).sort()).toEqual(recorded.map((delivery) => delivery.key).sort());
    const priceDrop = resource!.rules.find((rule) => rule.ruleId === 'price-drop-email')!;
    expect(priceDrop.evaluations.map((evaluation) => evaluation.subject.clientName).sort()).toEqual(['Ada Lindqvist', 'Elena Moretti', 'Ravi Chandran']);
    expect(resource!.mirrorNotes).toEqual([]);
  });

  it('says what the mirror lacks', async () => {
    const file = path.join(scratch, 'unknown-favorite.json');
    const stranger = { ...listings[5]!, favoriteId: 123456, clientId: 999, mlsNumber: listings[5]!.mlsNumber };
    await writeFile(file, JSON.stringify(webhookBody('favorite.created', stranger)));
    const output = capture();
    expect(await testRules(settingsFor(), file, {}, output)).toBe(0);
    const text = output.stdout.join('\n');
    expect(text).toContain('note: the mirror has no favorite 123456; the hub stores it from this event before routing, which this trial does not do');
    expect(text).toContain('note: rule favorite-created matched but has no recipient (agents, clients) among the people the mirror holds');
    expect(text).toContain('no deliveries');

    const noMirror = capture();
    expect(await testRules(settingsFor({ DATABASE_URL: path.join(scratch, 'absent.sqlite') }), file, {}, noMirror)).toBe(0);
    expect(noMirror.stdout.join('\n')).toContain(`note: no mirror database at ${path.join(scratch, 'absent.sqlite')} (DATABASE_URL)`);
  });
});

describe('hub rules simulate', () => {
  let candidateDir: string;

  beforeAll(async () => {
    candidateDir = path.join(scratch, 'candidate');
    await cp(rulesDir, candidateDir, { recursive: true });
    const priceDrop = JSON.parse(await readFile(path.join(candidateDir, 'price-drop-email.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(candidateDir, 'price-drop-email.json'), JSON.stringify({ ...priceDrop, disabled: true }));
    await writeFile(
      path.join(candidateDir, 'sold-email.json'),
      JSON.stringify({
        id: 'sold-email',
        description: 'Email each client whose favorite sold.',
        events: ['listing.updated'],
        when: { became: [{ var: 'change.lastStatus' }, ['Sld', 'Lsd']] },
        actions: [{ connector: 'email', template: 'listing-sold', to: 'clients' }],
      }),
    );
  });

  it('reports deliveries added and removed by candidate rules', async () => {
    const before = await recordedState();
    const result = await runHub(['rules', 'simulate', '--since', '1h', '--rules', candidateDir]);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/^replayed 9 recorded events since \S+: favorite\.created 7, listing\.updated 2$/m);
    expect(out).toContain('2 added, 3 removed (nothing is sent)');
    expect(out).toMatch(/^by connector:\n {2}email {2}\+2 -3$/m);
    expect(out).toContain('  + email listing-sold to client:5001 (rule sold-email)');
    expect(out).toContain('  - email price-drop to client:5002 (rule price-drop-email)');
    expect(out).toMatch(/^ {2}101 Maya Okafor +\+1 -2$/m);
    expect(out).not.toContain('reproduce the recorded deliveries');
    expect(await recordedState()).toBe(before);
  }, 60_000);

  it('counts changes per connector, agent and client in-process', async () => {
    const output = capture();
    expect(await simulateRules(settingsFor(), { since: '1h', rules: candidateDir, limit: 100, json: true }, output)).toBe(0);
    const report = JSON.parse(output.stdout.join('\n')) as SimulationReport;

    expect(report.eventCount).toBe(9);
    expect(report.recorded).toEqual({ reproduced: 9, differs: 0 });
    expect(report.live.deliveries).toBe(report.candidate.deliveries + 1);
    expect(report.byConnector).toEqual({ email: { added: 2, removed: 3 } });
    const fansOfSold = fansOf(listings[1]!).map((favorite) => String(favorite.clientId)).sort();
    expect(report.added.map((delivery) => delivery.clientId).sort()).toEqual(fansOfSold);
    expect(report.added.every((delivery) => delivery.eventId === saleEventId && delivery.listing !== null)).toBe(true);
    const fansOfErin = fansOf(listings[0]!).map((favorite) => String(favorite.clientId)).sort();
    expect(report.removed.map((delivery) => delivery.clientId).sort()).toEqual(fansOfErin);
    const clientTotals = Object.values(report.byClient).reduce((sum, change) => sum + change.added + change.removed, 0);
    expect(clientTotals).toBe(5);
    expect(Object.keys(report.byAgent).sort()).toEqual(['101', '102']);
  });

  it('replays only the latest events under --limit', async () => {
    const output = capture();
    await simulateRules(settingsFor(), { since: '1h', rules: candidateDir, limit: 1, json: true }, output);
    const report = JSON.parse(output.stdout.join('\n')) as SimulationReport;
    expect(report).toMatchObject({ eventCount: 1, truncated: true, events: { 'listing.updated': 1 } });
  });

  it('lists the problems of a broken candidate and exits 1', async () => {
    const broken = path.join(scratch, 'broken-candidate');
    await cp(candidateDir, broken, { recursive: true });
    await writeFile(path.join(broken, 'sold-email.json'), JSON.stringify({ id: 'sold-email', description: 'x', events: ['listing.updated'], when: { became: [{ var: 'change.lastStatus' }, ['Sold']] }, actions: [{ connector: 'email', template: 'listing-sold', to: 'clients' }] }));
    const output = capture();
    expect(await simulateRules(settingsFor(), { since: '1h', rules: broken, limit: 100 }, output)).toBe(1);
    expect(output.stderr[0]).toMatch(/^sold-email\.json rule "sold-email" at \/when\/became\/1: unknown lastStatus code "Sold"/);
  });

  it('rejects an invalid --since', async () => {
    const result = await runHub(['rules', 'simulate', '--since', 'yesterday']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('hub: invalid --since "yesterday"; use a duration back from now such as 90s, 30m, 24h, 7d or 2w, or an ISO date such as 2026-01-31T00:00:00Z');
  }, 60_000);
});

describe('reloading the rules of a running hub', () => {
  async function failedReloads(): Promise<number> {
    const metric = await metricsRegistry.getSingleMetric('hub_rule_reload_failures_total')!.get();
    return metric.values.reduce((sum, entry) => sum + entry.value, 0);
  }

  async function waitForVersion(other: string): Promise<string> {
    const deadline = Date.now() + 20_000;
    while (hub.ruleSet().version === other) {
      if (Date.now() > deadline) throw new Error('the hub did not reload its rules');
      await sleep(50);
    }
    return hub.ruleSet().version;
  }

  it('records the new version on deliveries after an edit', async () => {
    const oldVersion = hub.ruleSet().version;
    const recorded = await hub.store.listDeliveries(dropEventId);
    expect(recorded.every((delivery) => delivery.ruleSetVersion === oldVersion && delivery.ruleId === 'price-drop-email')).toBe(true);

    const file = path.join(rulesDir, 'price-drop-email.json');
    const rule = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...rule, when: { at_most: [{ var: 'change.price.percent' }, -1] } }));
    const newVersion = await waitForVersion(oldVersion);

    const erin = listings[0]!;
    const eventId = await deliver(
      'listing.updated',
      webhookBody('listing.updated', { ...erin, listPrice: '649900.00', lastStatus: 'Pc' }, {
        previous: { listPrice: '674900.00' },
        favoriteIds: fansOf(erin).map((favorite) => favorite.favoriteId),
      }),
    );
    const [finished] = await waitForEvents(hub.store, [eventId]);
    expect(finished!.event.ruleSetVersion).toBe(newVersion);
    expect(finished!.deliveries).toHaveLength(3);
    for (const delivery of finished!.deliveries) {
      expect(delivery.ruleId).toBe('price-drop-email');
      expect(delivery.ruleSetVersion).toBe(newVersion);
    }
  }, 60_000);

  it('keeps live rules through a broken edit', async () => {
    const version = hub.ruleSet().version;
    const failuresBefore = await failedReloads();
    const file = path.join(rulesDir, 'favorite-created.json');
    const good = await readFile(file, 'utf8');
    await writeFile(file, good.replace('"template": "favorite-created"', '"template": "favourite-created"'));
    try {
      const deadline = Date.now() + 20_000;
      while ((await failedReloads()) === failuresBefore) {
        if (Date.now() > deadline) throw new Error('the failed reload was not counted');
        await sleep(50);
      }
      expect(hub.ruleSet().version).toBe(version);

      const refused = await runHub(['rules', 'reload']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^favorite-created\.json rule "favorite-created" at \/actions\/0\/template: unknown slack template "favourite-created"/m);
      expect(refused.stderr).toContain('nothing was reloaded');
    } finally {
      await writeFile(file, good);
    }
    const output = capture();
    expect(await reloadRules(settingsFor(), { waitSeconds: 10 }, output)).toBe(0);
    expect(output.stdout[0]).toMatch(/^reload requested from 1 process\(es\); version [0-9a-f]{12} is in /);
    expect(output.stdout[1]).toMatch(new RegExp(`pid ${process.pid}: (now|already) on version ${version}$`));
    expect(hub.ruleSet().version).toBe(version);
  }, 60_000);

  it('reload command reaches the hub', async () => {
    const result = await runHub(['rules', 'reload', '--wait', '10']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`pid ${process.pid}: already on version ${hub.ruleSet().version}`);
  }, 60_000);

  it('reload command without listeners fails', async () => {
    const output = capture();
    expect(await reloadRules(settingsFor({ QUEUE_PREFIX: `${folder.settings.queuePrefix}-nobody` }), { waitSeconds: 1 }, output)).toBe(1);
    expect(output.stderr[0]).toMatch(/^no hub process listens on .*-nobody:rules:reload; is the hub running/);
  });
});
