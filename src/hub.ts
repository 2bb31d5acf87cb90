/**
 * Starting and stopping the hub: the API role (Express ingress), the worker role (events and delivery workers),
 * or both in one process. Used by `hub start`, `hub demo` and the end-to-end tests.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Connector, Delivery } from '../connectors/connector.js';
import { createConnectors, templatesOf } from '../connectors/registry.js';
import { createAdminSurface, type AdminSurface } from './admin/admin-surface.js';
import type { Settings } from './config/settings.js';
import { PortUnavailableError } from './http/port-unavailable.js';
import { startProbeServer } from './http/probes.js';
import { createIngressApp } from './ingress/app.js';
import { HookSecrets } from './ingress/hook-secrets.js';
import { startIngressServer, stopIngressServer } from './ingress/ingress-server.js';
import type { IngressCounters } from './ingress/webhook-route.js';
import type { Logger } from './logger.js';
import { openStore } from './mirror/open-store.js';
import type { Store } from './mirror/store.js';
import { loadSources } from './sources/sources-file.js';
import { startEventRetention } from './queue/event-retention.js';
import { createEventsQueue, createRedis, deliveryQueueName, describeRedisTarget, redisTargetOf, type EventJobData, type RedisTarget } from './queue/queues.js';
import { RepliersApi } from './repliers/api-client.js';
import { LiveRuleSet } from './rules/live-rule-set.js';
import type { RuleSet } from './rules/rule.js';
import { deliveryWorkerSettings, startDeliveryWorker } from './workers/delivery-worker.js';
import { startEventsWorker } from './workers/events-worker.js';
import { startReconcileScheduler, type ReconcileScheduler } from './sync/reconcile-scheduler.js';

export type Role = 'all' | 'api' | 'worker';

export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/**
 * Runs `start`, which listens on `host:port`, and turns a port already in use into a {@link PortUnavailableError}
 * that names `setting`. Other errors pass through unchanged.
 */
async function listenOrExplain(start: () => Promise<Server>, host: string, port: number, setting: 'PORT' | 'METRICS_PORT'): Promise<Server> {
  try {
    return await start();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortUnavailableError(`port ${port} on ${host} is already in use. Stop the process that listens on it, or set ${setting} to a free port.`);
    }
    throw error;
  }
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

