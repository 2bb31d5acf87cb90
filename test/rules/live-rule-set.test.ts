import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { metricsRegistry } from '../../src/metrics/registry.js';
import { LiveRuleSet } from '../../src/rules/live-rule-set.js';
import { RuleLoadError } from '../../src/rules/load-rules.js';
import { publishReloadRequest } from '../../src/rules/reload-channel.js';
import { redisUrl } from '../helpers/test-hub.js';

const connectors = new Map<string, readonly string[]>([
  ['email', ['price-drop', 'listing-sold']],
  ['slack', ['favorite-created', 'price-drop', 'listing-sold']],
]);

const rule = {
  id: 'price-drop-email',
  description: 'Email clients on a price drop.',
  events: ['listing.updated'],
  when: { dropped: [{ var: 'previous.listPrice' }, { var: 'listing.listPrice' }] },
  actions: [{ connector: 'email', template: 'price-drop', to: 'clients' }],
};

let dir: string;
let logLines: Record<string, unknown>[];
let opened: LiveRuleSet[];

function captureLogger() {
  return createLogger('debug', { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
}

async function writeRule(name: string, content: unknown): Promise<void> {
  await writeFile(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
}

async function start(options: Partial<Parameters<typeof LiveRuleSet.start>[0]> = {}): Promise<LiveRuleSet> {
  const liveSet = await LiveRuleSet.start({ dir, connectors, logger: captureLogger(), debounceMs: 50, ...options });
  opened.push(liveSet);
  return liveSet;
}

async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function failedReloads(trigger: string): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('hub_rule_reload_failures_total')!.get();
  return metric.values.find((entry) => entry.labels.trigger === trigger)?.value ?? 0;
}

async function liveVersions(): Promise<string[]> {
  const metric = await metricsRegistry.getSingleMetric('hub_rule_set_info')!.get();
  return metric.values.map((entry) => String(entry.labels.version));
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hub-live-rules-'));
  logLines = [];
  opened = [];
  await writeRule('price-drop.json', rule);
});

afterEach(async () => {
  await Promise.all(opened.map((liveSet) => liveSet.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('LiveRuleSet', () => {
  it('refuses to start on a broken folder', async () => {
    await writeRule('broken.json', '{"id": ');
    await expect(start()).rejects.toBeInstanceOf(RuleLoadError);
  });

  it('replaces the rule set when a file changes', async () => {
    const liveSet = await start();
    const first = liveSet.current();
    expect(await liveVersions()).toContain(first.version);

    await writeRule('price-drop.json', { ...rule, description: 'Email clients when the price goes down.' });
    const second = await waitFor('a new version', () => (liveSet.current().version !== first.version ? liveSet.current() : null));

    expect(second.rules[0]!.description).toBe('Email clients when the price goes down.');
    // The old set is left whole, so an event that took it before the reload finishes with it.
    expect(first.rules[0]!.description).toBe('Email clients on a price drop.');
    expect(logLines).toContainEqual(expect.objectContaining({ msg: 'rules reloaded', trigger: 'watch', ruleSetVersion: second.version, previousVersion: first.version }));
    const versions = await liveVersions();
    expect(versions).toContain(second.version);
    expect(versions).not.toContain(first.version);
  });

  it('picks up a new file and a removed one', async () => {
    const liveSet = await start();
    const first = liveSet.current().version;
    await writeRule('sold.json', { ...rule, id: 'sold-slack', when: { became: [{ var: 'change.lastStatus' }, ['Sld']] }, actions: [{ connector: 'slack', template: 'listing-sold', to: { channel: '#sold' } }] });
    await waitFor('two rules', () => liveSet.current().rules.length === 2);
    await rm(path.join(dir, 'sold.json'));
    await waitFor('one rule', () => liveSet.current().rules.length === 1 && liveSet.current().version === first);
  });

  it('keeps the previous set live after a broken edit', async () => {
    const liveSet = await start();
    const first = liveSet.current();
    const failuresBefore = await failedReloads('watch');

    await writeRule('price-drop.json', { ...rule, when: { below: [{ var: 'listing.listPrice' }] } });
    await waitFor('a failed reload', async () => (await failedReloads('watch')) > failuresBefore);

    expect(liveSet.current()).toBe(first);
    const failure = logLines.find((line) => line.msg === 'rules reload failed, previous rule set kept');
    expect(failure).toMatchObject({ level: 50, trigger: 'watch', ruleSetVersion: first.version, problemCount: 1 });
    expect((failure!.problems as string[])[0]).toBe('price-drop.json rule "price-drop-email" at /when/below: below compares two values, but got 1; write {"below": [a, b]}');

    await writeRule('price-drop.json', { ...rule, description: 'Fixed.' });
    await waitFor('the fixed version', () => liveSet.current().rules[0]!.description === 'Fixed.');
  });

  it('reports each outcome of a direct reload', async () => {
    const liveSet = await start({ watch: false });
    const version = liveSet.current().version;
    expect(await liveSet.reload('command')).toEqual({ outcome: 'unchanged', version });

    await writeRule('price-drop.json', '{ not json');
    const failed = await liveSet.reload('command');
    expect(failed).toMatchObject({ outcome: 'failed', version });
    const problems = failed.outcome === 'failed' ? failed.problems : [];
    expect(problems[0]).toMatch(/^price-drop\.json at \/: invalid JSON/);

    await writeRule('price-drop.json', { ...rule, disabled: true });
    const replaced = await liveSet.reload('command');
    expect(replaced).toMatchObject({ outcome: 'replaced', previousVersion: version });
    expect(liveSet.current().byEvent.size).toBe(0);
  });

  it('runs overlapping reloads one after another and ends on the last folder', async () => {
    const liveSet = await start({ watch: false });
    const outcomes = [liveSet.reload('command')];
    await writeRule('price-drop.json', { ...rule, description: 'Second.' });
    outcomes.push(liveSet.reload('command'), liveSet.reload('command'));
    await Promise.all(outcomes);
    await waitFor('the last folder', () => liveSet.current().rules[0]!.description === 'Second.');
  });
});

describe('reload requests over Redis', () => {
  let prefix: string;
  const connections: Redis[] = [];

  function connection(): Redis {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    connections.push(redis);
    return redis;
  }

  beforeEach(() => {
    prefix = `hub-test-reload-${randomBytes(5).toString('hex')}`;
  });

  afterEach(() => {
    for (const redis of connections.splice(0)) redis.disconnect();
  });

  it('reloads every subscribed process and collects their replies', async () => {
    const publisher = connection();
    const processes = [
      await start({ watch: false, reloadRequests: { subscriber: connection(), publisher, prefix } }),
      await start({ watch: false, reloadRequests: { subscriber: connection(), publisher, prefix } }),
    ];
    const first = processes[0]!.current().version;
    await writeRule('price-drop.json', { ...rule, description: 'Reloaded by request.' });

    const result = await publishReloadRequest(connection(), connection(), prefix, 10_000);
    expect(result.receivers).toBe(2);
    expect(result.replies).toHaveLength(2);
    for (const reply of result.replies) {
      expect(reply).toMatchObject({ requestId: result.requestId, pid: process.pid, outcome: 'replaced', problems: [] });
      expect(reply.version).not.toBe(first);
    }
    for (const liveSet of processes) expect(liveSet.current().rules[0]!.description).toBe('Reloaded by request.');
  });

  it('replies with the problems of a broken folder and keeps the set', async () => {
    const publisher = connection();
    const liveSet = await start({ watch: false, reloadRequests: { subscriber: connection(), publisher, prefix } });
    const version = liveSet.current().version;
    const failuresBefore = await failedReloads('command');
    await writeRule('price-drop.json', { ...rule, actions: [{ connector: 'fax', template: 'x', to: 'clients' }] });

    const result = await publishReloadRequest(connection(), connection(), prefix, 10_000);
    expect(result.replies).toEqual([
      expect.objectContaining({ outcome: 'failed', version, problems: [expect.stringMatching(/^price-drop\.json rule "price-drop-email" at \/actions\/0\/connector: unknown connector "fax"/)] }),
    ]);
    expect(liveSet.current().version).toBe(version);
    expect(await failedReloads('command')).toBe(failuresBefore + 1);
  });

  it('counts no receiver when no process listens', async () => {
    const result = await publishReloadRequest(connection(), connection(), prefix, 500);
    expect(result).toMatchObject({ receivers: 0, replies: [] });
  });
});
