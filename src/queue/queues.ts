/**
 * The hub's BullMQ queues: one for incoming events and one per connector for deliveries, so a slow or paused
 * service never holds back the others. Finished jobs are removed after a while, which keeps Redis memory bounded.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

export const eventsQueueName = 'events';

export function deliveryQueueName(connector: string): string {
  return `deliver-${connector}`;
}

/** What the ingress puts on the events queue: the body as received, so nothing is lost to re-serialisation. */
export interface EventJobData {
  event: string;
  source: 'repliers';
  path: string;
  receivedAt: string;
  body: string;
}

/**
 * Opens an ioredis connection. Producers fail fast while Redis is down (no offline queue) so the ingress can
 * answer 503; workers block on Redis and must be allowed unlimited retries per request.
 */
export function createRedis(
  redisUrl: string,
  role: 'producer' | 'worker',
  onError: (error: Error) => void = () => {},
  extra: RedisOptions = {},
): Redis {
  const redis = new Redis(redisUrl, {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    connectTimeout: 3000,
    // Reconnect forever with a capped delay, so intake resumes by itself when Redis returns.
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
    ...extra,
  });
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

export function eventJobOptions(dedupeWindowSeconds: number): JobsOptions {
  return {
    attempts: 8,
    backoff: { type: 'exponential', delay: 1000 },
    // A completed job keeps its id for the dedupe window, so a repeated delivery of the same body is ignored.
    removeOnComplete: { age: dedupeWindowSeconds },
    removeOnFail: { age: 7 * 86_400 },
  };
}

export const deliveryJobOptions: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
  removeOnComplete: { age: 86_400, count: 10_000 },
  removeOnFail: { age: 14 * 86_400 },
};

export function createEventsQueue(connection: ConnectionOptions, prefix: string): Queue<EventJobData> {
  return new Queue<EventJobData>(eventsQueueName, { connection, prefix });
}
