/**
 * Delivery workers, one per connector queue. Before each send the delivery's record is checked: a delivery
 * already sent or skipped is never sent again, whatever retried or repeated the job.
 */
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { ConnectorError, DeliverySkipped, type Connector, type Delivery } from '../../connectors/connector.js';
import type { Logger } from '../logger.js';
import type { Store } from '../mirror/store.js';
import { deliveryQueueName } from '../queue/queues.js';

export interface DeliveryWorkerOptions {
  redis: Redis;
  prefix: string;
  connector: Connector;
  store: Store;
  logger: Logger;
  concurrency?: number;
}

/** Sends one delivery unless its record says it is already done. Returns what happened, for the job's result. */
export async function processDelivery(options: DeliveryWorkerOptions, job: Job<Delivery>, token?: string): Promise<string> {
  const { connector, store } = options;
  const delivery = job.data;
  const log = options.logger.child({ eventId: delivery.eventId, ruleId: delivery.ruleId, connector: connector.name, jobId: job.id });

  const record = await store.getDelivery(delivery.key);
  if (record && (record.status === 'sent' || record.status === 'skipped')) {
    log.info({ status: record.status }, 'delivery already done');
    return record.status;
  }

  await store.setDeliveryStatus(delivery.key, 'sending', {}, new Date().toISOString());
  try {
    const receipt = await connector.send(delivery);
    await store.setDeliveryStatus(delivery.key, 'sent', { receipt: receipt.id }, new Date().toISOString());
    log.info({ outbox: receipt.outbox }, 'delivery sent');
    return 'sent';
  } catch (error) {
    const at = new Date().toISOString();
    if (error instanceof DeliverySkipped) {
      await store.setDeliveryStatus(delivery.key, 'skipped', { error: error.message }, at);
      log.info({ reason: error.message }, 'delivery skipped');
      return 'skipped';
    }
    const message = error instanceof Error ? error.message : String(error);
    const permanent = error instanceof ConnectorError && error.kind === 'permanent';
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    await store.setDeliveryStatus(delivery.key, permanent || lastAttempt ? 'failed' : 'pending', { error: message }, at);

    if (permanent) {
      log.error({ err: error }, 'delivery failed permanently');
      throw new UnrecoverableError(message);
    }
    if (error instanceof ConnectorError && error.retryAfterMs !== null && token) {
      // Waiting out Retry-After in a delayed state frees the worker for other deliveries meanwhile.
      log.warn({ retryAfterMs: error.retryAfterMs }, 'delivery rate limited');
      await job.moveToDelayed(Date.now() + error.retryAfterMs, token);
      throw new DelayedError();
    }
    log.warn({ err: error, attemptsMade: job.attemptsMade + 1 }, 'delivery failed, will retry');
    throw error;
  }
}

export function startDeliveryWorker(options: DeliveryWorkerOptions): Worker<Delivery> {
  const worker = new Worker<Delivery>(
    deliveryQueueName(options.connector.name),
    (job, token) => processDelivery(options, job, token),
    { connection: options.redis, prefix: options.prefix, concurrency: options.concurrency ?? 10 },
  );
  worker.on('error', (error) => options.logger.error({ connector: options.connector.name, err: error }, 'delivery worker error'));
  return worker;
}
