/**
 * Delivery workers, one per connector queue, each with the connector's own concurrency and rate limit.
 *
 * Every send is recorded around the call: 'sending' (counting the attempt) before it and 'sent' with the receipt
 * after it. A delivery already sent or skipped is never sent again, whatever repeated the job. A delivery found in
 * 'sending' was started by an attempt that died before recording its outcome. Before anything is sent again, the
 * connector's `findSent`, where it has one, looks for that message at the service. docs/delivery.md describes what
 * remains possible for each connector.
 *
 * Failures: a temporary ConnectorError is retried with the queue's exponential backoff and jitter; a permanent one
 * fails the delivery at once. A service's Retry-After rate-limits the whole connector queue for that long without
 * holding a worker and without using an attempt, at most `maxRateLimitPostponements` times per delivery. An error
 * that marks the whole connector as down pauses the connector's queue and alerts an admin.
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { createAlerter, type Alerter, type AlertSettings } from '../../connectors/alerts.js';
import { ConnectorError, DeliverySkipped, type Connector, type Delivery, type SendReceipt } from '../../connectors/connector.js';
import { pauseConnector, resumeIfDue } from '../../connectors/connector-pause.js';
import { DigestBatches, type DigestJobData } from '../../connectors/digest-batches.js';
import type { Settings } from '../config/settings.js';
import type { Logger } from '../logger.js';
import { observeDeliveryWorker } from '../metrics/road-metrics.js';
import type { DeliveryRecord } from '../mirror/records.js';
import type { Store } from '../mirror/store.js';
import { deliveryJobOptions, deliveryQueueName } from '../queue/queues.js';

/** Name of the job that sends a digest batch; delivery jobs are named after their template. */
export const digestJobName = 'hub-digest';

/** How often one delivery may be postponed by a service's Retry-After before further rate limits count as attempts. */
export const defaultMaxRateLimitPostponements = 20;

/** Longest Retry-After honoured, in ms; a longer one is shortened to this and the service is asked again then. */
export const maxRetryAfterMs = 3_600_000;

/** Environment variable that makes a worker stop after a send and before its record, for the crash tests. */
export const haltAfterSendVariable = 'HUB_TEST_HALT_AFTER_SEND';

export interface DeliveryWorkerOptions {
  redis: Redis;
  prefix: string;
  connector: Connector;
  store: Store;
  logger: Logger;
  /** Jobs this worker runs at once. Default 10. */
  concurrency?: number;
  /** Sends per minute across every worker of this connector; 0 or absent for no limit. */
  ratePerMinute?: number;
  /** How long an error that takes the whole connector down pauses it, in ms. Default 1 hour. */
  pauseMs?: number;
  /** Digest window in ms for connectors that offer digests; 0 or absent sends each delivery alone. */
  digestWindowMs?: number;
  /** Retry-After postponements allowed per delivery before a rate limit counts as a failed attempt. Default 20. */
  maxRateLimitPostponements?: number;
  /** Destinations of alerts about a paused connector. Without them, alerts are only logged. */
  alerts?: AlertSettings;
  /** BullMQ lock duration in ms (default 30,000); a killed worker's job is taken over after about this long. */
  lockDurationMs?: number;
  /** BullMQ stalled-job check interval in ms (default 30,000). */
  stalledIntervalMs?: number;
}

/** Returns the worker options of one connector that come from the settings. */
export function deliveryWorkerSettings(settings: Readonly<Settings>, connector: string): Partial<DeliveryWorkerOptions> {
  const limits = (settings.deliveryLimits as Record<string, { concurrency: number; ratePerMinute: number } | undefined>)[connector];
  return {
    concurrency: limits?.concurrency,
    ratePerMinute: limits?.ratePerMinute,
    pauseMs: settings.connectorPauseSeconds * 1000,
    digestWindowMs: connector === 'email' ? settings.emailDigestWindowSeconds * 1000 : 0,
    alerts: {
      ...settings.alerts,
      slackToken: settings.slackToken,
      slackApiUrl: settings.slackApiUrl,
      smtpUrl: settings.smtpUrl,
      mailFrom: settings.mailFrom,
      outboxDir: settings.outboxDir,
    },
  };
}

/** State that every job of one worker shares. */
interface WorkerRuntime {
  options: DeliveryWorkerOptions;
  queue: Queue;
  digests: DigestBatches | null;
  alerter: Alerter | null;
}

type DeliveryJob = Job<Delivery | DigestJobData>;

const finished = (record: DeliveryRecord | null): boolean => record?.status === 'sent' || record?.status === 'skipped';

/** A worker that also closes the queue handle and the resume timer it opened. */
export class DeliveryWorker extends Worker<Delivery | DigestJobData> {
  private cleanup: () => Promise<void> = async () => {};

  setCleanup(cleanup: () => Promise<void>): void {
    this.cleanup = cleanup;
  }

