/**
 * A delivery worker in a process of its own, for the crash tests. It reads its settings from HUB_CRASH_CHILD (JSON),
 * sends through one real connector, sends the parent an IPC message when it is ready, and stops on SIGTERM. With
 * HUB_TEST_HALT_AFTER_SEND=1 the worker halts right after a send, before recording it, until the parent kills it.
 */
import { Redis } from 'ioredis';
import type { Connector } from '../../connectors/connector.js';
import { createEmailConnector } from '../../connectors/email/email-connector.js';
import { createSalesforceConnector } from '../../connectors/salesforce/salesforce-connector.js';
import { createSlackConnector } from '../../connectors/slack/slack-connector.js';
import { createLogger } from '../../src/logger.js';
import { SqliteStore } from '../../src/mirror/sqlite/sqlite-store.js';
import { startDeliveryWorker } from '../../src/workers/delivery-worker.js';

export interface CrashChildConfig {
  redisUrl: string;
  prefix: string;
  databaseFile: string;
  outboxDir: string;
  connector: 'email' | 'slack' | 'salesforce';
  /** SMTP URL, Slack API URL or Salesforce login URL of the stand-in. */
  serviceUrl: string;
  slackToken?: string;
  salesforce?: { clientId: string; clientSecret: string; refreshToken: string };
}

const config = JSON.parse(process.env.HUB_CRASH_CHILD ?? '{}') as CrashChildConfig;

function connectorOf(): Connector {
  switch (config.connector) {
    case 'email':
      return createEmailConnector({ smtpUrl: config.serviceUrl, from: 'Listings <listings@hub.example.com>', outboxDir: config.outboxDir });
    case 'slack':
      return createSlackConnector({ token: config.slackToken ?? null, apiUrl: config.serviceUrl, outboxDir: config.outboxDir });
    case 'salesforce':
      return createSalesforceConnector({
        loginUrl: config.serviceUrl,
        instanceUrl: null,
        clientId: config.salesforce!.clientId,
        clientSecret: config.salesforce!.clientSecret,
        refreshToken: config.salesforce!.refreshToken,
        username: null,
        password: null,
        recordType: 'task',
        onNoMatch: 'skip',
        outboxDir: config.outboxDir,
        apiVersion: '61.0',
      });
  }
}

const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
const store = new SqliteStore(config.databaseFile);
await store.migrate();
const connector = connectorOf();
const worker = startDeliveryWorker({
  redis,
  prefix: config.prefix,
  connector,
  store,
  logger: createLogger(process.env.LOG_LEVEL ?? 'silent'),
  // A killed worker's job is taken over once its lock expires, so short locks keep the test short.
  lockDurationMs: 1500,
  stalledIntervalMs: 500,
});
await worker.waitUntilReady();
process.send?.({ type: 'ready' });

process.on('SIGTERM', () => {
  void (async () => {
    await worker.close();
    await connector.close();
    await store.close();
    redis.disconnect();
    process.exit(0);
  })();
});
