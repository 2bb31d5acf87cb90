/**
 * Store contract for event retention: purgeEventsBefore deletes old events with their deliveries and nothing else.
 * Both store implementations run it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewDelivery, NewEvent, Store } from '../../src/mirror/store.js';

function at(seconds: number): string {
  return new Date(Date.UTC(2024, 4, 1, 10, 0, seconds)).toISOString();
}

function newEvent(eventId: string, receivedAt: string): NewEvent {
  return {
    eventId,
    event: 'listing.updated',
    source: 'repliers',
    path: '/webhooks/repliers/listing.updated',
    receivedAt,
    verified: true,
    payload: JSON.stringify({ data: { mlsNumber: eventId } }),
  };
}

function newDelivery(key: string, eventId: string): NewDelivery {
  return { key, eventId, ruleId: 'price-drop', ruleSetVersion: 'v1', connector: 'email', recipient: `client:${key}` };
}

export function describeEventRetentionContract(
  name: string,
  open: () => Promise<Store>,
  cleanup?: (store: Store) => Promise<void>,
): void {
  describe(`${name} event retention contract`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await open();
      await store.migrate();
    });

    afterEach(async () => {
      await store.close();
      await cleanup?.(store);
    });

    it('purge deletes older events and their deliveries', async () => {
      await store.recordEvent(newEvent('old-1', at(1)));
      await store.recordEvent(newEvent('old-2', at(2)));
      await store.recordEvent(newEvent('new-1', at(10)));
      await store.recordDeliveries([newDelivery('k1', 'old-1'), newDelivery('k2', 'old-1'), newDelivery('k3', 'new-1')], at(11));

      const purged = await store.purgeEventsBefore(at(5));

      expect(purged).toEqual({ events: 2, deliveries: 2 });
      expect(await store.getEvent('old-1')).toBeNull();
      expect(await store.getEvent('old-2')).toBeNull();
      expect(await store.getDelivery('k1')).toBeNull();
      expect(await store.getDelivery('k2')).toBeNull();
      expect((await store.getEvent('new-1'))?.eventId).toBe('new-1');
      expect((await store.getDelivery('k3'))?.eventId).toBe('new-1');
    });

    it('purge keeps an event received at the cut-off', async () => {
      await store.recordEvent(newEvent('edge', at(5)));

      expect(await store.purgeEventsBefore(at(5))).toEqual({ events: 0, deliveries: 0 });
      expect((await store.getEvent('edge'))?.eventId).toBe('edge');
    });

    it('repeated purge deletes nothing more', async () => {
      await store.recordEvent(newEvent('old-1', at(1)));
      await store.purgeEventsBefore(at(5));

      expect(await store.purgeEventsBefore(at(5))).toEqual({ events: 0, deliveries: 0 });
    });

    it('purge of an empty store deletes nothing', async () => {
      expect(await store.purgeEventsBefore(at(5))).toEqual({ events: 0, deliveries: 0 });
    });

    it('purge crosses batch boundaries', async () => {
      // More than one batch of 1,000 events, so the loop over batches runs.
      const count = 1_050;
      for (let index = 0; index < count; index += 1) await store.recordEvent(newEvent(`e${index}`, at(1)));
      await store.recordEvent(newEvent('kept', at(10)));

      expect(await store.purgeEventsBefore(at(5))).toEqual({ events: count, deliveries: 0 });
      expect((await store.listEvents({ limit: -1 })).map((event) => event.eventId)).toEqual(['kept']);
    });
  });
}
