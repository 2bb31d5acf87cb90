/**
 * The events worker: records each event, applies it to the mirror, routes it through the live rule set and puts
 * one job per delivery on its connector's queue. Each step is idempotent, so a job retried after a crash at any
 * point finishes the work without doubling it.
 */
import { Worker, type Job, type Queue } from 'bullmq';
import type { Delivery } from '../../connectors/connector.js';
import type { Logger } from '../logger.js';
import type { Store } from '../mirror/store.js';
import type { EventJobData } from '../queue/queues.js';
import { deliveryJobOptions, eventsQueueName } from '../queue/queues.js';
import type { RepliersApi } from '../repliers/api-client.js';
import type { ListingViewOptions } from '../repliers/listing-view.js';
import { readWebhookBody } from '../repliers/webhook-body.js';
import type { RuleSet } from '../rules/rule.js';
import { applyToMirror, ResourceError } from './apply-to-mirror.js';
import { recipientLabel, routeResource } from './route-event.js';

export interface EventsWorkerOptions {
  redis: import('ioredis').Redis;
  prefix: string;
  concurrency: number;
  store: Store;
  repliers: RepliersApi | null;
  /** Returns the rule set live right now, so a reload takes effect at the next event. */
  ruleSet: () => RuleSet;
  deliveryQueues: ReadonlyMap<string, Queue<Delivery>>;
  viewOptions: ListingViewOptions;
  logger: Logger;
}

export async function processEvent(options: EventsWorkerOptions, job: Job<EventJobData>): Promise<string> {
  const { store, logger } = options;
  const eventId = String(job.id);
  const { event, receivedAt } = job.data;
  const log = logger.child({ eventId, event });

  await store.recordEvent({
    eventId,
    event,
    source: job.data.source,
    path: job.data.path,
    receivedAt,
    verified: true,
    payload: job.data.body,
  });

  const body = readWebhookBody(JSON.parse(job.data.body));
  const at = receivedAt;
  const ruleSet = options.ruleSet();
  const deliveries: Delivery[] = [];
  const problems: string[] = [];

  for (const resource of body.resources) {
    try {
      await applyToMirror({ store, repliers: options.repliers, logger: log }, event, resource.data, at);
    } catch (error) {
      if (!(error instanceof ResourceError)) throw error;
      problems.push(error.message);
      log.warn({ err: error }, 'resource skipped');
      continue;
    }
    const routed = await routeResource(
      { store, ruleSet, viewOptions: options.viewOptions, logger: log },
      { eventId, eventType: event, receivedAt },
      resource,
    );
    deliveries.push(...routed.deliveries);
    if (routed.unknownFavoriteIds.length > 0) {
      problems.push(`${routed.unknownFavoriteIds.length} favoriteIds not in the mirror`);
    }
  }

  // Recorded before enqueueing: a delivery job never exists without its record.
  await store.recordDeliveries(
    deliveries.map((delivery) => ({
      key: delivery.key,
      eventId,
      ruleId: delivery.ruleId,
      ruleSetVersion: delivery.ruleSetVersion,
      connector: delivery.action.connector,
      recipient: recipientLabel(delivery.recipient),
    })),
    new Date().toISOString(),
  );

  const byConnector = new Map<string, Delivery[]>();
  for (const delivery of deliveries) {
    const list = byConnector.get(delivery.action.connector) ?? [];
    list.push(delivery);
    byConnector.set(delivery.action.connector, list);
  }
  for (const [connector, list] of byConnector) {
    const queue = options.deliveryQueues.get(connector);
    if (!queue) throw new Error(`no delivery queue for connector "${connector}"`);
    await queue.addBulk(list.map((delivery) => ({ name: delivery.action.template, data: delivery, opts: { ...deliveryJobOptions, jobId: delivery.key } })));
  }

  const outcome = deliveries.length > 0 ? 'routed' : 'ignored';
  const detail = [`${deliveries.length} ${deliveries.length === 1 ? 'delivery' : 'deliveries'}`, ...problems].join('; ');
  await store.setEventOutcome(eventId, outcome, detail, ruleSet.version, new Date().toISOString());
  log.info({ deliveries: deliveries.length, ruleSetVersion: ruleSet.version, outcome }, 'event routed');
  return detail;
}

export function startEventsWorker(options: EventsWorkerOptions): Worker<EventJobData> {
  const worker = new Worker<EventJobData>(eventsQueueName, (job) => processEvent(options, job), {
    connection: options.redis,
    prefix: options.prefix,
    concurrency: options.concurrency,
  });
  worker.on('failed', (job, error) => {
    options.logger.error({ eventId: job?.id, attemptsMade: job?.attemptsMade, err: error }, 'event processing failed');
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
      void options.store
        .setEventOutcome(String(job.id), 'failed', error.message, null, new Date().toISOString())
        .catch((storeError: unknown) => options.logger.error({ eventId: job.id, err: storeError }, 'event outcome not recorded'));
    }
  });
  worker.on('error', (error) => options.logger.error({ err: error }, 'events worker error'));
  return worker;
}
