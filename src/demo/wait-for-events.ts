import { setTimeout as sleep } from 'node:timers/promises';
import type { DeliveryRecord, EventRecord } from '../mirror/records.js';
import type { Store } from '../mirror/store.js';
import { countOf } from '../plural.js';

export interface FinishedEvent {
  event: EventRecord;
  deliveries: DeliveryRecord[];
}

const finalStatuses = new Set(['sent', 'skipped', 'failed']);

/**
 * Polls the store until every event is routed and each of its deliveries has a final status (sent, skipped or
 * failed). Throws after `timeoutMs` naming what is still open.
 */
export async function waitForEvents(store: Store, eventIds: readonly string[], timeoutMs = 30_000): Promise<FinishedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const finished: FinishedEvent[] = [];
    const open: string[] = [];
    for (const eventId of eventIds) {
      const event = await store.getEvent(eventId);
      const deliveries = event ? await store.listDeliveries(eventId) : [];
      const done = event !== null && event.outcome !== 'received' && deliveries.every((delivery) => finalStatuses.has(delivery.status));
      if (done) finished.push({ event, deliveries });
      else open.push(eventId.slice(0, 12));
    }
    if (open.length === 0) return finished;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${countOf(open.length, 'event')} to finish: ${open.join(', ')}`);
    }
    await sleep(50);
  }
}