/** Returns the base URL of a listening server on `host`, with the port it bound (the one chosen for port 0). */
function listeningUrl(server: Server, host: string): string {
  const { port } = server.address() as AddressInfo;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Connects to Redis and waits for it, failing with a one-line message when it cannot be reached. `redisUrl` is a URL,
 * or a {@link RedisTarget} that may name a Redis Cluster.
 */
export async function connectRedis(redisUrl: string | RedisTarget, role: 'producer' | 'worker', logger: Logger, timeoutMs = 3000): Promise<Redis> {
  let connected = false;
  let lastError: Error | null = null;
  const redis = createRedis(redisUrl, role, (error) => {
    lastError = error;
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
    // The connection error says more than the timeout that ended the wait, such as ECONNREFUSED.
    const reason = (lastError as Error | null)?.message ?? (error as Error).message;
    throw new RedisUnavailableError(
      `cannot reach Redis at ${describeRedisTarget(redisUrl)} (${reason}). Start one with ` +
        '`redis-server --daemonize yes` or `docker compose up -d redis`, or set REDIS_URL.',
    );
  } finally {
    clearTimeout(timer);
  }
}

export async function startHub(settings: Readonly<Settings>, role: Role, logger: Logger): Promise<RunningHub> {
  const redisTarget = redisTargetOf(settings);
  const producer = await connectRedis(redisTarget, 'producer', logger);
  const workerRedis = role === 'api' ? null : await connectRedis(redisTarget, 'worker', logger);
  const store = await openStore(settings.databaseUrl);

  const connectors = createConnectors(settings, logger);
  // Every role follows edits of the rules folder and `hub rules reload`: workers route by the rules, and the admin
  // surface of API processes shows, previews and replays them.
  const rules = await LiveRuleSet.start({
    dir: settings.rulesDir,
    connectors: templatesOf(connectors),
    logger,
    watch: true,
    reloadRequests: {
      subscriber: createRedis(redisTarget, 'worker', (error) => logger.error({ err: error }, 'redis connection error')),
      publisher: producer,
      prefix: settings.queuePrefix,
    },
  });
  const eventsQueue = createEventsQueue(producer, settings.queuePrefix, (error) =>
    logger.error({ err: error }, 'events queue error'),
  );
  try {
    await eventsQueue.waitUntilReady();
  } catch (error) {
    throw new RedisUnavailableError(`the events queue could not open at ${describeRedisTarget(redisTarget)} (${(error as Error).message}); start the hub again once Redis responds.`);
  }
  const secrets = new HookSecrets(store, producer, settings.queuePrefix, { graceSeconds: settings.hookSecretGraceSeconds });
  const sources = role === 'worker' ? new Map() : await loadSources(settings.sourcesFile);
  const retention = workerRedis
    ? startEventRetention({ store, retentionDays: settings.eventRetentionDays, logger })
    : null;

  const workers: Worker[] = [];
  const deliveryQueues = new Map<string, Queue<Delivery>>();
  let reconcile: ReconcileScheduler | null = null;
  if (workerRedis) {
    for (const connector of connectors.values()) {
      deliveryQueues.set(connector.name, new Queue<Delivery>(deliveryQueueName(connector.name), { connection: producer, prefix: settings.queuePrefix }));
      workers.push(
        startDeliveryWorker({ redis: workerRedis, prefix: settings.queuePrefix, connector, store, logger, ...deliveryWorkerSettings(settings, connector.name) }),
      );
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
        ruleSet: () => rules.current(),
        deliveryQueues,
        viewOptions: { imageBaseUrl: settings.repliersImageUrl, listingUrlTemplate: settings.listingUrlTemplate },
        logger,
      }),
    );
    logger.info({ rules: rules.current().rules.length, ruleSetVersion: rules.current().version }, 'rules loaded');
    reconcile = await startReconcileScheduler({
      producer,
      worker: workerRedis,
      prefix: settings.queuePrefix,
      everyMs: settings.reconcileIntervalMinutes * 60_000,
      store,
      repliers,
      logger,
      concurrency: settings.syncConcurrency,
    });
  }

  let server: Server | null = null;
  let probeServer: Server | null = null;
  let admin: AdminSurface | null = null;
  let url: string | null = null;
  let counters: IngressCounters = new Map();
  const close = async (): Promise<void> => {
    // Stop taking requests first, then let workers finish the jobs they hold.
    if (server) await stopIngressServer(server);
    if (probeServer) await stopIngressServer(probeServer, 1000);
    await admin?.close();
    await retention?.stop();
    await Promise.all(workers.map((worker) => worker.close()));
    await reconcile?.close();
    await rules.close();
    await Promise.all([...deliveryQueues.values()].map((queue) => queue.close()));
    await eventsQueue.close();
    await Promise.all([...connectors.values()].map((connector) => connector.close()));
    producer.disconnect();
    workerRedis?.disconnect();
    await store.close();
  };

  try {
    if (role !== 'worker') {
      const ingress = createIngressApp({
        queue: eventsQueue,
        redis: producer,
        store,
        secrets,
        logger,
        secretHeader: settings.hookSecretHeader,
        secretHeaders: settings.hookSecretHeaders,
        bodyLimitBytes: settings.webhookBodyLimitBytes,
        dedupeWindowSeconds: settings.dedupeWindowSeconds,
        enqueueTimeoutMs: settings.enqueueTimeoutMs,
        eventQueueLimits: { keepCompleted: settings.eventsKeepCompleted, keepFailed: settings.eventsKeepFailed },
        sources,
        unsubscribeSecret: settings.unsubscribeSecret,
      });
      counters = ingress.counters;
      admin = createAdminSurface({ settings, logger, store, redis: producer, eventsQueue, connectors, ruleSet: () => rules.current() });
      const handleRequest = admin.wrap(ingress.handleRequest);
      server = await listenOrExplain(() => startIngressServer(handleRequest, settings.port, settings.host), settings.host, settings.port, 'PORT');
      url = listeningUrl(server, settings.host);
      logger.info({ url }, 'webhook ingress listening');
    }

    if (role !== 'worker' && settings.metricsPort !== null) {
      logger.warn({ metricsPort: settings.metricsPort }, 'METRICS_PORT is read by --role worker only; this process serves /metrics on PORT');
    }
    if (role === 'worker' && settings.metricsPort !== null) {
      const metricsPort = settings.metricsPort;
      probeServer = await listenOrExplain(() => startProbeServer(producer, store, metricsPort, settings.host), settings.host, metricsPort, 'METRICS_PORT');
      logger.info({ url: `${listeningUrl(probeServer, settings.host)}/metrics` }, 'metrics listening');
    }
  } catch (error) {
    // A failed start must not leave workers taking jobs, or connections that keep the process alive.
    await close();
    throw error;
  }

  return {
    url,
    store,
    eventsQueue,
    connectors,
    ruleSet: () => rules.current(),
    counters,
    secrets,
    close,
  };
}
