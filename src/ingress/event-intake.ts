/**
 * Putting an accepted event on the events queue, with a deadline. The routes respond 202 only when this resolves
 * true, so a 202 always means Redis has the job (or already had it, for a duplicate).
 *
 * Enqueues are committed in groups. Every event handed over during one turn of the event loop goes to Redis in one
 * `Queue.addBulk` call. BullMQ 6 sends it as one pipeline that runs the add script of `Queue.add` once per job, in
 * order, so job ids, deduplication and the stored jobs are those of one `add` per event. Under load this replaces
 * one socket write and one promise chain per webhook with one per group, in the hub and in Redis.
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { Logger } from '../logger.js';
import { eventJobOptions, eventJobOptionsFor, type EventJobBaseOptions, type EventJobData, type EventQueueLimits } from '../queue/queues.js';

export interface EventIntakeOptions {
  queue: Queue<EventJobData>;
  logger: Logger;
  limits: EventQueueLimits;
  /** How long to wait for Redis before giving up, in milliseconds. */
  enqueueTimeoutMs: number;
}

/** Failures are logged at most once per this many milliseconds. The next line counts the ones not logged. */
const failureLogIntervalMs = 1000;
/** How often overdue enqueues are looked for, in milliseconds: a timeout fires up to this much late. */
const sweepIntervalMs = 50;
/** Maximum number of jobs in one group. A turn with more is split, so no reply waits behind thousands of scripts. */
const maxGroupSize = 256;

interface PendingAdd {
  deadline: number;
  settle: (added: boolean, error?: unknown) => void;
}

interface GroupedAdd {
  job: { name: string; data: EventJobData; opts: JobsOptions };
  entry: PendingAdd;
}

export class EventIntake {
  private readonly baseOptions: EventJobBaseOptions;
  private readonly pending = new Set<PendingAdd>();
  private sweeper: NodeJS.Timeout | null = null;
  private lastFailureLoggedAt = 0;
  private unloggedFailures = 0;
  /** Enqueues of the current event-loop turn, sent together once the turn's I/O callbacks have run. */
  private group: GroupedAdd[] = [];
  private flushScheduled = false;

  constructor(private readonly options: EventIntakeOptions) {
    this.baseOptions = eventJobOptions(options.limits);
  }

  /**
   * Adds one event under `eventId` (a hex digest). Resolves true once Redis has the job, or had one with that id
   * within the dedupe window. Resolves false when Redis fails or does not respond within the timeout. A job added
   * after the timeout stays in Redis, so the sender's retry then finds it as a duplicate.
   */
  enqueue(eventId: string, data: EventJobData): Promise<boolean> {
    const opts = eventJobOptionsFor(eventId, this.baseOptions, this.options.limits.dedupeWindowSeconds);
    return new Promise<boolean>((resolve) => {
      const entry: PendingAdd = {
        deadline: Date.now() + this.options.enqueueTimeoutMs,
        settle: (added, error) => {
          if (!this.pending.delete(entry)) return;
          if (!added) this.logFailure(eventId, data, error);
          resolve(added);
        },
      };
      this.pending.add(entry);
      this.startSweeper();
      this.group.push({ job: { name: data.event, data, opts }, entry });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate runs after every I/O callback of this turn, so requests whose bodies arrived together share
        // one group. process.nextTick would flush after the first of them.
        setImmediate(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const group = this.group;
    this.group = [];
    for (let start = 0; start < group.length; start += maxGroupSize) {
      this.send(start === 0 && group.length <= maxGroupSize ? group : group.slice(start, start + maxGroupSize));
    }
  };

  /**
   * Sends one group. BullMQ's pipeline is not a transaction, so when it fails some of its jobs may be in Redis. Every
   * event of the group then resolves false (503), and a sender's retry of an event that was added is a duplicate.
   */
  private send(group: GroupedAdd[]): void {
    this.options.queue.addBulk(group.map((add) => add.job)).then(
      () => {
        for (const add of group) add.entry.settle(true);
      },
      (error: unknown) => {
        for (const add of group) add.entry.settle(false, error);
      },
    );
  }

  /**
   * Starts the one timer that enforces every deadline, which costs less per webhook than a timer and a Promise.race
   * each. The timer stops when no enqueue is pending.
   */
  private startSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const entry of this.pending) {
        if (entry.deadline <= now) {
          entry.settle(false, new Error(`enqueue timed out after ${this.options.enqueueTimeoutMs} ms`));
        }
      }
      if (this.pending.size === 0 && this.sweeper) {
        clearInterval(this.sweeper);
        this.sweeper = null;
      }
    }, sweepIntervalMs);
  }

  private logFailure(eventId: string, data: EventJobData, error: unknown): void {
    const now = Date.now();
    if (now - this.lastFailureLoggedAt < failureLogIntervalMs) {
      this.unloggedFailures += 1;
      return;
    }
    this.options.logger.error(
      { eventId, event: data.event, source: data.source, failuresNotLogged: this.unloggedFailures, err: error },
      'webhook enqueue failed',
    );
    this.lastFailureLoggedAt = now;
    this.unloggedFailures = 0;
  }
}
