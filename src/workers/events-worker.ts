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
import { recordEventTrace } from '../admin/event-trace.js';
import { eventIdOfJob, replayDeliveries } from '../admin/replay.js';
import { countEventProcessed, timeRuleEvaluation } from '../metrics/road-metrics.js';
import { applyToMirror, ResourceError } from './apply-to-mirror.js';
import { recipientLabel, routeResource } from './route-event.js';
import { countOf } from '../plural.js';

/** Delivery jobs added to Redis per round trip. */
const enqueueChunkSize = 500;

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
  const eventId = eventIdOfJob(job);
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

  if (job.data.source !== 'repliers') {
    // NOTE: rules read Repliers resources only, so an event from another source is recorded, for listing and
    // replay, but not routed.
    const detail = `recorded without routing: source "${job.data.source}" is not Repliers`;
    await store.setEventOutcome(eventId, 'ignored', detail, null, new Date().toISOString());
    log.info({ source: job.data.source }, 'event recorded without routing');
    return detail;
  }

  const body = readWebhookBody(JSON.parse(job.data.body));
  const at = receivedAt;
  const ruleSet = options.ruleSet();
  const deliveries: Delivery[] = [];
  const matchedRules = new Set<string>();
  const problems: string[] = [];

  for (const resource of body.resources) {
    try {
      await applyToMirror({ store, repliers: options.repliers, logger: log }, event, resource.data, at);
    } catch (error) {
      if (!(error instanceof ResourceError)) throw error;
      problems.push(error.message);
      log.warn({ reason: error.message }, 'resource skipped');
      continue;
    }
    const routed = await timeRuleEvaluation(() => routeResource(
      // routeResource names the event id on its own lines, so its logger must not carry it a second time.
      { store, ruleSet, viewOptions: options.viewOptions, logger: logger.child({ event }), repliers: options.repliers },
      { eventId, eventType: event, receivedAt },
      resource,
    ));
    deliveries.push(...replayDeliveries(job.data, routed.deliveries));
    for (const ruleId of routed.matchedRules) matchedRules.add(ruleId);
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
    // Chunks keep the serialised jobs of a large fan-out from all sitting in memory at once.
    for (let start = 0; start < list.length; start += enqueueChunkSize) {
      const chunk = list.slice(start, start + enqueueChunkSize);
      await queue.addBulk(chunk.map((delivery) => ({ name: delivery.action.template, data: delivery, opts: { ...deliveryJobOptions, jobId: delivery.key } })));
    }
  }

  const outcome = deliveries.length > 0 ? 'routed' : 'ignored';
  const detail = [countOf(deliveries.length, 'delivery', 'deliveries'), ...problems].join('; ');
  await recordEventTrace(store, log, eventId, event, body, matchedRules, deliveries);
  await store.setEventOutcome(eventId, outcome, detail, ruleSet.version, new Date().toISOString());
  countEventProcessed(event, outcome);
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
      countEventProcessed(job.data.event, 'failed');
      void options.store
        .setEventOutcome(eventIdOfJob(job), 'failed', error.message, null, new Date().toISOString())
        .catch((storeError: unknown) => options.logger.error({ eventId: job.id, err: storeError }, 'event outcome not recorded'));
    }
  });
  worker.on('error', (error) => options.logger.error({ err: error }, 'events worker error'));
  return worker;
}
