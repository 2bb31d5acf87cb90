/**
 * The shared frame of every drill. It sets up a temporary folder and a unique queue prefix, the services the hub
 * delivers to (a real SMTP server, the Slack and Salesforce stand-ins), a Repliers stand-in that subscribes with the
 * handshake, and the hub itself as child processes. A drill seeds the mirror, sends webhooks through a retrying
 * sender and injects its fault. Then it waits until every expected delivery arrived or the deadline passed, and
 * reports what was lost or doubled.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startRepliersStandIn, type RepliersStandIn } from '../../src/demo/repliers-stand-in.js';
import { waitForEvents } from '../../src/demo/wait-for-events.js';
import { HookSecrets } from '../../src/ingress/hook-secrets.js';
import { openStore } from '../../src/mirror/open-store.js';
import type { Store } from '../../src/mirror/store.js';
import { deliveryQueueName, eventsQueueName } from '../../src/queue/queues.js';
import { reconcileQueueName } from '../../src/sync/reconcile-scheduler.js';
import { startSalesforceApi, type SalesforceStandIn } from '../../test/stand-ins/salesforce-api.js';
import { startSlackApi, type SlackStandIn } from '../../test/stand-ins/slack-api.js';
import { ArrivalLedger, type LedgerCounts } from './arrival-ledger.js';
import { startDrillSmtpServer, type DrillSmtpServer } from './drill-smtp-server.js';
import { buildDrillWorld, clientOfWebhook, expectedDeliveries, favoriteCreatedWebhook, sampleListings, writeRules, type DrillRule, type DrillWorld } from './drill-world.js';
import { startHubProcess, type HubProcess, type HubRole } from './hub-process.js';
import { WebhookSender, type OutgoingWebhook, type SenderCounts, type SentWebhook } from './webhook-sender.js';

export const slackToken = 'xoxb-drill-token';
const connectorNames = ['email', 'slack', 'salesforce', 'webhook'];

export interface DrillOptions {
  /** Short name, such as "worker-kill"; also names the log files. */
  name: string;
  /** One line saying what the drill does. */
  title: string;
  rules: readonly DrillRule[];
  /** Clients, each with one favorite, mirrored before the load. */
  clients: number;
  /** Marks favorites with the tag `drill-a`. */
  tagged?: (index: number) => boolean;
  /** Redis of the hub; REDIS_URL or 127.0.0.1:6379 when absent. */
  redisUrl?: string;
  /** PostgreSQL URL for the store; an SQLite file in the drill folder when absent. */
  databaseUrl?: string;
  /** Further hub settings, such as EMAIL_CONCURRENCY. */
  hubEnv?: Record<string, string>;
  /** Start of the queue prefix; a random suffix is added. Default `hub-drill`. Braces make a Redis Cluster hash tag. */
  prefix?: (suffix: string) => string;
}

export interface DrillResult {
  name: string;
  title: string;
  passed: boolean;
  seconds: number;
  webhooks: SenderCounts;
  deliveries: LedgerCounts;
  /** Facts the drill adds to its figures, such as how long Redis was down. */
  notes: string[];
  /** Failed checks other than lost or doubled deliveries, such as a favorite the mirror shows in the wrong state. */
  problems: string[];
  logDir: string;
}