  override async close(force = false): Promise<void> {
    await super.close(force);
    await this.cleanup();
  }
}

/** Starts the worker of one connector's queue, and the timer that resumes the connector when its pause ends. */
export function startDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const name = options.connector.name;
  const queue = new Queue(deliveryQueueName(name), { connection: options.redis, prefix: options.prefix });
  const digestWindowMs = options.digestWindowMs ?? 0;
  const digestible = digestWindowMs > 0 && options.connector.digestKey !== undefined && options.connector.sendDigest !== undefined;
  const runtime: WorkerRuntime = {
    options,
    queue,
    digests: digestible ? new DigestBatches(options.redis, options.prefix, name, digestWindowMs) : null,
    alerter: options.alerts ? createAlerter(options.alerts, options.redis, options.prefix, options.logger) : null,
  };

  // A limiter is always set, because a Retry-After applies to the whole queue only through BullMQ's limiter key.
  const ratePerMinute = options.ratePerMinute ?? 0;
  const limiter = ratePerMinute > 0 ? { max: ratePerMinute, duration: 60_000 } : { max: 1_000_000, duration: 1000 };
  const worker = new DeliveryWorker(deliveryQueueName(name), (job, token) => processDeliveryJob(runtime, job, token), {
    connection: options.redis,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 10,
    limiter,
    // BullMQ rejects an undefined value here, so each is passed only when set.
    ...(options.lockDurationMs !== undefined ? { lockDuration: options.lockDurationMs } : {}),
    ...(options.stalledIntervalMs !== undefined ? { stalledInterval: options.stalledIntervalMs } : {}),
  });
  worker.on('error', (error) => options.logger.error({ connector: name, err: error }, 'delivery worker error'));
  worker.on('failed', (job, error) => {
    if (job) void recordFinalFailure(runtime, job, error);
  });
  observeDeliveryWorker(worker, name);

  const pauseMs = options.pauseMs ?? 3_600_000;
  const resumeTimer = setInterval(() => {
    resumeIfDue(queue, options.redis, options.prefix, name).then(
      (ended) => {
        if (ended) options.logger.info({ connector: name, code: ended.code, since: ended.since }, 'connector resumed after its pause');
      },
      (error: unknown) => options.logger.error({ connector: name, err: error }, 'connector resume check failed'),
    );
  }, Math.min(30_000, Math.max(1000, Math.floor(pauseMs / 4))));
  resumeTimer.unref();

  worker.setCleanup(async () => {
    clearInterval(resumeTimer);
    await queue.close();
  });
  return worker;
}

/** Runs one job of a connector queue: a delivery, or the flush of a digest batch. Returns the job's result. */
export async function processDeliveryJob(runtime: WorkerRuntime, job: DeliveryJob, token?: string): Promise<string> {
  if (job.name === digestJobName) return flushDigest(runtime, job as Job<DigestJobData>, token);
  return deliver(runtime, job as Job<Delivery>, token);
}

async function deliver(runtime: WorkerRuntime, job: Job<Delivery>, token: string | undefined): Promise<string> {
  const { connector, store } = runtime.options;
  const delivery = await withCurrentClient(store, job.data);
  const log = deliveryLog(runtime, job, delivery);

  const record = await store.getDelivery(delivery.key);
  if (finished(record)) {
    log.info({ status: record!.status }, 'delivery already done');
    return record!.status;
  }

  if (runtime.digests && connector.digestKey) {
    let digestKey: string | null;
    try {
      // A delivery that would be skipped is recorded now rather than held in a digest.
      connector.preview(delivery);
      digestKey = connector.digestKey(delivery);
    } catch (error) {
      return handleFailure(runtime, job, token, [delivery], record?.rateLimitedCount ?? 0, error);
    }
    if (digestKey !== null) {
      const digestId = await joinDigest(runtime, delivery, digestKey);
      log.info({ digestId }, 'delivery joined a digest');
      return `digest ${digestId}`;
    }
  }

  return sendAlone(runtime, job, token, delivery, record);
}

/** Sends one delivery, after asking the service whether an unfinished earlier attempt already sent it. */
async function sendAlone(
  runtime: WorkerRuntime,
  job: DeliveryJob,
  token: string | undefined,
  delivery: Delivery,
  record: DeliveryRecord | null,
): Promise<string> {
  const { connector, store } = runtime.options;
  const log = deliveryLog(runtime, job, delivery);

  try {
    if (record?.status === 'sending') {
      log.warn({ since: record.updatedAt, attempts: record.attempts }, 'earlier attempt ended without an outcome');
      const found = connector.findSent ? await connector.findSent(delivery, new Date(record.updatedAt)) : null;
      if (found) {
        await store.setDeliveryStatus(delivery.key, 'sent', { receipt: found.id }, new Date().toISOString());
        log.info({ receipt: found.id }, 'delivery found sent by the earlier attempt');
        return 'sent';
      }
    }

    await store.setDeliveryStatus(delivery.key, 'sending', {}, new Date().toISOString());
    const receipt = await connector.send(delivery);
    await haltAfterSendForTests(delivery.key);
    await store.setDeliveryStatus(delivery.key, 'sent', { receipt: receipt.id }, new Date().toISOString());
    log.info({ outbox: receipt.outbox }, 'delivery sent');
    return 'sent';
  } catch (error) {
    return handleFailure(runtime, job, token, [delivery], record?.rateLimitedCount ?? 0, error);
  }
}

