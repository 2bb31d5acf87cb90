/**
 * Queue depth and age, read from Redis when Prometheus scrapes: jobs per queue and state, and the age of the oldest
 * job waiting in each queue. Reading at scrape time keeps the figures right across every hub process.
 */
import type { Queue } from 'bullmq';
import { Gauge } from 'prom-client';
import { metricsRegistry } from './registry.js';

/** Job states reported per queue. */
const states = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'] as const;

/** Queues whose figures the gauges report, as registered by `watchQueues`. */
const watched = new Set<readonly Queue[]>();

/** Milliseconds a scrape waits for Redis before it reports the gauges without fresh queue figures. */
const collectTimeoutMs = 2000;

const queueJobs = new Gauge({
  name: 'hub_queue_jobs',
  help: 'Jobs in each BullMQ queue of the hub, by queue and state, read from Redis at scrape time.',
  labelNames: ['queue', 'state'] as const,
  registers: [metricsRegistry],
  async collect() {
    this.reset();
    await withTimeout(
      Promise.all(
        [...watched].flat().map(async (queue) => {
          const counts = await queue.getJobCounts(...states);
          for (const state of states) this.labels(queue.name, state).set(counts[state] ?? 0);
        }),
      ),
    );
  },
});

const oldestWaitingSeconds = new Gauge({
  name: 'hub_queue_oldest_waiting_seconds',
  help: 'Age of the oldest job waiting in each queue, in seconds; 0 when none waits.',
  labelNames: ['queue'] as const,
  registers: [metricsRegistry],
  async collect() {
    this.reset();
    await withTimeout(
      Promise.all(
        [...watched].flat().map(async (queue) => {
          this.labels(queue.name).set(await oldestWaitingAgeSeconds(queue));
        }),
      ),
    );
  },
});

/** Returns the age in seconds of the job that has waited longest in `queue`, or 0 when none waits. */
export async function oldestWaitingAgeSeconds(queue: Queue, now = Date.now()): Promise<number> {
  const [oldest] = await queue.getJobs(['wait'], 0, 0, true);
  if (!oldest) return 0;
  return Math.max(0, now - oldest.timestamp) / 1000;
}

/** Adds `queues` to the gauges until the returned function is called. */
export function watchQueues(queues: readonly Queue[]): () => void {
  const entry = [...queues];
  watched.add(entry);
  return () => {
    watched.delete(entry);
  };
}

async function withTimeout(work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, collectTimeoutMs);
  });
  try {
    await Promise.race([work.then(() => undefined), timeout]);
  } catch {
    // A scrape while Redis is down reports the gauges empty, and /readyz reports Redis as unavailable.
  } finally {
    clearTimeout(timer);
  }
}
