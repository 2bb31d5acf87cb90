/**
 * Starting and stopping the hub: the API role (Express ingress), the worker role (events and delivery workers),
 * or both in one process. Used by `hub start`, `hub demo` and the end-to-end tests.
 */
import type { Server } from 'node:http';
import { Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Connector, Delivery } from '../connectors/connector.js';
import { createConnectors, templatesOf } from '../connectors/registry.js';
import type { Settings } from './config/settings.js';
import { createIngressApp } from './ingress/app.js';
import { HookSecrets } from './ingress/hook-secrets.js';
import type { IngressCounters } from './ingress/webhook-route.js';
import type { Logger } from './logger.js';
import { openStore } from './mirror/open-store.js';
import type { Store } from './mirror/store.js';
import { createEventsQueue, createRedis, deliveryQueueName, type EventJobData } from './queue/queues.js';
import { RepliersApi } from './repliers/api-client.js';
import { loadRuleSet } from './rules/load-rules.js';
import type { RuleSet } from './rules/rule.js';
import { startDeliveryWorker } from './workers/delivery-worker.js';
import { startEventsWorker } from './workers/events-worker.js';

export type Role = 'all' | 'api' | 'worker';

export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

export interface RunningHub {
  /** The bound URL of the API, such as http://127.0.0.1:8080, or null for the worker role. */
  url: string | null;
  store: Store;
  eventsQueue: Queue<EventJobData>;
  connectors: Map<string, Connector>;
  ruleSet: () => RuleSet;
  counters: IngressCounters;
  secrets: HookSecrets;
  close(): Promise<void>;
}

/** Connects to Redis and waits for it, failing with a one-line message when it cannot be reached. */
export async function connectRedis(redisUrl: string, role: 'producer' | 'worker', logger: Logger, timeoutMs = 3000): Promise<Redis> {
  let connected = false;
  const redis = createRedis(redisUrl, role, (error) => {
    if (connected) logger.error({ role, err: error }, 'redis connection error');
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    // A producer has no offline queue, so it must be connected before its first command.
    await Promise.race([
      new Promise<void>((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve()))),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    await redis.ping();
    connected = true;
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new RedisUnavailableError(
      `cannot reach Redis at ${redisUrl} (${(error as Error).message}). Start one with ` +
        '`redis-server --daemonize yes` or `docker compose up -d redis`, or set REDIS_URL.',
    );
  } finally {
    clearTimeout(timer);
  }
}

export async function startHub(settings: Readonly<Settings>, role: Role, logger: Logger): Promise<RunningHub> {
  const producer = await connectRedis(settings.redisUrl, 'producer', logger);
  const workerRedis = role === 'api' ? null : await connectRedis(settings.redisUrl, 'worker', logger);
  const store = await openStore(settings.databaseUrl);

  const connectors = createConnectors(settings, logger);
  const ruleSet = await loadRuleSet(settings.rulesDir, templatesOf(connectors));
  const eventsQueue = createEventsQueue(producer, settings.queuePrefix);
  const secrets = new HookSecrets(store, producer, settings.queuePrefix);

  const workers: Worker[] = [];
  const deliveryQueues = new Map<string, Queue<Delivery>>();
  if (workerRedis) {
    for (const connector of connectors.values()) {
      deliveryQueues.set(connector.name, new Queue<Delivery>(deliveryQueueName(connector.name), { connection: producer, prefix: settings.queuePrefix }));
      workers.push(startDeliveryWorker({ redis: workerRedis, prefix: settings.queuePrefix, connector, store, logger }));
      logger.info({ connector: connector.name, mode: connector.mode }, connector.describe());
    }
    const repliers = settings.repliersApiKey
      ? new RepliersApi({ baseUrl: settings.repliersApiUrl, apiKey: settings.repliersApiKey })
      : null;
    if (!repliers) logger.warn('REPLIERS_API_KEY is not set: clients and agents missing from the mirror cannot be fetched');
    workers.push(
      startEventsWorker({
        redis: workerRedis,
        prefix: settings.queuePrefix,
        concurrency: settings.eventsConcurrency,
        store,
        repliers,
        ruleSet: () => ruleSet,
        deliveryQueues,
        viewOptions: { imageBaseUrl: settings.repliersImageUrl, listingUrlTemplate: settings.listingUrlTemplate },
        logger,
      }),
    );
    logger.info({ rules: ruleSet.rules.length, ruleSetVersion: ruleSet.version }, 'rules loaded');
  }

  let server: Server | null = null;
  let url: string | null = null;
  let counters: IngressCounters = new Map();
  if (role !== 'worker') {
    const ingress = createIngressApp({
      queue: eventsQueue,
      redis: producer,
      store,
      secrets,
      logger,
      secretHeader: settings.hookSecretHeader,
      bodyLimitBytes: settings.webhookBodyLimitBytes,
      dedupeWindowSeconds: settings.dedupeWindowSeconds,
      enqueueTimeoutMs: settings.enqueueTimeoutMs,
    });
    counters = ingress.counters;
    server = await new Promise<Server>((resolve, reject) => {
      const listening = ingress.app.listen(settings.port, settings.host, () => resolve(listening));
      listening.once('error', reject);
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : settings.port;
    url = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`;
    logger.info({ url }, 'webhook ingress listening');
  }

  return {
    url,
    store,
    eventsQueue,
    connectors,
    ruleSet: () => ruleSet,
    counters,
    secrets,
    async close() {
      // Stop taking requests first, then let workers finish the jobs they hold.
      if (server) {
        const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
        server.closeIdleConnections();
        await closed;
      }
      await Promise.all(workers.map((worker) => worker.close()));
      await Promise.all([...deliveryQueues.values()].map((queue) => queue.close()));
      await eventsQueue.close();
      await Promise.all([...connectors.values()].map((connector) => connector.close()));
      producer.disconnect();
      workerRedis?.disconnect();
      await store.close();
    },
  };
}
