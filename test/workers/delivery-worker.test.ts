/**
 * The delivery worker on the real Redis with a real SQLite store, sending through real connectors to local
 * stand-ins: records around each send, retries, Retry-After, pausing a connector, digests and opt-outs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { Connector, Delivery } from '../../connectors/connector.js';
import { connectorStatusCommand, resumeConnectorCommand } from '../../connectors/connector-commands.js';
import { pauseConnector, readConnectorPause, resumeConnector } from '../../connectors/connector-pause.js';
import { createEmailConnector } from '../../connectors/email/email-connector.js';
import { createSalesforceConnector } from '../../connectors/salesforce/salesforce-connector.js';
import { createSlackConnector } from '../../connectors/slack/slack-connector.js';
import { loadSettings } from '../../src/config/settings.js';
import { createLogger } from '../../src/logger.js';
import type { DeliveryRecord } from '../../src/mirror/records.js';
import { SqliteStore } from '../../src/mirror/sqlite/sqlite-store.js';
import { deliveryQueueName } from '../../src/queue/queues.js';
import { recipientLabel } from '../../src/workers/route-event.js';
import { startDeliveryWorker, type DeliveryWorker, type DeliveryWorkerOptions } from '../../src/workers/delivery-worker.js';
import { makeDelivery, type DeliveryOverrides } from '../connectors/fixtures.js';
import { redisUrl } from '../helpers/test-hub.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { startSalesforceApi, type SalesforceStandIn } from '../stand-ins/salesforce-api.js';
import { startSlackApi, type SlackStandIn } from '../stand-ins/slack-api.js';

const slackToken = 'xoxb-test-token';
/** Short retries, so a test of three attempts takes well under a second of backoff. */
const fastRetries: JobsOptions = { attempts: 3, backoff: { type: 'fixed', delay: 100 } };

let dir: string;
let prefix: string;
let redis: Redis;
let store: SqliteStore;
let slack: SlackStandIn;
let smtp: SmtpSink;
const workers: DeliveryWorker[] = [];
const queues = new Map<string, Queue>();
const connectors: Connector[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'delivery-worker-'));
  prefix = `hub-test-${randomBytes(5).toString('hex')}`;
  redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  store = new SqliteStore(path.join(dir, 'hub.sqlite'));
  await store.migrate();
  slack = await startSlackApi({
    token: slackToken,
    channels: [
      { id: 'C0DEALS01', name: 'deals', isMember: true },
      { id: 'C0ALERTS1', name: 'hub-alerts', isMember: true },
    ],
    users: [{ id: 'U0GRACE01', email: 'grace.hopper@example.com' }],
  });
  smtp = await startSmtpSink();
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.close()));
  for (const queue of queues.values()) {
    await queue.obliterate({ force: true });
    await queue.close();
  }
  queues.clear();
  await Promise.all(connectors.splice(0).map((connector) => connector.close()));
  const leftovers = await redis.keys(`${prefix}:*`);
  if (leftovers.length > 0) await redis.del(...leftovers);
  redis.disconnect();
  await store.close();
  await slack.close();
  await smtp.close();
  await rm(dir, { recursive: true, force: true });
});

function slackConnector(): Connector {
  const connector = createSlackConnector({ token: slackToken, apiUrl: slack.url, outboxDir: dir });
  connectors.push(connector);
  return connector;
}

function emailConnector(): Connector {
  const connector = createEmailConnector({ smtpUrl: smtp.url, from: 'Listings <listings@hub.example.com>', outboxDir: dir });
  connectors.push(connector);
  return connector;
}

function start(connector: Connector, options: Partial<DeliveryWorkerOptions> = {}): DeliveryWorker {
  const worker = startDeliveryWorker({ redis, prefix, connector, store, logger: createLogger('silent'), ...options });
  workers.push(worker);
  return worker;
}

function queueOf(connector: string): Queue {
  let queue = queues.get(connector);
  if (!queue) {
    queue = new Queue(deliveryQueueName(connector), { connection: redis, prefix });
    queues.set(connector, queue);
  }
  return queue;
}

