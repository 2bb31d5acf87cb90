/** Queue depth and age read from the real Redis, as the /metrics gauges report them. */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { oldestWaitingAgeSeconds, watchQueues } from '../../src/metrics/queue-metrics.js';
import { metricsRegistry } from '../../src/metrics/registry.js';
import { redisUrl } from '../helpers/test-hub.js';

let queue: Queue;

beforeEach(() => {
  queue = new Queue(`metrics-${randomBytes(4).toString('hex')}`, { connection: { url: redisUrl }, prefix: `hub-test-${randomBytes(5).toString('hex')}` });
});

afterEach(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
});

describe('queue metrics', () => {
  it('empty queue has age 0', async () => {
    expect(await oldestWaitingAgeSeconds(queue)).toBe(0);
  });

  it('age is that of the first job added', async () => {
    const first = await queue.add('job', {}, { jobId: 'first' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await queue.add('job', {}, { jobId: 'second' });
    await queue.add('job', {}, { jobId: 'third' });

    expect(await oldestWaitingAgeSeconds(queue, first.timestamp + 5000)).toBe(5);
  });

  it('gauges report watched queues', async () => {
    await queue.add('job', {});
    await queue.add('job', {});
    const unwatch = watchQueues([queue]);
    try {
      const text = await metricsRegistry.metrics();

      expect(text).toContain(`hub_queue_jobs{queue="${queue.name}",state="waiting"} 2`);
      expect(text).toMatch(new RegExp(`hub_queue_oldest_waiting_seconds\\{queue="${queue.name}"\\} \\d`));
    } finally {
      unwatch();
    }
    expect(await metricsRegistry.metrics()).not.toContain(`queue="${queue.name}"`);
  });
});
