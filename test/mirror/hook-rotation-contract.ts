/**
 * Store contract for hook secret rotation: a rotation replaces the secret only when the caller saw the current one,
 * and keeps the replaced secret with the time it stops being valid. Both store implementations run it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/mirror/store.js';

function at(seconds: number): string {
  return new Date(Date.UTC(2024, 4, 1, 10, 0, seconds)).toISOString();
}

export function describeHookRotationContract(
  name: string,
  open: () => Promise<Store>,
  cleanup?: (store: Store) => Promise<void>,
): void {
  describe(`${name} hook rotation contract`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await open();
      await store.migrate();
    });

    afterEach(async () => {
      await store.close();
      await cleanup?.(store);
    });

    it('subscription without rotation has no previous secret', async () => {
      await store.createHookSubscription('favorite.created', 'secret-1', at(1));

      const subscription = await store.getHookSubscription('favorite.created');

      expect(subscription).toEqual({ event: 'favorite.created', secret: 'secret-1', createdAt: at(1) });
      expect(subscription).not.toHaveProperty('previous');
    });

    it('rotation keeps the replaced secret', async () => {
      await store.createHookSubscription('favorite.created', 'secret-1', at(1));

      expect(await store.rotateHookSecret('favorite.created', 'secret-1', 'secret-2', at(100), at(2))).toBe(true);

      expect(await store.getHookSubscription('favorite.created')).toEqual({
        event: 'favorite.created',
        secret: 'secret-2',
        createdAt: at(1),
        previous: { secret: 'secret-1', validUntil: at(100), replacedAt: at(2) },
      });
    });

    it('rotation from a stale secret changes nothing', async () => {
      await store.createHookSubscription('favorite.created', 'secret-1', at(1));

      expect(await store.rotateHookSecret('favorite.created', 'secret-0', 'secret-2', at(100), at(2))).toBe(false);

      expect(await store.getHookSubscription('favorite.created')).toEqual({
        event: 'favorite.created',
        secret: 'secret-1',
        createdAt: at(1),
      });
    });

    it('rotation of an unknown event creates nothing', async () => {
      expect(await store.rotateHookSecret('listing.updated', 'secret-1', 'secret-2', at(100), at(2))).toBe(false);

      expect(await store.getHookSubscription('listing.updated')).toBeNull();
    });

    it('repeated rotation applies once', async () => {
      await store.createHookSubscription('favorite.created', 'secret-1', at(1));
      await store.rotateHookSecret('favorite.created', 'secret-1', 'secret-2', at(100), at(2));

      expect(await store.rotateHookSecret('favorite.created', 'secret-1', 'secret-2', at(200), at(3))).toBe(false);

      expect((await store.getHookSubscription('favorite.created'))?.previous).toEqual({
        secret: 'secret-1',
        validUntil: at(100),
        replacedAt: at(2),
      });
    });

    it('second rotation drops the oldest secret', async () => {
      await store.createHookSubscription('favorite.created', 'secret-1', at(1));
      await store.rotateHookSecret('favorite.created', 'secret-1', 'secret-2', at(100), at(2));

      expect(await store.rotateHookSecret('favorite.created', 'secret-2', 'secret-3', at(300), at(3))).toBe(true);

      const subscription = await store.getHookSubscription('favorite.created');
      expect(subscription?.secret).toBe('secret-3');
      expect(subscription?.previous).toEqual({ secret: 'secret-2', validUntil: at(300), replacedAt: at(3) });
    });

    it('rotation leaves other events alone', async () => {
      await store.createHookSubscription('favorite.created', 'secret-1', at(1));
      await store.createHookSubscription('favorite.deleted', 'secret-1', at(1));

      await store.rotateHookSecret('favorite.created', 'secret-1', 'secret-2', at(100), at(2));

      expect(await store.getHookSubscription('favorite.deleted')).toEqual({
        event: 'favorite.deleted',
        secret: 'secret-1',
        createdAt: at(1),
      });
    });
  });
}
