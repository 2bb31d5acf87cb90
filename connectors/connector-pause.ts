/**
 * Pausing a connector: its BullMQ queue is paused for every worker process, so deliveries wait in Redis instead of
 * failing, and a marker in Redis records why and until when. Only a queue paused with a marker is resumed by time.
 * A queue paused by hand, from Bull Board for example, stays paused until someone resumes it.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** Reason and end of a connector's pause. Times are ISO 8601. */
export interface ConnectorPause {
  code: string;
  reason: string;
  since: string;
  until: string;
}

export function pauseMarkerKey(prefix: string, connector: string): string {
  return `${prefix}:connector-pause:${connector}`;
}

/**
 * Pauses the connector's queue and stores the marker. Returns false when the connector was already paused with a
 * marker, in which case the marker is left as it is so the first reason and resume time hold.
 */
export async function pauseConnector(queue: Queue, redis: Redis, prefix: string, connector: string, pause: ConnectorPause): Promise<boolean> {
  const stored = await redis.set(pauseMarkerKey(prefix, connector), JSON.stringify(pause), 'NX');
  await queue.pause();
  return stored === 'OK';
}

export async function readConnectorPause(redis: Redis, prefix: string, connector: string): Promise<ConnectorPause | null> {
  const raw = await redis.get(pauseMarkerKey(prefix, connector));
  if (!raw) return null;
  try {
    return JSON.parse(raw) as ConnectorPause;
  } catch {
    return { code: 'UNKNOWN', reason: raw, since: new Date(0).toISOString(), until: new Date(0).toISOString() };
  }
}

/** Resumes the queue and removes the marker. Returns whether the queue was paused. */
export async function resumeConnector(queue: Queue, redis: Redis, prefix: string, connector: string): Promise<boolean> {
  const wasPaused = await queue.isPaused();
  await queue.resume();
  await redis.del(pauseMarkerKey(prefix, connector));
  return wasPaused;
}

/** Resumes the connector when its marker's resume time has passed. Returns the pause that ended, or null. */
export async function resumeIfDue(queue: Queue, redis: Redis, prefix: string, connector: string, now = Date.now()): Promise<ConnectorPause | null> {
  const pause = await readConnectorPause(redis, prefix, connector);
  if (!pause || Date.parse(pause.until) > now) return null;
  await resumeConnector(queue, redis, prefix, connector);
  return pause;
}
