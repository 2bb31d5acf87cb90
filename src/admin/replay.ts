/**
 * Replaying a recorded event through the live rules. The replay is a new job on the events queue, with the job id
 * `<eventId>-replay-<n>`, that the events worker processes under the original event id. Its deliveries therefore
 * get the same keys as the first routing, and those already sent stay sent. A forced replay salts every delivery
 * key with the replay number, so each delivery is made again under a new key.
 */
import { createHash } from 'node:crypto';
import type { Job, Queue } from 'bullmq';
import type { Delivery } from '../../connectors/connector.js';
import type { Store } from '../mirror/store.js';
import { eventJobOptions, type EventJobData } from '../queue/queues.js';

/** Fields a replay job carries beside the ingress's job data. */
export interface ReplayFields {
  /** The id of the event replayed, under which the worker processes the job. */
  replayOf: string;
  replayNumber: number;
  /** True when every delivery is made again under a new key. */
  force: boolean;
}

export type ReplayJobData = EventJobData & ReplayFields;

export class ReplayError extends Error {
  override readonly name = 'ReplayError';
  constructor(
    readonly code: 'EVENT_NOT_FOUND',
    message: string,
  ) {
    super(message);
  }
}

function replayFieldsOf(data: EventJobData): ReplayFields | null {
  const fields = data as Partial<ReplayFields>;
  if (typeof fields.replayOf !== 'string' || typeof fields.replayNumber !== 'number') return null;
  return { replayOf: fields.replayOf, replayNumber: fields.replayNumber, force: fields.force === true };
}

/** Returns the event id a job of the events queue is processed under: its own id, or the id a replay names. */
export function eventIdOfJob(job: Job<EventJobData>): string {
  return replayFieldsOf(job.data)?.replayOf ?? String(job.id);
}

/** Returns the key of a delivery made again by forced replay number `replayNumber`. */
export function forcedDeliveryKey(key: string, replayNumber: number): string {
  return createHash('sha256').update(`${key}\nreplay-${replayNumber}`).digest('hex').slice(0, 40);
}

/** Returns the deliveries of a routing with their keys salted when the job is a forced replay, else unchanged. */
export function replayDeliveries(data: EventJobData, deliveries: readonly Delivery[]): Delivery[] {
  const replay = replayFieldsOf(data);
  if (!replay?.force) return [...deliveries];
  return deliveries.map((delivery) => ({ ...delivery, key: forcedDeliveryKey(delivery.key, replay.replayNumber) }));
}

/**
 * Puts a replay of a recorded event on the events queue and returns its job id and number.
 * Throws ReplayError `EVENT_NOT_FOUND` for an event the store does not hold.
 */
export async function replayEvent(
  store: Store,
  eventsQueue: Queue<EventJobData>,
  eventId: string,
  force: boolean,
): Promise<{ jobId: string; replayNumber: number }> {
  const event = await store.getEvent(eventId);
  const replayNumber = event ? await store.nextReplayNumber(eventId) : null;
  if (!event || replayNumber === null) {
    throw new ReplayError('EVENT_NOT_FOUND', `no recorded event has the id ${eventId}; copy the id from the event log`);
  }

  const jobId = `${eventId}-replay-${replayNumber}`;
  const data: ReplayJobData = {
    event: event.event,
    source: event.source,
    path: event.path,
    receivedAt: event.receivedAt,
    body: event.payload,
    replayOf: eventId,
    replayNumber,
    force,
  };
  await eventsQueue.add(event.event, data, { ...eventJobOptions(), jobId });
  return { jobId, replayNumber };
}