/** Adds the delivery to the open digest of its key, making sure the digest's flush job exists first. */
async function joinDigest(runtime: WorkerRuntime, delivery: Delivery, digestKey: string): Promise<string> {
  const digests = runtime.digests!;
  const windowMs = runtime.options.digestWindowMs ?? 0;

  // A batch closes between two steps only when its flush job starts, so a second try finds a new batch.
  for (let tries = 0; tries < 3; tries += 1) {
    const { digestId } = await digests.openOrGet(digestKey);
    const data: DigestJobData = { digestId, digestKey };
    await runtime.queue.add(digestJobName, data, { ...deliveryJobOptions, jobId: `digest-${digestId}`, delay: windowMs });
    if (await digests.join(digestId, delivery)) return digestId;
  }
  throw new Error(`the digest of ${digestKey} closed three times while delivery ${delivery.key} tried to join it; the job will retry`);
}

/** Sends the deliveries of a digest batch: one message for several, the usual message for one. */
async function flushDigest(runtime: WorkerRuntime, job: Job<DigestJobData>, token: string | undefined): Promise<string> {
  const { connector, store, logger } = runtime.options;
  const digests = runtime.digests;
  const { digestId, digestKey } = job.data;
  const log = logger.child({ connector: connector.name, jobId: job.id, digestId });
  if (!digests || !connector.sendDigest) {
    throw new UnrecoverableError(`digest ${digestId} cannot be sent: digests are turned off for ${connector.name}`);
  }

  const members = await digests.close(digestId, digestKey);
  const due: Array<{ delivery: Delivery; record: DeliveryRecord | null }> = [];
  for (const member of members) {
    const delivery = await withCurrentClient(store, member);
    const record = await store.getDelivery(delivery.key);
    if (finished(record)) continue;
    try {
      connector.preview(delivery);
    } catch (error) {
      if (!(error instanceof DeliverySkipped)) throw error;
      await store.setDeliveryStatus(delivery.key, 'skipped', { error: error.message }, new Date().toISOString());
      continue;
    }
    due.push({ delivery, record });
  }

  if (due.length === 0) {
    await digests.remove(digestId);
    return 'digest empty';
  }
  if (due.length === 1) {
    const result = await sendAlone(runtime, job, token, due[0]!.delivery, due[0]!.record);
    await digests.remove(digestId);
    return result;
  }

  const deliveries = due.map((entry) => entry.delivery);
  const rateLimitedCount = Math.max(...due.map((entry) => entry.record?.rateLimitedCount ?? 0));
  let receipt: SendReceipt;
  try {
    for (const delivery of deliveries) await store.setDeliveryStatus(delivery.key, 'sending', {}, new Date().toISOString());
    receipt = await connector.sendDigest(deliveries, digestId);
    await haltAfterSendForTests(digestId);
  } catch (error) {
    return handleFailure(runtime, job, token, deliveries, rateLimitedCount, error);
  }

  const at = new Date().toISOString();
  for (const delivery of deliveries) await store.setDeliveryStatus(delivery.key, 'sent', { receipt: receipt.id }, at);
  await digests.remove(digestId);
  log.info({ deliveries: deliveries.length, outbox: receipt.outbox }, 'digest sent');
  return `digest of ${deliveries.length} sent`;
}

/**
 * Records a failed send of one or more deliveries and settles the job: skipped, failed for good, back in the queue
 * after a rate limit or a pause without using an attempt, or retried with backoff.
 */
