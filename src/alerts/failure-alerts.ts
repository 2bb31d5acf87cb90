/**
 * The failure-threshold alert. Once a minute, each connector's failed deliveries within the alert window are
 * counted in the store. When they reach the threshold, an alert goes out through the connectors' alerter
 * (`connectors/alerts.ts`). The alerter logs it, sends it to the admin Slack channel or email address, and holds
 * back repeats within ALERT_INTERVAL_SECONDS across every hub process.
 */
import type { Alerter } from '../../connectors/alerts.js';
import { maskEmails, type Logger } from '../logger.js';
import type { Store } from '../mirror/store.js';

export const failureAlertCode = 'FAILURE_THRESHOLD';

export interface FailureAlertOptions {
  store: Store;
  alerter: Alerter;
  connectors: readonly string[];
  /** Failed deliveries within the window that raise the alert; 0 turns the check off. */
  threshold: number;
  windowSeconds: number;
  /** Minimum seconds between two alerts of one connector from this process. */
  intervalSeconds: number;
  logger: Logger;
  /** Time between checks, in milliseconds. Default 60,000. */
  checkEveryMs?: number;
}

export interface FailureAlerts {
  /** Runs one check now; resolves once any alert it raised was sent. */
  check(now?: number): Promise<void>;
  stop(): void;
}

/** Starts the periodic check. With a threshold of 0 nothing is checked. */
export function startFailureAlerts(options: FailureAlertOptions): FailureAlerts {
  const lastRaised = new Map<string, number>();

  async function checkConnector(connector: string, now: number): Promise<void> {
    const since = new Date(now - options.windowSeconds * 1000).toISOString();
    const failed = await options.store.searchDeliveries({ status: 'failed', connector, since, limit: options.threshold });
    if (failed.length < options.threshold) return;

    const previous = lastRaised.get(connector);
    if (previous !== undefined && now - previous < options.intervalSeconds * 1000) return;
    lastRaised.set(connector, now);

    const minutes = Math.round(options.windowSeconds / 60);
    const latest = failed[0]?.lastError ? ` The latest error: ${maskEmails(failed[0].lastError)}.` : '';
    await options.alerter.raise({
      connector,
      code: failureAlertCode,
      message:
        `At least ${options.threshold} ${connector} deliveries failed in the last ${minutes} minutes.${latest} ` +
        'Open the admin page (/admin/) to see the failed deliveries, fix the cause and retry them.',
    });
  }

  async function check(now = Date.now()): Promise<void> {
    if (options.threshold === 0) return;
    for (const connector of options.connectors) {
      try {
        await checkConnector(connector, now);
      } catch (error) {
        options.logger.error({ connector, err: error }, 'delivery failure check failed');
      }
    }
  }

  const timer = options.threshold === 0 ? null : setInterval(() => void check(), options.checkEveryMs ?? 60_000);
  timer?.unref();
  return {
    check,
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
