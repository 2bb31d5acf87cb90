/**
 * Contract cases of the admin records (schema version 5): event subjects and traces, the event search, replay
 * counts and the delivery search. `describeStoreContract` runs them on every store.
 */
import { describe, expect, it } from 'vitest';
import type { EventSearch, NewEvent, Store } from '../../src/mirror/store.js';

function at(seconds: number): string {
  return new Date(Date.UTC(2024, 4, 1, 10, 0, seconds)).toISOString();
}

function event(eventId: string, seconds: number, overrides: Partial<NewEvent> = {}): NewEvent {
  return {
    eventId,
    event: 'listing.updated',
    source: 'repliers',
    path: '/webhooks/repliers/listing.updated',
    receivedAt: at(seconds),
    verified: true,
    payload: '{}',
    ...overrides,
  };
}

/** Defines the cases; `store` returns the migrated store of the running test. */
export function describeAdminRecordsContract(store: () => Store): void {
  const ids = async (search: EventSearch): Promise<string[]> =>
    (await store().searchEvents(search)).map((record) => record.eventId);

  /** Records e1…e5 one second apart: e1 and e3 about listing C1 and client 7, e2 about C1 only, e4 about C2. */
  async function recordFive(): Promise<void> {
    for (let index = 1; index <= 5; index += 1) {
      await store().recordEvent(event(`e${index}`, index, index === 5 ? { event: 'favorite.created' } : {}));
    }
    await store().recordEventTrace('e1', { matchedRules: ['price-drop'], subjects: [{ kind: 'mlsNumber', value: 'C1' }, { kind: 'clientId', value: '7' }] });
    await store().recordEventTrace('e2', { matchedRules: [], subjects: [{ kind: 'mlsNumber', value: 'C1' }] });
    await store().recordEventTrace('e3', { matchedRules: ['price-drop'], subjects: [{ kind: 'mlsNumber', value: 'C1' }, { kind: 'clientId', value: '7' }] });
    await store().recordEventTrace('e4', { matchedRules: [], subjects: [{ kind: 'mlsNumber', value: 'C2' }] });
    await store().setEventOutcome('e3', 'routed', '1 delivery', 'v1', at(10));
  }

  describe('event traces', () => {
    it('new event has an empty trace', async () => {
      await store().recordEvent(event('e1', 1));

      expect(await store().getEventTrace('e1')).toEqual({ matchedRules: null, subjects: [], replayCount: 0 });
    });

    it('unknown event has no trace', async () => {
      await store().recordEventTrace('missing', { matchedRules: ['r'], subjects: [{ kind: 'mlsNumber', value: 'C1' }] });

      expect(await store().getEventTrace('missing')).toBeNull();
      expect(await ids({ subjects: [{ kind: 'mlsNumber', value: 'C1' }] })).toEqual([]);
    });

    it('latest rules replace, subjects add up', async () => {
      await store().recordEvent(event('e1', 1));
      await store().recordEventTrace('e1', { matchedRules: ['a', 'b'], subjects: [{ kind: 'mlsNumber', value: 'C1' }] });
      await store().recordEventTrace('e1', {
        matchedRules: ['b'],
        subjects: [{ kind: 'clientId', value: '7' }, { kind: 'mlsNumber', value: 'C1' }, { kind: 'clientId', value: '7' }],
      });

      expect(await store().getEventTrace('e1')).toEqual({
        matchedRules: ['b'],
        subjects: [{ kind: 'clientId', value: '7' }, { kind: 'mlsNumber', value: 'C1' }],
        replayCount: 0,
      });
    });

    it('nextReplayNumber counts up', async () => {
      await store().recordEvent(event('e1', 1));

      expect(await store().nextReplayNumber('e1')).toBe(1);
      expect(await store().nextReplayNumber('e1')).toBe(2);
      expect((await store().getEventTrace('e1'))?.replayCount).toBe(2);
      expect(await store().nextReplayNumber('missing')).toBeNull();
    });

    it('purged events lose their subjects', async () => {
      await recordFive();

      await store().purgeEventsBefore(at(3));

      expect(await ids({ subjects: [{ kind: 'mlsNumber', value: 'C1' }] })).toEqual(['e3']);
    });
  });

  describe('searchEvents', () => {
    it('without filters lists newest first', async () => {
      await recordFive();

      expect(await ids({})).toEqual(['e5', 'e4', 'e3', 'e2', 'e1']);
    });

    it('filters by one subject', async () => {
      await recordFive();

      expect(await ids({ subjects: [{ kind: 'mlsNumber', value: 'C1' }] })).toEqual(['e3', 'e2', 'e1']);
      expect(await ids({ subjects: [{ kind: 'clientId', value: '7' }] })).toEqual(['e3', 'e1']);
      expect(await ids({ subjects: [{ kind: 'mlsNumber', value: 'C9' }] })).toEqual([]);
    });

    it('requires every subject given', async () => {
      await recordFive();

      expect(await ids({ subjects: [{ kind: 'mlsNumber', value: 'C1' }, { kind: 'clientId', value: '7' }] })).toEqual(['e3', 'e1']);
      expect(await ids({ subjects: [{ kind: 'mlsNumber', value: 'C2' }, { kind: 'clientId', value: '7' }] })).toEqual([]);
    });

    it('filters by type, outcome and time', async () => {
      await recordFive();

      expect(await ids({ event: 'favorite.created' })).toEqual(['e5']);
      expect(await ids({ outcome: 'routed' })).toEqual(['e3']);
      expect(await ids({ outcome: 'received', subjects: [{ kind: 'mlsNumber', value: 'C1' }] })).toEqual(['e2', 'e1']);
      expect(await ids({ since: at(2), until: at(4) })).toEqual(['e3', 'e2']);
      expect(await ids({ since: at(2), subjects: [{ kind: 'clientId', value: '7' }] })).toEqual(['e3']);
    });

    it('pages with after and limit', async () => {
      await recordFive();

      const first = await store().searchEvents({ limit: 2 });
      const last = first[first.length - 1]!;
      expect(first.map((record) => record.eventId)).toEqual(['e5', 'e4']);
      expect(await ids({ limit: 2, after: { receivedAt: last.receivedAt, eventId: last.eventId } })).toEqual(['e3', 'e2']);
      expect(await ids({ limit: 0 })).toEqual([]);
      expect(await ids({ subjects: [{ kind: 'mlsNumber', value: 'C1' }], after: { receivedAt: at(3), eventId: 'e3' } })).toEqual(['e2', 'e1']);
    });

    it('breaks time ties by event id', async () => {
      await store().recordEvent(event('a', 1));
      await store().recordEvent(event('c', 1));
      await store().recordEvent(event('b', 1));

      expect(await ids({})).toEqual(['c', 'b', 'a']);
      expect(await ids({ after: { receivedAt: at(1), eventId: 'c' } })).toEqual(['b', 'a']);
    });
  });

  describe('searchDeliveries', () => {
    async function recordDeliveries(): Promise<void> {
      await store().recordDeliveries(
        [
          { key: 'k1', eventId: 'e1', ruleId: 'r1', ruleSetVersion: 'v1', connector: 'email', recipient: 'client:1' },
          { key: 'k2', eventId: 'e1', ruleId: 'r2', ruleSetVersion: 'v1', connector: 'slack', recipient: 'agent:1' },
          { key: 'k3', eventId: 'e2', ruleId: 'r1', ruleSetVersion: 'v1', connector: 'email', recipient: 'client:2' },
        ],
        at(1),
      );
      await store().setDeliveryStatus('k1', 'failed', { error: 'SMTP 550' }, at(5));
      await store().setDeliveryStatus('k3', 'failed', { error: 'SMTP 550' }, at(7));
      await store().setDeliveryStatus('k2', 'sent', { receipt: 'ts' }, at(6));
    }

    it('lists by last change, newest first', async () => {
      await recordDeliveries();

      expect((await store().searchDeliveries({})).map((delivery) => delivery.key)).toEqual(['k3', 'k2', 'k1']);
    });

    it('filters by every field', async () => {
      await recordDeliveries();
      const keys = async (search: Parameters<Store['searchDeliveries']>[0]) =>
        (await store().searchDeliveries(search)).map((delivery) => delivery.key);

      expect(await keys({ status: 'failed' })).toEqual(['k3', 'k1']);
      expect(await keys({ status: 'failed', connector: 'slack' })).toEqual([]);
      expect(await keys({ connector: 'email', eventId: 'e1' })).toEqual(['k1']);
      expect(await keys({ ruleId: 'r2' })).toEqual(['k2']);
      expect(await keys({ since: at(6), until: at(7) })).toEqual(['k2']);
      expect(await keys({ status: 'failed', limit: 1 })).toEqual(['k3']);
    });
  });
}