async function enqueue(delivery: Delivery, options: JobsOptions = fastRetries, jobId = delivery.key): Promise<void> {
  await store.recordDeliveries(
    [
      {
        key: delivery.key,
        eventId: delivery.eventId,
        ruleId: delivery.ruleId,
        ruleSetVersion: delivery.ruleSetVersion,
        connector: delivery.action.connector,
        recipient: recipientLabel(delivery.recipient),
      },
    ],
    new Date().toISOString(),
  );
  await queueOf(delivery.action.connector).add(delivery.action.template, delivery, { ...options, jobId });
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitForStatus(key: string, status: DeliveryRecord['status'], timeoutMs?: number): Promise<DeliveryRecord> {
  return (await waitFor(() => store.getDelivery(key), (record) => record?.status === status, timeoutMs))!;
}

function toChannel(overrides: DeliveryOverrides = {}): Delivery {
  return makeDelivery({ action: { connector: 'slack', template: 'price-drop', to: { channel: '#deals' } }, recipient: { kind: 'channel', channel: '#deals' }, ...overrides });
}

function toClient(overrides: DeliveryOverrides = {}): Delivery {
  return makeDelivery({ action: { connector: 'email', template: 'price-drop', to: 'clients' }, ...overrides });
}

describe('delivery worker, records', () => {
  it('sends once and ignores a replay', async () => {
    start(emailConnector());
    const delivery = toClient();

    await enqueue(delivery);
    const record = await waitForStatus(delivery.key, 'sent');
    await enqueue(delivery, fastRetries, `${delivery.key}-replay`);
    const replay = await waitFor(() => queueOf('email').getJob(`${delivery.key}-replay`), (job) => Boolean(job?.finishedOn));

    expect(smtp.messages).toHaveLength(1);
    expect(record).toMatchObject({ attempts: 1, receipt: `<${delivery.key}@hub.example.com>` });
    expect(replay!.returnvalue).toBe('sent');
  });

  it('retries a temporary failure', async () => {
    start(slackConnector());
    slack.state.failNext(1, { kind: 'http', status: 503 });
    const delivery = toChannel();

    await enqueue(delivery);
    const record = await waitForStatus(delivery.key, 'sent');

    expect(record.attempts).toBe(2);
    expect(slack.state.messages).toHaveLength(1);
  });

  it('fails a permanent error at once', async () => {
    start(slackConnector());
    const delivery = toChannel({ recipient: { kind: 'channel', channel: '#nowhere' } });

    await enqueue(delivery);
    const record = await waitForStatus(delivery.key, 'failed');

    expect(record.attempts).toBe(1);
    expect(record.lastError).toContain('Check the channel name in rule price-drop');
    const job = await waitFor(() => queueOf('slack').getJob(delivery.key), (found) => Boolean(found?.failedReason));
    expect(job!.attemptsMade).toBe(1);
  });

  it('skips a client who opted out after routing', async () => {
    start(emailConnector());
    const delivery = toClient();
    await store.upsertClient({ ...delivery.client!, clientId: '77' }, new Date().toISOString());
    await store.recordOptOut('77', new Date().toISOString());

    await enqueue(delivery);
    const record = await waitForStatus(delivery.key, 'skipped');

    expect(record.lastError).toContain('opted out');
    expect(smtp.messages).toHaveLength(0);
  });
});

describe('delivery worker, rate limits', () => {
  it('waits out Retry-After without an attempt', async () => {
    start(slackConnector());
    slack.state.failNext(1, { kind: 'rate-limit', retryAfterSeconds: 1 });
    const delivery = toChannel();
    const started = Date.now();

    await enqueue(delivery, { attempts: 1 });
    const record = await waitForStatus(delivery.key, 'sent');

    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(record).toMatchObject({ rateLimitedCount: 1, attempts: 2 });
    expect(slack.state.messages).toHaveLength(1);
  });

  it('stops postponing after the limit', async () => {
    start(slackConnector(), { maxRateLimitPostponements: 1 });
    slack.state.failNext(10, { kind: 'rate-limit', retryAfterSeconds: 1 });
    const delivery = toChannel();

    await enqueue(delivery, { attempts: 2, backoff: { type: 'fixed', delay: 100 } });
    const record = await waitForStatus(delivery.key, 'failed');

    expect(record.rateLimitedCount).toBe(1);
    expect(record.attempts).toBe(3);
    expect(slack.state.callsTo('chat.postMessage')).toHaveLength(3);
  });
});

describe('delivery worker, finding a sent message', () => {
  it('records a message an unfinished attempt sent', async () => {
    const connector = slackConnector();
    const delivery = toChannel();
    await enqueue(delivery, { attempts: 1, delay: 60_000 });
    // The earlier attempt: recorded 'sending', sent, then died before recording the outcome.
    await store.setDeliveryStatus(delivery.key, 'sending', {}, new Date().toISOString());
    await connector.send(delivery);
    start(connector);

    await (await queueOf('slack').getJob(delivery.key))!.promote();
    const record = await waitForStatus(delivery.key, 'sent');

    expect(slack.state.messages).toHaveLength(1);
    expect(record.receipt).toBe(`C0DEALS01:${slack.state.messages[0]!.ts}`);
    expect(record.attempts).toBe(1);
  });
});

describe('delivery worker, pausing a connector', () => {
  let salesforce: SalesforceStandIn;

  beforeEach(async () => {
    salesforce = await startSalesforceApi({
      contacts: [{ Id: '0035g00000ADA0001A', Email: 'ada.lovelace@example.com' }],
      users: [{ Id: '0055g00000GRACE01A', Email: 'grace.hopper@example.com', IsActive: true }],
    });
  });

  afterEach(async () => {
    await salesforce.close();
  });

  function salesforceConnector(): Connector {
    const connector = createSalesforceConnector({
      loginUrl: salesforce.url,
      instanceUrl: null,
      clientId: salesforce.state.clientId,
      clientSecret: salesforce.state.clientSecret,
      refreshToken: salesforce.state.refreshToken,
      username: null,
      password: null,
      recordType: 'task',
      onNoMatch: 'skip',
      outboxDir: dir,
      apiVersion: '61.0',
    });
    connectors.push(connector);
    return connector;
  }

  const alerts = (intervalSeconds = 900) => ({
    slackChannel: '#hub-alerts',
    email: null,
    intervalSeconds,
    slackToken,
    slackApiUrl: slack.url,
    smtpUrl: null,
    mailFrom: 'hub@example.com',
    outboxDir: dir,
  });

  function toSalesforce(key: string): Delivery {
    return makeDelivery({ key, action: { connector: 'salesforce', template: 'price-drop', to: 'clients' } });
  }

  it('pauses on an API limit, alerts once and resumes by command', async () => {
    start(salesforceConnector(), { pauseMs: 3_600_000, alerts: alerts() });
    start(emailConnector());
    salesforce.state.limitExceeded = true;

    await enqueue(toSalesforce('sf-1'));
    await waitFor(() => queueOf('salesforce').isPaused(), (paused) => paused);
    await enqueue(toSalesforce('sf-2'));
    await enqueue(toClient());
    await waitForStatus(toClient().key, 'sent');

    const pause = await readConnectorPause(redis, prefix, 'salesforce');
    expect(pause).toMatchObject({ code: 'SALESFORCE_API_LIMIT' });
    expect(await store.getDelivery('sf-1')).toMatchObject({ status: 'pending' });
    expect(await store.getDelivery('sf-2')).toMatchObject({ status: 'pending', attempts: 0 });
    const alert = await waitFor(async () => slack.state.messages.filter((message) => message.channel === 'C0ALERTS1'), (found) => found.length > 0);
    expect(alert).toHaveLength(1);
    expect(alert[0]!.text).toContain('SALESFORCE_API_LIMIT');
    expect(alert[0]!.text).toContain('hub connectors resume salesforce');

    salesforce.state.limitExceeded = false;
    expect(await resumeConnector(queueOf('salesforce'), redis, prefix, 'salesforce')).toBe(true);
    await waitForStatus('sf-1', 'sent');
    await waitForStatus('sf-2', 'sent');
    expect(salesforce.state.createdOf('Task')).toHaveLength(2);
    expect(await readConnectorPause(redis, prefix, 'salesforce')).toBeNull();
  });

  it('pauses Slack on a rejected token', async () => {
    start(slackConnector(), { pauseMs: 3_600_000, ratePerMinute: 60 });
    slack.state.token = 'xoxb-rotated';

    await enqueue(toChannel({ key: 'slack-1' }));
    await waitFor(() => queueOf('slack').isPaused(), (paused) => paused);
    await enqueue(toChannel({ key: 'slack-2' }));

    expect(await readConnectorPause(redis, prefix, 'slack')).toMatchObject({ code: 'SLACK_INVALID_AUTH' });
    expect(await store.getDelivery('slack-1')).toMatchObject({ status: 'pending' });
    expect(await store.getDelivery('slack-2')).toMatchObject({ status: 'pending', attempts: 0 });
    expect(slack.state.messages).toHaveLength(0);

    // The worker must take the deliveries at once, not after the rest of the 60-per-minute limiter's window.
    slack.state.token = slackToken;
    expect(await resumeConnector(queueOf('slack'), redis, prefix, 'slack')).toBe(true);
    await waitForStatus('slack-1', 'sent', 5000);
    await waitForStatus('slack-2', 'sent', 5000);
    expect(slack.state.messages).toHaveLength(2);
  });

  it('hub connectors resume ends a pause', async () => {
    // SMTP_URL is set so that email shows as live; building the connector opens no connection.
    const settings = loadSettings({ REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: 'silent', SMTP_URL: smtp.url });
    const until = new Date(Date.now() + 3_600_000).toISOString();
    await pauseConnector(queueOf('salesforce'), redis, prefix, 'salesforce', { code: 'SALESFORCE_API_LIMIT', reason: 'limit', since: new Date().toISOString(), until });
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));

    try {
      await resumeConnectorCommand(settings, 'salesforce');
      await connectorStatusCommand(settings);
    } finally {
      log.mockRestore();
    }

    expect(await queueOf('salesforce').isPaused()).toBe(false);
    expect(printed[0]).toMatch(/^salesforce resumed \(paused since .* for SALESFORCE_API_LIMIT\); 0 deliveries are queued$/);
    expect(printed).toContain('salesforce: running, writing to the outbox (its service is not configured here); 0 waiting, 0 active, 0 delayed, 0 failed');
    expect(printed).toContain('email: running; 0 waiting, 0 active, 0 delayed, 0 failed');
    await expect(resumeConnectorCommand(settings, 'fax')).rejects.toThrow('unknown connector "fax"; use one of email, slack, salesforce, webhook');
  });

  it('resumes by itself after the pause', async () => {
    start(salesforceConnector(), { pauseMs: 1500 });
    salesforce.state.grantRevoked = true;

    await enqueue(toSalesforce('sf-1'));
    await waitFor(() => queueOf('salesforce').isPaused(), (paused) => paused);
    salesforce.state.grantRevoked = false;
    const record = await waitForStatus('sf-1', 'sent');

    expect(record.lastError).toBeNull();
    expect(await queueOf('salesforce').isPaused()).toBe(false);
  });

  it('rate-limits alerts across pauses', async () => {
    start(salesforceConnector(), { pauseMs: 1000, alerts: alerts(900) });
    salesforce.state.limitExceeded = true;

    await enqueue(toSalesforce('sf-1'));
    // The pause ends after a second and the next try pauses again; only the first pause may alert.
    await waitFor(() => store.getDelivery('sf-1'), () => salesforce.state.requests.length >= 2);
    await waitFor(() => queueOf('salesforce').isPaused(), (paused) => paused);

    expect(slack.state.messages.filter((message) => message.channel === 'C0ALERTS1')).toHaveLength(1);
    expect(Number(await redis.get(`${prefix}:alert:salesforce:SALESFORCE_API_LIMIT:suppressed`))).toBeGreaterThanOrEqual(1);
  });
});

