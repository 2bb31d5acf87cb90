/** The `hub rules` subcommands: check, reload, test and simulate. None of them sends a message. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Connector } from '../../connectors/connector.js';
import { templatesOf, withConnectors } from '../../connectors/registry.js';
import type { Settings } from '../config/settings.js';
import { connectRedis } from '../hub.js';
import { parseTimeInput, timeInputForms } from '../time-input.js';
import { redisTargetOf } from '../queue/queues.js';
import { eventIdFor } from '../ingress/webhook-route.js';
import { createLogger } from '../logger.js';
import { openStore } from '../mirror/open-store.js';
import { SqliteStore } from '../mirror/sqlite/sqlite-store.js';
import type { Store } from '../mirror/store.js';
import { isRepliersEvent, repliersEvents } from '../repliers/events.js';
import { readWebhookBody, WebhookBodyError, type WebhookBody } from '../repliers/webhook-body.js';
import { countProblems, formatProblem, loadRuleSet, RuleLoadError } from '../rules/load-rules.js';
import { publishReloadRequest, reloadChannel, type ReloadReply } from '../rules/reload-channel.js';
import type { RuleSet } from '../rules/rule.js';
import { simulateRuleSet } from '../rules/simulate.js';
import { formatSimulation } from '../rules/simulation-report.js';
import { formatTrial } from '../rules/trial-report.js';
import { tryEvent } from '../rules/try-event.js';
import { UsageError } from './commands.js';

/** The destination of a command's output; tests pass their own to read what a user would see. */
export interface CommandOutput {
  out(text: string): void;
  err(text: string): void;
}

export const consoleOutput: CommandOutput = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
};

/** Loads a rule set, or prints every problem and returns null. */
async function loadOrReport(dir: string, connectors: Map<string, Connector>, output: CommandOutput): Promise<RuleSet | null> {
  try {
    return await loadRuleSet(dir, templatesOf(connectors));
  } catch (error) {
    if (!(error instanceof RuleLoadError)) throw error;
    for (const problem of error.problems) output.err(formatProblem(problem));
    output.err(`${countProblems(error.problems.length)} found in ${dir}`);
    return null;
  }
}

/** `hub rules check`: validates every rule file and lists all problems. Returns the exit code: 1 on any problem. */
export async function checkRules(settings: Readonly<Settings>, dir?: string, output: CommandOutput = consoleOutput): Promise<number> {
  return withConnectors(settings, async (connectors) => {
    const ruleSet = await loadOrReport(dir ?? settings.rulesDir, connectors, output);
    if (!ruleSet) return 1;
    const enabled = ruleSet.rules.filter((rule) => !rule.disabled).length;
    output.out(`${ruleSet.rules.length} rules are valid (${enabled} enabled), version ${ruleSet.version}`);
    return 0;
  });
}

export interface ReloadCommandOptions {
  dir?: string;
  /** How long to wait for the worker processes to reply, in seconds. */
  waitSeconds: number;
}

function describeReply(reply: ReloadReply): string[] {
  const who = `${reply.host} pid ${reply.pid}`;
  switch (reply.outcome) {
    case 'replaced':
      return [`${who}: now on version ${reply.version}`];
    case 'unchanged':
      return [`${who}: already on version ${reply.version}`];
    case 'failed':
      return [`${who}: reload failed, still on version ${reply.version}`, ...reply.problems.map((problem) => `  ${problem}`)];
  }
}

/**
 * `hub rules reload`: checks the rules folder here, then requests through Redis that every hub process reload, and
 * prints what each one did. Publishes nothing when the folder has a problem. Returns the exit code: 1 when the
 * folder is invalid, no hub process listens, a process failed to reload or did not reply in time.
 */
export async function reloadRules(settings: Readonly<Settings>, options: ReloadCommandOptions, output: CommandOutput = consoleOutput): Promise<number> {
  const dir = options.dir ?? settings.rulesDir;
  const ruleSet = await withConnectors(settings, (connectors) => loadOrReport(dir, connectors, output));
  if (!ruleSet) {
    output.err('nothing was reloaded: fix the problems above first (running processes keep their rules meanwhile)');
    return 1;
  }

  const logger = createLogger('silent');
  const publisher = await connectRedis(redisTargetOf(settings), 'producer', logger);
  const subscriber = await connectRedis(redisTargetOf(settings), 'worker', logger);
  try {
    const result = await publishReloadRequest(publisher, subscriber, settings.queuePrefix, options.waitSeconds * 1000);
    if (result.receivers === 0) {
      output.err(
        `no hub process listens on ${reloadChannel(settings.queuePrefix)}; is the hub running with the same REDIS_URL and QUEUE_PREFIX?`,
      );
      return 1;
    }
    output.out(`reload requested from ${result.receivers} process(es); version ${ruleSet.version} is in ${dir} here`);
    for (const reply of result.replies) for (const line of describeReply(reply)) output.out(line);

    const missing = result.receivers - result.replies.length;
    if (missing > 0) output.err(`${missing} process(es) did not reply within ${options.waitSeconds} s; check their logs`);
    const failed = result.replies.some((reply) => reply.outcome === 'failed');
    return failed || missing > 0 ? 1 : 0;
  } finally {
    publisher.disconnect();
    subscriber.disconnect();
  }
}

