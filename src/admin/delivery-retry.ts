/**
 * Retrying failed deliveries. A delivery whose job BullMQ still keeps in the failed set is retried with
 * `job.retry()`, with its attempts reset. Once BullMQ has removed the job (14 days after the failure by default),
 * the delivery is rebuilt by routing its event again through the live rules and the current mirror, and added
 * under its own key. Only failed deliveries are retried: a sent one is made again by a forced replay.
 */
import type { Job, Queue } from 'bullmq';
import type { Delivery } from '../../connectors/connector.js';
import type { DeliveryRecord } from '../mirror/records.js';
import type { DeliverySearch } from '../mirror/store.js';
import { deliveryJobOptions } from '../queue/queues.js';
import { readWebhookBody } from '../repliers/webhook-body.js';
import { routeResource } from '../workers/route-event.js';
import type { AdminContext } from './admin-context.js';
import { forcedDeliveryKey } from './replay.js';

export type RetryErrorCode =
  | 'DELIVERY_NOT_FOUND'
  | 'DELIVERY_NOT_FAILED'
  | 'DELIVERY_IN_QUEUE'
  | 'CONNECTOR_UNKNOWN'
  | 'DELIVERY_NOT_REBUILT';

export class RetryError extends Error {
  override readonly name = 'RetryError';
  constructor(
    readonly code: RetryErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface RetryResult {
  key: string;
  /** `job` when BullMQ's failed job was retried, `rebuilt` when the delivery was routed again and re-added. */
  via: 'job' | 'rebuilt';
}

export interface BulkRetryResult {
  retried: RetryResult[];
  notRetried: { key: string; code: RetryErrorCode; error: string }[];
}

/** Most deliveries one bulk retry takes. */
export const maxBulkRetry = 1000;

/**
 * Finds the delivery of `record` by routing its event again. Keys of forced replays are matched too, for each
 * replay number the event has had. Returns null when the live rules no longer produce that delivery.
 */
async function rebuildDelivery(context: AdminContext, record: DeliveryRecord): Promise<Delivery | null> {
  const event = await context.store.getEvent(record.eventId);
  if (!event) return null;
  const replayCount = (await context.store.getEventTrace(record.eventId))?.replayCount ?? 0;
  const body = readWebhookBody(JSON.parse(event.payload));
  const routeOptions = { store: context.store, ruleSet: context.ruleSet(), viewOptions: context.viewOptions, logger: context.logger };

  for (const resource of body.resources) {
    const routed = await routeResource(routeOptions, { eventId: event.eventId, eventType: event.event, receivedAt: event.receivedAt }, resource);
    for (const delivery of routed.deliveries) {
      if (delivery.key === record.key) return delivery;
      for (let replay = 1; replay <= replayCount; replay += 1) {
        if (forcedDeliveryKey(delivery.key, replay) === record.key) return { ...delivery, key: record.key };
      }
    }
  }
  return null;
}

function queueOf(context: AdminContext, record: DeliveryRecord): Queue {
  const queue = context.deliveryQueues.get(record.connector);
  if (!queue) {
    throw new RetryError('CONNECTOR_UNKNOWN', `delivery ${record.key} belongs to connector "${record.connector}", which this hub does not run`);
  }
  return queue;
}

/** Retries one failed delivery. Throws RetryError, whose code gives the reason, when it cannot be retried. */
export async function retryDelivery(context: AdminContext, key: string): Promise<RetryResult> {
  const record = await context.store.getDelivery(key);
  if (!record) throw new RetryError('DELIVERY_NOT_FOUND', `no delivery has the key ${key}`);
  if (record.status !== 'failed') {
    const hint = record.status === 'sent' ? '; replay its event with force to send it again' : '';
    throw new RetryError('DELIVERY_NOT_FAILED', `delivery ${key} is ${record.status}, and only failed deliveries are retried${hint}`);
  }

  const queue = queueOf(context, record);
  const job = (await queue.getJob(key)) as Job | undefined;
  const state = job ? await job.getState() : null;
  const log = context.logger.child({ eventId: record.eventId, connector: record.connector, deliveryKey: key });

  if (job && state === 'failed') {
    await context.store.setDeliveryStatus(key, 'pending', {}, new Date().toISOString());
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    log.info({ via: 'job' }, 'delivery retried');
    return { key, via: 'job' };
  }
  if (job && state !== 'completed' && state !== 'unknown') {
    throw new RetryError('DELIVERY_IN_QUEUE', `delivery ${key} has a job that is ${state}; wait for it to finish`);
  }

  const delivery = await rebuildDelivery(context, record);
  if (!delivery) {
    throw new RetryError(
      'DELIVERY_NOT_REBUILT',
      `the job of delivery ${key} is gone and the live rules no longer produce this delivery; replay the event to route it under the current rules`,
    );
  }
  // A completed job would make BullMQ ignore the add, because job ids are unique within a queue.
  if (job) await job.remove();
  await context.store.setDeliveryStatus(key, 'pending', {}, new Date().toISOString());
  await queue.add(delivery.action.template, delivery, { ...deliveryJobOptions, jobId: key });
  log.info({ via: 'rebuilt' }, 'delivery retried');
  return { key, via: 'rebuilt' };
}

/** Retries the failed deliveries under `filter`, newest failure first, at most `limit` (up to `maxBulkRetry`). */
export async function retryDeliveries(context: AdminContext, filter: Omit<DeliverySearch, 'status'>): Promise<BulkRetryResult> {
  const limit = Math.min(filter.limit ?? 100, maxBulkRetry);
  const records = await context.store.searchDeliveries({ ...filter, status: 'failed', limit });
  const result: BulkRetryResult = { retried: [], notRetried: [] };
  for (const record of records) {
    try {
      result.retried.push(await retryDelivery(context, record.key));
    } catch (error) {
      if (!(error instanceof RetryError)) throw error;
      result.notRetried.push({ key: record.key, code: error.code, error: error.message });
    }
  }
  context.logger.info({ retried: result.retried.length, notRetried: result.notRetried.length }, 'bulk delivery retry finished');
  return result;
}
