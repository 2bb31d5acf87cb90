/**
 * Metrics of the webhook ingress: every response counted by source, outcome and status, and the time to acknowledge
 * accepted events. The same counts are kept per ingress instance in a Map, which tests read directly.
 */
import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from './registry.js';

/** Counts of responses by outcome (`accepted`, `bad_secret`, `invalid_json`, …), per ingress instance. */
export type IngressCounters = Map<string, number>;

const webhookRequests = new Counter({
  name: 'hub_webhook_requests_total',
  help: 'Webhook requests the ingress responded to, by source, outcome (accepted, handshake or the reason of a rejection) and HTTP status.',
  labelNames: ['source', 'outcome', 'status'] as const,
  registers: [metricsRegistry],
});

const webhookAckSeconds = new Histogram({
  name: 'hub_webhook_ack_seconds',
  help: 'Time from the start of a webhook request to its 202 response, sent once the event is in Redis, in seconds.',
  labelNames: ['source'] as const,
  buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});

/**
 * Source label of requests whose source is not configured. Unknown ids from the URL are never used as label values,
 * so a sender cannot grow the number of series.
 */
export const unknownSourceLabel = 'unknown';

/** Counts the responses of one ingress instance, both in its own Map and in the shared registry. */
export class IngressMetrics {
  readonly counters: IngressCounters = new Map();
  private readonly requestChildren = new Map<string, ReturnType<typeof webhookRequests.labels>>();
  /** The `accepted` counter of each source, looked up without building a key, since it is counted most. */
  private readonly acceptedChildren = new Map<string, ReturnType<typeof webhookRequests.labels>>();
  private readonly ackChildren = new Map<string, ReturnType<typeof webhookAckSeconds.labels>>();

  /** Counts one response. `outcome` is `accepted`, `handshake` or the reason of a rejection. */
  count(source: string, outcome: string, status: number): void {
    this.counters.set(outcome, (this.counters.get(outcome) ?? 0) + 1);

    const key = `${source}\n${outcome}\n${status}`;
    let child = this.requestChildren.get(key);
    if (!child) {
      child = webhookRequests.labels(source, outcome, String(status));
      this.requestChildren.set(key, child);
    }
    child.inc();
  }

  /** Counts one accepted event and records the time to acknowledge it, in seconds. */
  accepted(source: string, seconds: number): void {
    this.counters.set('accepted', (this.counters.get('accepted') ?? 0) + 1);
    let child = this.acceptedChildren.get(source);
    if (!child) {
      child = webhookRequests.labels(source, 'accepted', '202');
      this.acceptedChildren.set(source, child);
    }
    child.inc();
    this.observeAck(source, seconds);
  }

  /** Records the time to acknowledge one accepted event, in seconds. */
  observeAck(source: string, seconds: number): void {
    let child = this.ackChildren.get(source);
    if (!child) {
      child = webhookAckSeconds.labels(source);
      this.ackChildren.set(source, child);
    }
    child.observe(seconds);
  }
}