/** Opens the configured mirror for reading, or an empty one with a note when no SQLite file exists there. */
async function openMirror(settings: Readonly<Settings>): Promise<{ store: Store; note: string | null }> {
  const url = settings.databaseUrl;
  if (!/^postgres(ql)?:\/\//.test(url)) {
    const file = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
    if (file !== ':memory:' && !existsSync(file)) {
      const store = new SqliteStore(':memory:');
      await store.migrate();
      return { store, note: `no mirror database at ${path.resolve(file)} (DATABASE_URL): favorites, clients and agents are all unknown` };
    }
  }
  return { store: await openStore(url), note: null };
}

export interface TestCommandOptions {
  /** The event name when the body has no `hook.event`. */
  event?: string;
  dir?: string;
  json?: boolean;
}

/** Reads a webhook body file and its event name, or throws UsageError saying what is wrong. */
async function readEventFile(file: string, eventOption: string | undefined): Promise<{ bytes: Buffer; body: WebhookBody; event: string }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new UsageError(`cannot read the event file ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new UsageError(`the event file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  let body: WebhookBody;
  try {
    body = readWebhookBody(parsed);
  } catch (error) {
    if (error instanceof WebhookBodyError) throw new UsageError(`the event file ${file} is not a Repliers webhook body: ${error.message}`);
    throw error;
  }

  if (body.hookEvent && eventOption && body.hookEvent !== eventOption) {
    throw new UsageError(`the body's hook.event is "${body.hookEvent}" but --event is "${eventOption}"; drop --event or make them agree`);
  }
  const event = body.hookEvent ?? eventOption;
  if (!event) throw new UsageError(`the body has no hook.event; name the event with --event, such as --event listing.updated`);
  if (!isRepliersEvent(event)) throw new UsageError(`unknown event "${event}"; use one of ${repliersEvents.join(', ')}`);
  return { bytes, body, event };
}

/**
 * `hub rules test <event.json>`: shows for each rule whether it matches the body, with the trace of its condition,
 * and previews every delivery it would make. Sends nothing and writes nothing. Returns the exit code: 1 when the
 * rules are invalid, else 0.
 */
export async function testRules(settings: Readonly<Settings>, file: string, options: TestCommandOptions, output: CommandOutput = consoleOutput): Promise<number> {
  const { bytes, body, event } = await readEventFile(file, options.event);
  const logger = createLogger('silent');

  return withConnectors(settings, async (connectors) => {
    const ruleSet = await loadOrReport(options.dir ?? settings.rulesDir, connectors, output);
    if (!ruleSet) return 1;

    const mirror = await openMirror(settings);
    try {
      const tried = { eventType: event, eventId: eventIdFor(event, bytes), receivedAt: new Date().toISOString() };
      const trials = await tryEvent(
        { ruleSet, store: mirror.store, connectors, viewOptions: viewOptionsOf(settings), logger },
        tried,
        body.resources,
      );
      if (mirror.note) for (const trial of trials) trial.mirrorNotes.unshift(mirror.note);
      if (options.json) output.out(JSON.stringify({ event: tried, ruleSetVersion: ruleSet.version, resources: trials }, null, 2));
      else output.out(formatTrial(tried, ruleSet, trials));
      return 0;
    } finally {
      await mirror.store.close();
    }
  });
}

/** Parses a duration back from now or an ISO date, as `--since` takes them. */
export function parseSince(value: string, now = Date.now()): string {
  const time = parseTimeInput(value, now);
  if (time === null) throw new UsageError(`invalid --since "${value}"; use ${timeInputForms}`);
  return time;
}

export interface SimulateCommandOptions {
  /** A duration or an ISO date; see parseSince. */
  since: string;
  /** The candidate rules folder; default RULES_DIR. */
  rules?: string;
  /** The folder of the live rules to compare with; default RULES_DIR. */
  live?: string;
  /** Most events replayed, the latest ones. */
  limit: number;
  json?: boolean;
}

/**
 * `hub rules simulate`: replays the events recorded since a time against a candidate rule set and the live one,
 * and reports the deliveries the candidate would add and remove. Sends nothing and writes nothing. Returns the
 * exit code: 1 when either rule set is invalid or there is no hub database, else 0.
 */
export async function simulateRules(settings: Readonly<Settings>, options: SimulateCommandOptions, output: CommandOutput = consoleOutput): Promise<number> {
  const since = parseSince(options.since);
  const liveDir = options.live ?? settings.rulesDir;
  const candidateDir = options.rules ?? settings.rulesDir;

  return withConnectors(settings, async (connectors) => {
    const live = await loadOrReport(liveDir, connectors, output);
    const candidate = await loadOrReport(candidateDir, connectors, output);
    if (!live || !candidate) return 1;

    const mirror = await openMirror(settings);
    if (mirror.note) {
      await mirror.store.close();
      output.err(`${mirror.note}; simulate replays the events the hub recorded there, so point DATABASE_URL at the hub's database`);
      return 1;
    }
    try {
      const report = await simulateRuleSet({
        store: mirror.store,
        live,
        candidate,
        viewOptions: viewOptionsOf(settings),
        logger: createLogger('silent'),
        since,
        limit: options.limit,
      });
      output.out(options.json ? JSON.stringify(report, null, 2) : formatSimulation(report, liveDir, candidateDir));
      return 0;
    } finally {
      await mirror.store.close();
    }
  });
}

function viewOptionsOf(settings: Readonly<Settings>) {
  return { imageBaseUrl: settings.repliersImageUrl, listingUrlTemplate: settings.listingUrlTemplate };
}
