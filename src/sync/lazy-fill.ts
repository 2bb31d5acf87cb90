/**
 * Lazy fill: a listing.updated may name favorites the mirror never saw, when their favorite.created was lost or
 * has not arrived yet. Before routing, the hub fetches them from Repliers, so that their clients hear of the
 * change.
 *
 * NOTE: Repliers has no `GET /favorites/{id}`, and `GET /favorites` needs a clientId. A favorite can therefore be
 * fetched only when the payload names its client: an object with `favoriteId` and `clientId` in the `favorites`
 * array of the listing (`data.favorites`). A bare id, the shape the Repliers help centre describes, stays unknown:
 * it is logged, counted in `hub_mirror_lazy_fill_favorites_total{result="unknown"}` and named on the event's
 * outcome, that favorite's client is not notified of this change, and the next reconcile adds the favorite.
 */
import type { Logger } from '../logger.js';
import type { FavoriteWithPeople, Store } from '../mirror/store.js';
import type { RepliersApi } from '../repliers/api-client.js';
import type { WebhookResource } from '../repliers/webhook-body.js';
import { ensureClientAndAgent, favoriteInput } from '../workers/apply-to-mirror.js';
import { mapLimit } from './map-limit.js';
import { recordLazyFill } from './sync-metrics.js';

export interface LazyFillDependencies {
  store: Store;
  /** Null when no REPLIERS_API_KEY is set: nothing is fetched, and every missing favorite counts as unknown. */
  repliers: RepliersApi | null;
  logger: Logger;
}

/** Most clients whose favorites one listing.updated fetches; the favorites of further clients stay unknown. */
export const maxClientsPerEvent = 25;
/** Clients whose favorites are fetched at the same time. */
const concurrency = 4;

/** Maps favoriteId to clientId for the favorites of a listing payload that are objects carrying both. */
export function favoriteOwners(data: Record<string, unknown>): Map<string, string> {
  const owners = new Map<string, string>();
  const list = data.favorites;
  if (!Array.isArray(list)) return owners;
  for (const entry of list) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { favoriteId, clientId } = entry as Record<string, unknown>;
    const idOk = typeof favoriteId === 'string' || typeof favoriteId === 'number';
    const clientOk = typeof clientId === 'string' || typeof clientId === 'number';
    if (idOk && clientOk) owners.set(String(favoriteId), String(clientId));
  }
  return owners;
}

/**
 * Fetches the favorites of the clients that own the `missing` favorite ids, stores them, and returns those of
 * `missing` now in the mirror, with their people. A failed fetch from Repliers is logged, not thrown, and its
 * favorites stay unknown. At most {@link maxClientsPerEvent} clients are fetched for one call.
 */
export async function fillMissingFavorites(
  deps: LazyFillDependencies,
  missing: readonly string[],
  resource: WebhookResource,
): Promise<Map<string, FavoriteWithPeople>> {
  if (missing.length === 0) return new Map();
  const { store, repliers, logger } = deps;

  const owners = favoriteOwners(resource.data);
  const clientIds = [...new Set(missing.flatMap((id) => (owners.has(id) ? [owners.get(id)!] : [])))];
  if (!repliers || clientIds.length === 0) {
    recordLazyFill(0, missing.length);
    return new Map();
  }
  if (clientIds.length > maxClientsPerEvent) {
    logger.warn({ clients: clientIds.length, fetched: maxClientsPerEvent }, 'lazy fill limited to the first clients');
  }

  await mapLimit(clientIds.slice(0, maxClientsPerEvent), concurrency, async (clientId) => {
    try {
      const at = new Date().toISOString();
      for (const item of await repliers.listFavorites(clientId)) {
        const input = favoriteInput({ ...item, clientId: item.clientId ?? clientId });
        if (input) await store.applyFavoriteCreated(input, at);
      }
      await ensureClientAndAgent(deps, clientId, at);
    } catch (error) {
      logger.warn({ clientId, err: error }, 'lazy fill of client favorites failed');
    }
  });

  const found = await store.getFavorites(missing);
  recordLazyFill(found.size, missing.length - found.size);
  return found;
}
