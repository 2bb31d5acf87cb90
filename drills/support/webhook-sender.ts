/**
 * Sends webhooks the way a retrying sender such as Repliers would: each body POSTed with its hook secret to
 * `/webhooks/repliers/<event>`, and sent again after a 503, a 5xx or a refused or broken connection, until it is
 * answered 202 or its retry time runs out. Repliers documents no retry policy, so this one is an assumption: wait the
 * Retry-After (at most 5 s) or back off from 250 ms doubling to 5 s.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface OutgoingWebhook {
  event: string;
  body: unknown;
  /** A label for reports, such as "listing.updated #12". */
  label: string;
}

export interface SentWebhook extends OutgoingWebhook {
  /** The event id of the 202 answer, or null when the webhook was never accepted. */
  eventId: string | null;
  attempts: number;
  /** The last status, or 0 after a network error. */
  lastStatus: number;
}

export interface SenderCounts {
  sent: number;
  accepted: number;
  /** Webhooks that were never answered 202 within their retry time, or were answered another 4xx. */
  notAccepted: number;
  /** 503 answers, each followed by a retry. */
  answered503: number;
  /** Other 5xx answers, each followed by a retry. */
  answered5xx: number;
  /** Refused, reset or timed out connections, each followed by a retry. */
  networkErrors: number;
  /** Answers other than 202 and 5xx, which are not retried. */
  rejected: number;
  /** Webhooks sent more than once because an attempt failed. */
  retried: number;
}

export interface WebhookSenderOptions {
  /** API base URLs; webhooks go to them in turn. */
  apiUrls: readonly string[];
  secretOf: (event: string) => string;
  /** How long one webhook is retried before it counts as not accepted, in ms. Default 180,000. */
  retryForMs?: number;
  /** Timeout of one request, in ms. Default 15,000. */
  requestTimeoutMs?: number;
}

export class WebhookSender {
  readonly counts: SenderCounts = { sent: 0, accepted: 0, notAccepted: 0, answered503: 0, answered5xx: 0, networkErrors: 0, rejected: 0, retried: 0 };
  readonly results: SentWebhook[] = [];
  /** 202 answers per API URL, to show how the load was shared. */
  readonly acceptedBy = new Map<string, number>();
  private next = 0;

  constructor(private readonly options: WebhookSenderOptions) {}

  /** Sends one webhook, retrying as described above, and resolves once it is accepted or given up. */
  async send(webhook: OutgoingWebhook): Promise<SentWebhook> {
    const result: SentWebhook = { ...webhook, eventId: null, attempts: 0, lastStatus: 0 };
    this.results.push(result);
    this.counts.sent += 1;
    const payload = JSON.stringify(webhook.body);
    const giveUpAt = Date.now() + (this.options.retryForMs ?? 180_000);
    let backoffMs = 250;

    for (;;) {
      const apiUrl = this.options.apiUrls[this.next++ % this.options.apiUrls.length]!;
      result.attempts += 1;
      let waitMs = backoffMs;
      try {
        const response = await fetch(`${apiUrl}/webhooks/repliers/${webhook.event}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hook-secret': this.options.secretOf(webhook.event) },
          body: payload,
          signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 15_000),
        });
        const text = await response.text();
        result.lastStatus = response.status;
        if (response.status === 202) {
          result.eventId = (JSON.parse(text) as { eventId: string }).eventId;
          this.counts.accepted += 1;
          this.acceptedBy.set(apiUrl, (this.acceptedBy.get(apiUrl) ?? 0) + 1);
          return result;
        }
        if (response.status < 500) {
          this.counts.rejected += 1;
          this.counts.notAccepted += 1;
          return result;
        }
        if (response.status === 503) this.counts.answered503 += 1;
        else this.counts.answered5xx += 1;
        const retryAfter = Number(response.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) waitMs = Math.min(retryAfter * 1000, 5000);
      } catch {
        result.lastStatus = 0;
        this.counts.networkErrors += 1;
      }
      if (Date.now() + waitMs > giveUpAt) {
        this.counts.notAccepted += 1;
        return result;
      }
      if (result.attempts === 1) this.counts.retried += 1;
      await sleep(waitMs);
      backoffMs = Math.min(backoffMs * 2, 5000);
    }
  }

  /**
   * Sends `webhooks` in order at `ratePerSecond`, without waiting for answers between them, at most `maxInFlight`
   * at a time. `onProgress(index)` runs before the webhook at `index` goes out, so a drill can inject a fault there.
   * Resolves once every webhook is accepted or given up.
   */
  async sendAll(
    webhooks: readonly OutgoingWebhook[],
    ratePerSecond: number,
    onProgress?: (index: number) => Promise<void> | void,
    maxInFlight = 256,
  ): Promise<SentWebhook[]> {
    const started = performance.now();
    const inFlight = new Set<Promise<SentWebhook>>();
    const all: Promise<SentWebhook>[] = [];
    for (let index = 0; index < webhooks.length; index++) {
      if (onProgress) await onProgress(index);
      const due = started + (index * 1000) / ratePerSecond;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      const sending = this.send(webhooks[index]!);
      inFlight.add(sending);
      void sending.finally(() => inFlight.delete(sending));
      all.push(sending);
    }
    return Promise.all(all);
  }
}