async function handleFailure(
  runtime: WorkerRuntime,
  job: DeliveryJob,
  token: string | undefined,
  deliveries: readonly Delivery[],
  rateLimitedCount: number,
  error: unknown,
): Promise<string> {
  const { connector, store, logger } = runtime.options;
  const log = logger.child({ connector: connector.name, jobId: job.id, eventId: deliveries[0]?.eventId, ruleId: deliveries[0]?.ruleId });
  const at = new Date().toISOString();
  const record = async (status: 'pending' | 'failed' | 'skipped', details: { error: string; rateLimited?: boolean }) => {
    for (const delivery of deliveries) await store.setDeliveryStatus(delivery.key, status, details, at);
  };

  if (error instanceof DeliverySkipped) {
    await record('skipped', { error: error.message });
    log.info({ reason: error.message }, 'delivery skipped');
    return 'skipped';
  }

  const message = error instanceof Error ? error.message : String(error);
  const connectorError = error instanceof ConnectorError ? error : null;

  if (connectorError?.pausesConnector && token) {
    await record('pending', { error: message });
    await pauseForError(runtime, connectorError);
    // Back to the now paused queue, without using an attempt. A RateLimitError would do the same but put this worker
    // to sleep for the rest of the rate limiter's window, delaying the sends after a resume by up to that window.
    await job.moveToDelayed(Date.now() + 100, token);
    throw new DelayedError();
  }

  const maxPostponements = runtime.options.maxRateLimitPostponements ?? defaultMaxRateLimitPostponements;
  if (connectorError && connectorError.retryAfterMs !== null && token && rateLimitedCount < maxPostponements) {
    const waitMs = Math.min(Math.max(connectorError.retryAfterMs, 1000), maxRetryAfterMs);
    await record('pending', { error: message, rateLimited: true });
    await runtime.queue.rateLimit(waitMs);
    log.warn({ retryAfterMs: connectorError.retryAfterMs, waitMs, postponements: rateLimitedCount + 1 }, 'delivery rate limited');
    throw Worker.RateLimitError();
  }

  if (connectorError?.kind === 'permanent') {
    await record('failed', { error: message });
    log.error({ err: error, code: connectorError.code }, 'delivery failed permanently');
    throw new UnrecoverableError(message);
  }

  const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  await record(lastAttempt ? 'failed' : 'pending', { error: message });
  if (lastAttempt) log.error({ err: error, attemptsMade: job.attemptsMade + 1 }, 'delivery failed after its last attempt');
  else log.warn({ err: error, attemptsMade: job.attemptsMade + 1 }, 'delivery failed, will retry');
  throw error;
}

/** Pauses the connector's queue for the configured time and alerts an admin once per pause. */
async function pauseForError(runtime: WorkerRuntime, error: ConnectorError): Promise<void> {
  const { connector, redis, prefix, logger } = runtime.options;
  const now = Date.now();
  const until = new Date(now + (runtime.options.pauseMs ?? 3_600_000)).toISOString();
  const pause = { code: error.code, reason: error.message, since: new Date(now).toISOString(), until };

  const first = await pauseConnector(runtime.queue, redis, prefix, connector.name, pause);
  if (!first) return;
  logger.error({ connector: connector.name, code: error.code, until, err: error }, 'connector paused');
  await runtime.alerter?.raise({
    connector: connector.name,
    code: error.code,
    message:
      `${error.message}\n\nThe ${connector.name} connector is paused until ${until} and its deliveries wait in its queue; ` +
      `the other connectors keep working. Once the cause is fixed, resume it with \`hub connectors resume ${connector.name}\`.`,
  });
}

/**
 * Marks the delivery failed when BullMQ failed its job without the processor recording it, such as a job that
 * stalled more often than BullMQ allows.
 */
async function recordFinalFailure(runtime: WorkerRuntime, job: DeliveryJob, error: Error): Promise<void> {
  if (job.name === digestJobName) return;
  const finalFailure = error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
  if (!finalFailure) return;
  const { store, logger } = runtime.options;
  const key = (job.data as Delivery).key;
  try {
    const record = await store.getDelivery(key);
    if (record && (record.status === 'pending' || record.status === 'sending')) {
      await store.setDeliveryStatus(key, 'failed', { error: error.message }, new Date().toISOString());
    }
  } catch (storeError) {
    logger.error({ jobId: job.id, err: storeError }, 'delivery failure not recorded');
  }
}

/** Replaces the client of a client delivery with the mirror's current record, so a later opt-out still applies. */
async function withCurrentClient(store: Store, delivery: Delivery): Promise<Delivery> {
  if (delivery.recipient.kind !== 'client') return delivery;
  const current = (await store.getClients([delivery.recipient.clientId])).get(delivery.recipient.clientId);
  return current ? { ...delivery, client: current } : delivery;
}

function deliveryLog(runtime: WorkerRuntime, job: DeliveryJob, delivery: Delivery): Logger {
  return runtime.options.logger.child({ eventId: delivery.eventId, ruleId: delivery.ruleId, connector: runtime.options.connector.name, jobId: job.id });
}

/**
 * With HUB_TEST_HALT_AFTER_SEND=1, sends the parent process an IPC message that a send went out and then waits
 * forever, so a crash test can kill the process between the send and its record. Does nothing otherwise.
 */
async function haltAfterSendForTests(key: string): Promise<void> {
  if (process.env[haltAfterSendVariable] !== '1') return;
  process.send?.({ type: 'sent', key });
  await new Promise<never>(() => {});
}
