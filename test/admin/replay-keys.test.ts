/** How a replay job maps to its event and how a forced replay renames delivery keys. */
import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../connectors/connector.js';
import { eventIdOfJob, forcedDeliveryKey, replayDeliveries } from '../../src/admin/replay.js';
import type { EventJobData } from '../../src/queue/queues.js';

const data: EventJobData = { event: 'listing.updated', source: 'repliers', path: '/webhooks/repliers/listing.updated', receivedAt: '2026-01-01T00:00:00.000Z', body: '{}' };
const delivery = { key: 'a'.repeat(40) } as Delivery;

describe('replay jobs', () => {
  it('ingress job keeps its own id', () => {
    expect(eventIdOfJob({ id: 'abc', data } as unknown as Job<EventJobData>)).toBe('abc');
  });

  it('replay job is processed under the event id', () => {
    const job = { id: 'abc-replay-2', data: { ...data, replayOf: 'abc', replayNumber: 2, force: false } } as unknown as Job<EventJobData>;

    expect(eventIdOfJob(job)).toBe('abc');
  });

  it('plain replay keeps delivery keys', () => {
    expect(replayDeliveries({ ...data, replayOf: 'abc', replayNumber: 1, force: false } as EventJobData, [delivery])[0]!.key).toBe(delivery.key);
  });

  it('forced replay salts keys per replay', () => {
    const first = replayDeliveries({ ...data, replayOf: 'abc', replayNumber: 1, force: true } as EventJobData, [delivery])[0]!.key;
    const second = replayDeliveries({ ...data, replayOf: 'abc', replayNumber: 2, force: true } as EventJobData, [delivery])[0]!.key;

    expect(first).toBe(forcedDeliveryKey(delivery.key, 1));
    expect(first).toMatch(/^[0-9a-f]{40}$/);
    expect(new Set([delivery.key, first, second]).size).toBe(3);
  });
});
