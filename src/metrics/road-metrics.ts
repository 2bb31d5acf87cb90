/**
 * Metrics of the workers on the road an event takes: events processed by type and outcome, rule evaluation time,
 * deliveries by connector and outcome, and the time from the webhook to a sent delivery. The workers record them
 * in the process that runs them, so a process of the worker role counts its own work.
 *
 * NOTE: only processes with the API role serve `GET /metrics`. A deployment that splits the roles sees the worker
 * counts only where a worker runs in the same process as the API (`hub start`, role `all`).
 */
import type { Job, Worker } from 'bullmq';
import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from './registry.js';

const eventsProcessed = new Counter({
  name: 'hub_events_processed_total',
  help: 'Events the events worker finished, by event type and outcome (routed, ignored, failed).',
  labelNames: ['event', 'outcome'] as const,
  registers: [metricsRegistry],
});

const ruleEvaluationSeconds = new Histogram({
  name: 'hub_rule_evaluation_seconds',
  help: 'Time to route one webhook resource through the live rules, including the mirror look-ups of the favorites it concerns, in seconds.',
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  registers: [metricsRegistry],
});

const deliveriesFinished = new Counter({
  name: 'hub_deliveries_total',
  help: 'Delivery jobs finished, by connector and outcome (sent, skipped, already done, digest, retry, failed).',
  labelNames: ['connector', 'outcome'] as const,
  registers: [metricsRegistry],
});

const webhookToDeliverySeconds = new Histogram({
  name: 'hub_webhook_to_delivery_seconds',
  help: 'Time from receiving a webhook to sending one of its deliveries, by connector, in seconds.',
  labelNames: ['connector'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
  registers: [metricsRegistry],
});

/** Counts one event the events worker finished. */
export function countEventProcessed(event: string, outcome: string): void {
  eventsProcessed.labels(event, outcome).inc();
}

/** Runs `route` and records its duration as one rule evaluation. */
export async function timeRuleEvaluation<T>(route: () => Promise<T>): Promise<T> {
  const stop = ruleEvaluationSeconds.startTimer();
  try {
    return await route();
  } finally {
    stop();
  }
}

/** Outcome label of a finished delivery job, from the processor's return value. */
function completedOutcome(result: unknown): string {
  if (result === 'sent' || result === 'skipped') return result;
  if (typeof result === 'string' && result.startsWith('digest')) return 'digest';
  return 'already done';
}

/**
 * Counts every job a delivery worker finishes and observes the webhook-to-delivery time of each sent delivery.
 * A failure counts as `retry` while attempts remain and as `failed` after the last one.
 *
 * NOTE: deliveries sent inside a digest are counted once, as the digest job, and add no latency sample.
 */
export function observeDeliveryWorker(worker: Worker, connector: string): void {
  worker.on('completed', (job: Job, result: unknown) => {
    const outcome = completedOutcome(result);
    deliveriesFinished.labels(connector, outcome).inc();
    const receivedAt = (job.data as { receivedAt?: unknown }).receivedAt;
    if (outcome === 'sent' && typeof receivedAt === 'string') {
      webhookToDeliverySeconds.labels(connector).observe(Math.max(0, Date.now() - Date.parse(receivedAt)) / 1000);
    }
  });
  worker.on('failed', (job: Job | undefined, error: Error) => {
    const final = !job || error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    deliveriesFinished.labels(connector, final ? 'failed' : 'retry').inc();
  });
}
