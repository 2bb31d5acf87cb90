/**
 * Retention of event records: the worker role deletes events older than EVENT_RETENTION_DAYS, with their
 * deliveries, at start and then every hour. Every worker process runs it; a purge is idempotent, so several
 * processes purging at once only repeat each other's work.
 */
import type { Logger } from '../logger.js';
import type { Store } from '../mirror/store.js';

/** Time between purges, in milliseconds. */
export const defaultPurgeIntervalMs = 3_600_000;

export interface EventRetentionOptions {
  store: Store;
  /** Events received more than this many days ago are deleted. */
  retentionDays: number;
  logger: Logger;
  intervalMs?: number;
}

export interface EventRetention {
  /** Runs one purge now; resolves with what it deleted. */
  purgeNow(): Promise<{ events: number; deliveries: number }>;
  /** Stops the timer and waits for a purge in progress. */
  stop(): Promise<void>;
}

/** Starts purging old events: once right away, then every `intervalMs` (an hour by default). */
export function startEventRetention(options: EventRetentionOptions): EventRetention {
  const { store, retentionDays, logger } = options;
  let running: Promise<unknown> = Promise.resolve();

  const purgeNow = async (): Promise<{ events: number; deliveries: number }> => {
    const before = new Date(Date.now() - retentionDays * 86_400_000).toISOString();
    const purged = await store.purgeEventsBefore(before);
    if (purged.events > 0) logger.info({ before, ...purged }, 'old events purged');
    return purged;
  };
  const purgeInBackground = (): void => {
    running = purgeNow().catch((error: unknown) => logger.error({ err: error }, 'event purge failed'));
  };

  purgeInBackground();
  const timer = setInterval(purgeInBackground, options.intervalMs ?? defaultPurgeIntervalMs);
  timer.unref();

  return {
    purgeNow,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
