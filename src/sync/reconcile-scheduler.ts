/**
 * The scheduled reconcile of the mirror with Repliers, run by the worker role: a BullMQ job scheduler puts one
 * `reconcile` job on the `mirror-reconcile` queue every RECONCILE_INTERVAL_MINUTES, and a worker of concurrency 1
 * runs it. A Redis lock keeps two worker processes from reconciling at once when a run outlasts the interval.
 */
import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { Store } from '../mirror/store.js';
import type { RepliersApi } from '../repliers/api-client.js';
import { reconcileMirror, type ReconcileReport } from './reconcile-mirror.js';
import { recordReconcile, recordReconcileNotFinished } from './sync-metrics.js';

export const reconcileQueueName = 'mirror-reconcile';
const schedulerId = 'mirror-reconcile';
/** How long the run lock lives without renewal, in milliseconds; it is renewed every fifth of that. */
const lockTtlMs = 5 * 60_000;

export interface ReconcileSchedulerOptions {
  /** Connection for the queue. */
  producer: Redis;
  /** Connection for the worker; BullMQ opens its own blocking connection from it. */
  worker: Redis;
  prefix: string;
  /** Interval between runs in milliseconds; 0 removes the schedule. */
  everyMs: number;
  store: Store;
  /** Null when no REPLIERS_API_KEY is set: the schedule is removed. */
  repliers: RepliersApi | null;
  logger: Logger;
  /** Clients whose favorites are read at the same time. */
  concurrency: number;
}

export interface ReconcileScheduler {
  /** Whether reconciles are scheduled (an interval above 0 and an API key). */
  readonly scheduled: boolean;
  close(): Promise<void>;
}

/** Logs a finished reconcile: a warning when it repaired drift or met conflicts, else an info line. */
export function logReconcile(logger: Logger, report: ReconcileReport): void {
  const { agents, clients, favorites } = report;
  const drift = [agents, clients, favorites].reduce(
    (sum, counts) => sum + counts.added + counts.changed + counts.removed + counts.conflict,
    0,
  );
  const fields = {
    durationMs: report.durationMs,
    agents,
    clients,
    favorites,
    unsettledClients: report.unsettledClients,
    failedClients: report.failedClients,
    samples: report.samples,
  };
  if (drift > 0 || report.failedClients > 0) logger.warn(fields, 'mirror reconciled with drift');
  else logger.info(fields, 'mirror reconciled without drift');
}

/**
 * Schedules the reconcile, or removes the schedule when `everyMs` is 0 or there is no API key. The first run of a
 * new schedule comes one interval after it is created; restarting a worker keeps the schedule's next run.
 */
export async function startReconcileScheduler(options: ReconcileSchedulerOptions): Promise<ReconcileScheduler> {
  const { logger, repliers } = options;
  const disabled = options.everyMs <= 0 || !repliers;
  // A queue writes its meta key when created, and removing a schedule writes it too. A hub without reconciles
  // therefore writes to this queue only when an earlier run left a schedule to remove.
  const queue = new Queue(reconcileQueueName, {
    connection: options.producer,
    prefix: options.prefix,
    skipMetasUpdate: disabled,
  });

  if (disabled) {
    if (await queue.getJobScheduler(schedulerId)) await queue.removeJobScheduler(schedulerId);
    if (options.everyMs > 0) logger.warn('REPLIERS_API_KEY is not set: the mirror is not reconciled with Repliers');
    else logger.info('RECONCILE_INTERVAL_MINUTES is 0: the mirror is not reconciled with Repliers');
    return { scheduled: false, close: () => queue.close() };
  }

  const existing = await queue.getJobScheduler(schedulerId);
  const unchanged = existing !== undefined && Number(existing.every) === options.everyMs;
  await queue.upsertJobScheduler(
    schedulerId,
    unchanged ? { every: options.everyMs } : { every: options.everyMs, startDate: Date.now() + options.everyMs },
    { name: 'reconcile', opts: { attempts: 1, removeOnComplete: { count: 20 }, removeOnFail: { count: 50 } } },
  );

  const lockKey = `${options.prefix}:${reconcileQueueName}:running`;
  const worker = new Worker(
    reconcileQueueName,
    async () => runLocked(options.producer, lockKey, logger, () => reconcileMirror({ ...options, repliers })),
    { connection: options.worker, prefix: options.prefix, concurrency: 1 },
  );
  worker.on('failed', (job, error) => logger.error({ jobId: job?.id, err: error }, 'mirror reconcile failed'));
  worker.on('error', (error) => logger.error({ err: error }, 'reconcile worker error'));
  logger.info({ everyMinutes: options.everyMs / 60_000 }, 'mirror reconcile scheduled');

  return {
    scheduled: true,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}

/** Runs one reconcile under the Redis lock and records it; returns a one-line summary for the job's result. */
async function runLocked(
  redis: Redis,
  lockKey: string,
  logger: Logger,
  reconcile: () => Promise<ReconcileReport>,
): Promise<string> {
  const token = randomBytes(8).toString('hex');
  if ((await redis.set(lockKey, token, 'PX', lockTtlMs, 'NX')) !== 'OK') {
    recordReconcileNotFinished('skipped');
    logger.info('mirror reconcile skipped: another process is running one');
    return 'skipped: another reconcile is running';
  }
  const renew = setInterval(() => {
    redis.pexpire(lockKey, lockTtlMs).catch((error: unknown) => logger.warn({ err: error }, 'reconcile lock not renewed'));
  }, lockTtlMs / 5);

  try {
    const report = await reconcile();
    recordReconcile(report);
    logReconcile(logger, report);
    const { agents, clients, favorites } = report;
    return `agents ${agents.read}, clients ${clients.read}, favorites ${favorites.read} read; repaired ${
      agents.added + agents.changed + agents.removed + clients.added + clients.changed + clients.removed +
      favorites.added + favorites.changed + favorites.removed
    }`;
  } catch (error) {
    recordReconcileNotFinished('failed');
    throw error;
  } finally {
    clearInterval(renew);
    // Deletes the lock only while it is still this run's, so a lock another process took after expiry stays.
    await redis
      .eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1, lockKey, token)
      .catch((error: unknown) => logger.warn({ err: error }, 'reconcile lock not released'));
  }
}