/** Reads a positive number from the environment, or `fallback`. Throws naming the variable when it is not one. */
export function numberSetting(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of 0 or more; got "${raw}"`);
  return value;
}

export class Drill {
  readonly ledger = new ArrivalLedger();
  readonly notes: string[] = [];
  readonly problems: string[] = [];
  readonly prefix: string;
  readonly processes: HubProcess[] = [];
  dir = '';
  logDir = '';
  rulesDir = '';
  world!: DrillWorld;
  smtp: DrillSmtpServer | null = null;
  slack: SlackStandIn | null = null;
  salesforce: SalesforceStandIn | null = null;
  repliers!: RepliersStandIn;
  store!: Store;
  redis!: Redis;
  sender!: WebhookSender;
  /** Settings every hub process of the drill gets. */
  env: Record<string, string> = {};
  private readonly started = performance.now();
  private readonly apiUrls: string[] = [];
  private slackSeen = 0;
  private salesforceSeen = 0;
  private processCount = 0;

  constructor(readonly options: DrillOptions) {
    const suffix = randomBytes(4).toString('hex');
    this.prefix = options.prefix ? options.prefix(suffix) : `hub-drill-${suffix}`;
  }

  get redisUrl(): string {
    return this.options.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  }

  /** Starts the services and stand-ins and writes the rules; no hub process yet. */
  async prepare(): Promise<void> {
    this.dir = await mkdtemp(path.join(os.tmpdir(), `hub-drill-${this.options.name}-`));
    this.logDir = path.join(os.tmpdir(), 'hub-drill-logs', this.options.name);
    await rm(this.logDir, { recursive: true, force: true });
    await mkdir(this.logDir, { recursive: true });
    this.rulesDir = path.join(this.dir, 'rules');
    await writeRules(this.rulesDir, this.options.rules);

    this.world = buildDrillWorld(await sampleListings(), this.options.clients, this.options.tagged);
    this.repliers = await startRepliersStandIn(this.world);
    const channels = new Set(this.options.rules.map((rule) => rule.channel));

    this.env = {
      REDIS_URL: this.redisUrl,
      QUEUE_PREFIX: this.prefix,
      DATABASE_URL: this.options.databaseUrl ?? path.join(this.dir, 'hub.sqlite'),
      RULES_DIR: this.rulesDir,
      OUTBOX_DIR: path.join(this.dir, 'outbox'),
      REPLIERS_API_URL: this.repliers.url,
      REPLIERS_API_KEY: this.repliers.apiKey,
      RECONCILE_INTERVAL_MINUTES: '0',
      LOG_LEVEL: 'warn',
    };
    if (channels.has('email')) {
      this.smtp = await startDrillSmtpServer(this.ledger);
      this.env.SMTP_URL = this.smtp.url;
    }
    if (channels.has('slack')) {
      this.slack = await startSlackApi({ token: slackToken, channels: [{ id: 'C0DRILL01', name: 'drill-alerts', isMember: true }] });
      Object.assign(this.env, { SLACK_TOKEN: slackToken, SLACK_API_URL: this.slack.url, SLACK_RATE_LIMIT_PER_MINUTE: '1200' });
    }
    if (channels.has('salesforce')) {
      this.salesforce = await startSalesforceApi({
        contacts: this.world.clients.map((client, index) => ({ Id: `003DR${String(index).padStart(10, '0')}AAA`, Email: client.email! })),
        users: this.world.agents.map((agent) => ({ Id: `005DR${String(agent.agentId).padStart(10, '0')}AAA`, Email: agent.email!, IsActive: true })),
      });
      const { clientId, clientSecret, refreshToken } = this.salesforce.state;
      Object.assign(this.env, {
        SALESFORCE_LOGIN_URL: this.salesforce.url,
        SALESFORCE_CLIENT_ID: clientId,
        SALESFORCE_CLIENT_SECRET: clientSecret,
        SALESFORCE_REFRESH_TOKEN: refreshToken,
      });
    }
    Object.assign(this.env, this.options.hubEnv ?? {});
    this.redis = new Redis(this.redisUrl, { maxRetriesPerRequest: null });
    this.redis.on('error', () => {});
  }

  /**
   * Starts one hub process. API processes are added to the sender's targets. Processes start one after the other,
   * because each migrates the store when it starts.
   */
  async startProcess(role: HubRole, port?: number): Promise<HubProcess> {
    this.processCount += 1;
    const logFile = path.join(this.logDir, `${this.processCount}-${role}.log`);
    const workersBefore = role === 'api' ? 0 : await this.workerCount();
    const hub = await startHubProcess({
      env: this.env,
      role,
      logFile,
      port,
      ready: role === 'api' ? undefined : async () => (await this.workerCount()) > workersBefore,
    });
    this.processes.push(hub);
    if (role !== 'worker' && !this.apiUrls.includes(hub.url)) this.apiUrls.push(hub.url);
    return hub;
  }

  /** Opens the store, subscribes each event at the first API with the handshake and creates the sender. */
  async connect(events: readonly string[]): Promise<void> {
    this.store = await openStore(this.env.DATABASE_URL!);
    const secrets = new HookSecrets(this.store, this.redis, this.prefix);
    for (const event of events) {
      await secrets.expect(event, 120);
      const answer = await this.repliers.subscribe(`${this.apiUrls[0]}/webhooks/repliers/${event}`, event);
      if (answer.status !== 200) throw new Error(`the handshake for ${event} failed: HTTP ${answer.status} ${answer.body}`);
    }
    this.sender = new WebhookSender({
      apiUrls: this.apiUrls,
      secretOf: (event) => {
        const secret = this.repliers.secretOf(event);
        if (!secret) throw new Error(`no subscription for ${event}`);
        return secret;
      },
    });
  }

  /** Mirrors every favorite through favorite.created webhooks and waits until the workers processed them. */
  async seedFavorites(timeoutMs = 180_000): Promise<void> {
    const seeder = new WebhookSender({ apiUrls: this.apiUrls, secretOf: (event) => this.repliers.secretOf(event)! });
    const webhooks = this.world.favorites.map((_favorite, index) => favoriteCreatedWebhook(this.world, index));
    const sent = await seeder.sendAll(webhooks, 500);
    const ids = sent.map((webhook) => webhook.eventId);
    if (ids.some((id) => id === null)) throw new Error('a favorite.created webhook of the seeding was not accepted');
    await waitForEvents(this.store, ids as string[], timeoutMs);
  }

  /** Adds the deliveries `rules` should make for each accepted webhook to the ledger. */
  expectFor(sent: readonly SentWebhook[], rules: readonly DrillRule[] = this.options.rules): void {
    for (const webhook of sent) {
      if (webhook.eventId === null) continue;
      for (const delivery of expectedDeliveries(webhook.eventId, webhook, clientOfWebhook(this.world, webhook), rules)) this.ledger.expect(delivery);
    }
  }

  /** Sends `webhooks` at `rate` per second and adds their expected deliveries. */
  async sendLoad(webhooks: readonly OutgoingWebhook[], rate: number, onProgress?: (index: number) => Promise<void> | void): Promise<SentWebhook[]> {
    const sent = await this.sender.sendAll(webhooks, rate, onProgress);
    this.expectFor(sent);
    return sent;
  }

  /** Counts the Slack messages and Salesforce Tasks that arrived since the last call. */
  collectArrivals(): void {
    const messages = this.slack?.state.messages ?? [];
    for (; this.slackSeen < messages.length; this.slackSeen++) {
      const metadata = messages[this.slackSeen]!.metadata as { event_payload?: { delivery_key?: unknown } } | undefined;
      const key = metadata?.event_payload?.delivery_key;
      this.ledger.arrive(typeof key === 'string' ? key : `unkeyed-slack-${this.slackSeen}`, 'slack');
    }
    const created = this.salesforce?.state.created ?? [];
    for (; this.salesforceSeen < created.length; this.salesforceSeen++) {
      const record = created[this.salesforceSeen]!;
      if (record.type !== 'Task' && record.type !== 'Note') continue;
      const text = String(record.fields.Description ?? record.fields.Body ?? '');
      const key = /delivery ([0-9a-f]{40})\.\s*$/.exec(text)?.[1];
      this.ledger.arrive(key ?? `unkeyed-salesforce-${this.salesforceSeen}`, 'salesforce');
    }
  }

  /** Jobs of the drill's queues that are not finished: waiting (paused included), active, delayed or prioritized. */
  async openJobs(): Promise<number> {
    let open = 0;
    for (const name of [eventsQueueName, ...connectorNames.map(deliveryQueueName)]) {
      const queue = new Queue(name, { connection: this.redis, prefix: this.prefix });
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      await queue.close();
      open += Object.values(counts).reduce((sum, count) => sum + count, 0);
    }
    return open;
  }

  /** Active jobs of the events queue and of the email, Slack and Salesforce queues, for notes such as "events 8, email 20". */
  async activeJobs(): Promise<string> {
    const parts: string[] = [];
    for (const name of [eventsQueueName, ...connectorNames.slice(0, 3).map(deliveryQueueName)]) {
      const queue = new Queue(name, { connection: this.redis, prefix: this.prefix });
      parts.push(`${name.replace('deliver-', '')} ${await queue.getActiveCount()}`);
      await queue.close();
    }
    return parts.join(', ');
  }

  /** Worker processes connected to the events queue. */
  async workerCount(): Promise<number> {
    const queue = new Queue(eventsQueueName, { connection: this.redis, prefix: this.prefix });
    try {
      return await queue.getWorkersCount();
    } finally {
      await queue.close();
    }
  }

  /**
   * Waits until every expected delivery arrived and no job is left in the queues, then `settleMs` more for late
   * repeats. Gives up at `deadlineMs` after the call. Returns whether everything arrived.
   */
  async waitForDeliveries(deadlineMs: number, settleMs = 3000): Promise<boolean> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      this.collectArrivals();
      const open = this.ledger.complete() ? await this.openJobs().catch(() => 1) : 1;
      if (open === 0) break;
      if (Date.now() > deadline) return false;
      await sleep(250);
    }
    await sleep(settleMs);
    this.collectArrivals();
    return this.ledger.complete();
  }

  /** Counts the log lines of every hub process of the drill that `match` accepts. */
  async countLogLines(match: (line: string) => boolean): Promise<number> {
    let count = 0;
    for (let index = 1; index <= this.processCount; index++) {
      for (const role of ['all', 'api', 'worker']) {
        const text = await readFile(path.join(this.logDir, `${index}-${role}.log`), 'utf8').catch(() => '');
        count += text.split('\n').filter(match).length;
      }
    }
    return count;
  }

  /** Counts the lines the hub processes logged at error level or above (pino levels 50 and 60). */
  loggedErrors(): Promise<number> {
    return this.countLogLines((line) => /"level":(50|60)/.test(line));
  }

  /** Prints the drill's figures and returns its result; writes it to DRILL_RESULT_FILE when set. */
  async report(): Promise<DrillResult> {
    this.collectArrivals();
    const deliveries = this.ledger.counts();
    const webhooks = this.sender.counts;
    const passed =
      deliveries.missing === 0 && deliveries.duplicated === 0 && deliveries.unexpected === 0 && webhooks.notAccepted === 0 && this.problems.length === 0;
    const seconds = (performance.now() - this.started) / 1000;
    const errors = await this.loggedErrors();
    const result: DrillResult = {
      name: this.options.name,
      title: this.options.title,
      passed,
      seconds,
      webhooks,
      deliveries,
      notes: [...this.notes, `the hub logged ${errors} error line(s); logs in ${this.logDir}`],
      problems: this.problems,
      logDir: this.logDir,
    };

    console.log(`\n${this.options.name}: ${this.options.title}`);
    console.log(
      `  events     sent ${webhooks.sent}, accepted ${webhooks.accepted}, not accepted ${webhooks.notAccepted};` +
        ` ${webhooks.retried} sent more than once after 503 ×${webhooks.answered503}, other 5xx ×${webhooks.answered5xx},` +
        ` connection errors ×${webhooks.networkErrors}; rejected 4xx ×${webhooks.rejected}`,
    );
    console.log(
      `  deliveries expected ${deliveries.expected}, arrived ${deliveries.arrived}, lost ${deliveries.missing}, duplicated ${deliveries.duplicated}` +
        ` (extra arrivals ${deliveries.extraArrivals}), unexpected ${deliveries.unexpected}`,
    );
    for (const missing of this.ledger.missing().slice(0, 5)) console.log(`  lost       ${missing.channel} ${missing.key} from ${missing.webhook}`);
    for (const repeat of this.ledger.duplicatedKeys().slice(0, 5)) console.log(`  duplicated ${await this.describeRepeat(repeat)}`);
    for (const problem of this.problems) console.log(`  problem    ${problem}`);
    for (const note of result.notes) console.log(`  note       ${note}`);
    console.log(`  result     ${passed ? 'PASS' : 'FAIL'} in ${seconds.toFixed(0)} s`);

    if (process.env.DRILL_RESULT_FILE) await writeFile(process.env.DRILL_RESULT_FILE, JSON.stringify(result));
    return result;
  }

  /** Describes a delivery that arrived more than once in one line: its record in the store and, for email, its Message-IDs. */
  private async describeRepeat(repeat: { key: string; channel: string; count: number }): Promise<string> {
    const record = await this.store.getDelivery(repeat.key).catch(() => null);
    const parts = [`${repeat.channel} ${repeat.key} arrived ×${repeat.count}`];
    if (record) parts.push(`recorded ${record.status} after ${record.attempts} attempt(s)`);
    if (repeat.channel === 'email' && this.smtp) {
      const ids = this.smtp.messageIdsOf(repeat.key);
      parts.push(new Set(ids).size === 1 ? `every copy with Message-ID ${ids[0]}` : `Message-IDs ${ids.join(', ')}`);
    }
    return parts.join('; ');
  }

  /** Stops every process and service, removes the drill's Redis keys and its folder (logs are kept). */
  async cleanup(): Promise<void> {
    await Promise.all(this.processes.map((hub) => hub.stop('SIGKILL')));
    await this.repliers?.close();
    await this.smtp?.close();
    await this.slack?.close();
    await this.salesforce?.close();
    await this.store?.close();
    if (this.redis && this.redis.status === 'ready') {
      for (const name of [eventsQueueName, reconcileQueueName, ...connectorNames.map(deliveryQueueName)]) {
        const queue = new Queue(name, { connection: this.redis, prefix: this.prefix });
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
      }
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
        if (keys.length > 0) await this.redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
    this.redis?.disconnect();
    if (process.env.DRILL_KEEP_FILES !== '1') await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Runs a drill's body between `prepare` and `cleanup` and sets the exit code: 0 when nothing was lost or doubled.
 */
export async function runDrill(options: DrillOptions, body: (drill: Drill) => Promise<void>): Promise<DrillResult | null> {
  const drill = new Drill(options);
  let result: DrillResult | null = null;
  try {
    await drill.prepare();
    await body(drill);
    result = await drill.report();
  } catch (error) {
    console.error(`\n${options.name}: the drill could not finish: ${(error as Error).stack ?? String(error)}`);
    process.exitCode = 2;
  } finally {
    await drill.cleanup().catch((error: unknown) => console.error(`${options.name}: clean-up failed: ${String(error)}`));
  }
  if (result && !result.passed) process.exitCode = 1;
  return result;
}