describe('delivery worker, digests', () => {
  it('sends changes within the window as one email', async () => {
    start(emailConnector(), { digestWindowMs: 3000 });
    const changes = [
      toClient({ key: 'digest-a', receivedAt: '2024-05-01T14:00:00.000Z' }),
      toClient({ key: 'digest-b', receivedAt: '2024-05-01T14:01:00.000Z', listing: { mlsNumber: '2', address: '7 Rideau Street, Ottawa' } }),
      toClient({ key: 'digest-c', receivedAt: '2024-05-01T14:02:00.000Z', listing: { mlsNumber: '3', address: '1 Bank Street, Ottawa' } }),
    ];
    const other = toClient({ key: 'digest-other', recipient: { kind: 'client', clientId: '78' }, client: { clientId: '78', email: 'charles.babbage@example.com' } });

    for (const delivery of [...changes, other]) await enqueue(delivery);
    const records = await Promise.all([...changes, other].map((delivery) => waitForStatus(delivery.key, 'sent')));

    expect(smtp.messages).toHaveLength(2);
    const digest = smtp.messages.find((mail) => mail.subject?.startsWith('3 updates'))!;
    expect(digest.text).toContain('62 Erin Crescent, Ottawa');
    expect(digest.text).toContain('7 Rideau Street, Ottawa');
    expect(digest.text).toContain('1 Bank Street, Ottawa');
    expect(new Set(records.slice(0, 3).map((record) => record.receipt)).size).toBe(1);
    expect(records[3]!.receipt).not.toBe(records[0]!.receipt);
    expect(smtp.messages.find((mail) => mail !== digest)!.subject).toBe('Price change: 62 Erin Crescent, Ottawa now $674,900');
  });

  it('leaves no digest keys behind', async () => {
    start(emailConnector(), { digestWindowMs: 500 });

    await enqueue(toClient({ key: 'digest-a' }));
    await enqueue(toClient({ key: 'digest-b', listing: { mlsNumber: '2' } }));
    await waitForStatus('digest-b', 'sent');
    await waitForStatus('digest-a', 'sent');

    await waitFor(() => redis.keys(`${prefix}:digest:*:items`), (keys) => keys.length === 0);
    expect(await redis.keys(`${prefix}:digest:*:open:*`)).toEqual([]);
  });
});
