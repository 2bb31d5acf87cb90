/**
 * The trace the events worker records on each event for the admin event log: the rules that matched, and the
 * listings, clients, agents and favorites the event concerns. An admin can then find every event about one listing
 * or one client, including the events that matched no rule.
 */
import type { Delivery } from '../../connectors/connector.js';
import type { Logger } from '../logger.js';
import type { EventSubject, Store } from '../mirror/store.js';
import type { WebhookBody } from '../repliers/webhook-body.js';

/** Field names of a resource that name a subject directly. */
const subjectFields: readonly EventSubject['kind'][] = ['mlsNumber', 'clientId', 'agentId', 'favoriteId'];

function idOf(value: unknown): string | null {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/**
 * Collects the subjects of an event: ids named in its resources, the clients and agents of the favorites a
 * listing event names (or, when it names none, of the listing's live favorites), and the recipients of its
 * deliveries. Reads the mirror but writes nothing.
 */
export async function collectEventSubjects(
  store: Store,
  eventType: string,
  body: WebhookBody,
  deliveries: readonly Delivery[],
): Promise<EventSubject[]> {
  const subjects = new Map<string, EventSubject>();
  const add = (kind: EventSubject['kind'], raw: unknown): void => {
    const value = idOf(raw);
    if (value !== null) subjects.set(`${kind}\n${value}`, { kind, value });
  };

  for (const resource of body.resources) {
    for (const field of subjectFields) add(field, resource.data[field]);
    for (const favoriteId of resource.favoriteIds) add('favoriteId', favoriteId);
    if (!eventType.startsWith('listing.')) continue;

    const mlsNumber = idOf(resource.data.mlsNumber);
    const boardId = idOf(resource.data.boardId);
    const concerned =
      resource.favoriteIds.length > 0
        ? [...(await store.getFavorites(resource.favoriteIds)).values()]
        : mlsNumber
          ? await store.getFavoritesOfListing(mlsNumber, boardId)
          : [];
    for (const entry of concerned) {
      add('favoriteId', entry.favorite.favoriteId);
      add('clientId', entry.favorite.clientId);
      add('agentId', entry.agent?.agentId);
    }
  }

  for (const delivery of deliveries) {
    add('clientId', delivery.client?.clientId);
    add('agentId', delivery.agent?.agentId);
    add('favoriteId', delivery.favorite?.favoriteId);
    add('mlsNumber', delivery.listing?.mlsNumber);
  }
  return [...subjects.values()];
}

/**
 * Records the matched rules and the subjects of a routed event. A failure is logged and swallowed: the trace
 * explains an event, and losing it must not make the event itself fail and be routed again.
 */
export async function recordEventTrace(
  store: Store,
  log: Logger,
  eventId: string,
  eventType: string,
  body: WebhookBody,
  matchedRules: Iterable<string>,
  deliveries: readonly Delivery[],
): Promise<void> {
  try {
    const subjects = await collectEventSubjects(store, eventType, body, deliveries);
    await store.recordEventTrace(eventId, { matchedRules: [...new Set(matchedRules)], subjects });
  } catch (error) {
    log.warn({ eventId, err: error }, 'event trace not recorded');
  }
}
