/**
 * Routing one event: find whom it concerns, evaluate the rule set once per concerned favorite, and turn every
 * match into deliveries, one per (rule, action, recipient). Delivery keys are digests of those four parts and the
 * event id, so routing the same event twice yields the same keys and no second delivery.
 */
import { createHash } from 'node:crypto';
import type { Delivery, ListingChange, ListingView, Recipient } from '../../connectors/connector.js';
import type { Logger } from '../logger.js';
import type { FavoriteWithPeople, Store } from '../mirror/store.js';
import type { RepliersApi } from '../repliers/api-client.js';
import { normaliseListingFields } from '../repliers/listing-values.js';
import { buildListingChange, buildListingView, type ListingViewOptions } from '../repliers/listing-view.js';
import type { WebhookResource } from '../repliers/webhook-body.js';
import type { CompiledRule, RuleAction, RuleSet } from '../rules/rule.js';
import { fillMissingFavorites, type LazyFillDependencies } from '../sync/lazy-fill.js';

export interface RoutedEvent {
  eventId: string;
  eventType: string;
  receivedAt: string;
}

/** A favorite the event concerns, or an empty subject when it concerns none. */
export type Subject = FavoriteWithPeople | { favorite: null; client: null; agent: null };

export interface RouteResult {
  deliveries: Delivery[];
  /** Rule ids that matched at least once. */
  matchedRules: string[];
  /** favoriteIds the payload named that the mirror does not hold. */
  unknownFavoriteIds: string[];
}

export function deliveryKey(eventId: string, ruleId: string, actionIndex: number, recipient: string): string {
  return createHash('sha256').update(`${eventId}\n${ruleId}\n${actionIndex}\n${recipient}`).digest('hex').slice(0, 40);
}

export function recipientLabel(recipient: Recipient): string {
  switch (recipient.kind) {
    case 'client':
      return `client:${recipient.clientId}`;
    case 'agent':
      return `agent:${recipient.agentId}`;
    case 'channel':
      return `channel:${recipient.channel}`;
  }
}

function recipientFor(action: RuleAction, subject: Subject): Recipient | null {
  if (typeof action.to === 'object') return { kind: 'channel', channel: action.to.channel };
  if (action.to === 'clients') return subject.client ? { kind: 'client', clientId: subject.client.clientId } : null;
  return subject.agent ? { kind: 'agent', agentId: subject.agent.agentId } : null;
}

async function findSubjects(
  store: Store,
  eventType: string,
  resource: WebhookResource,
  lazyFill: LazyFillDependencies,
): Promise<{ subjects: FavoriteWithPeople[]; unknown: string[] }> {
  const data = resource.data;
  if (eventType === 'favorite.created' || eventType === 'favorite.deleted') {
    const id = String(data.favoriteId);
    const found = (await store.getFavorites([id])).get(id);
    return { subjects: found ? [found] : [], unknown: found ? [] : [id] };
  }
  if (eventType.startsWith('listing.')) {
    if (resource.favoriteIds.length > 0) {
      const found = await store.getFavorites(resource.favoriteIds);
      // Favorites the mirror lacks are fetched from Repliers first, where the payload says whose they are.
      const missing = resource.favoriteIds.filter((id) => !found.has(id));
      for (const [id, entry] of await fillMissingFavorites(lazyFill, missing, resource)) found.set(id, entry);
      const unknown = missing.filter((id) => !found.has(id));
      // A favorite deleted since Repliers built the payload no longer concerns its client.
      const live = [...found.values()].filter((entry) => entry.favorite.deletedAt === null);
      return { subjects: live, unknown };
    }
    const boardId = data.boardId === null || data.boardId === undefined ? null : String(data.boardId);
    return { subjects: await store.getFavoritesOfListing(String(data.mlsNumber), boardId), unknown: [] };
  }
  return { subjects: [], unknown: [] };
}

function listingOf(eventType: string, data: Record<string, unknown>): Record<string, unknown> | null {
  if (eventType.startsWith('listing.')) return data;
  if (eventType.startsWith('favorite.')) return data;
  return null;
}

/** Builds the JSON Logic data that a rule condition is evaluated on for one subject. */
export function ruleData(
  event: RoutedEvent,
  listing: Record<string, unknown> | null,
  previous: Record<string, unknown>,
  change: ListingChange | null,
  subject: Subject,
  favoriteCount: number,
): Record<string, unknown> {
  return {
    event: { type: event.eventType, id: event.eventId, receivedAt: event.receivedAt },
    listing,
    previous,
    change,
    favorite: subject.favorite,
    client: subject.client,
    agent: subject.agent,
    favoriteCount,
  };
}

export interface RouteOptions {
  store: Store;
  ruleSet: RuleSet;
  viewOptions: ListingViewOptions;
  logger: Logger;
  /** Fetches favorites a listing.updated names but the mirror lacks; null or absent fetches nothing. */
  repliers?: RepliersApi | null;
  /** Called after each evaluation of a rule for a subject, with the rule data; `hub rules test` traces from it. */
  onEvaluated?: (evaluation: { rule: CompiledRule; subject: Subject; data: Record<string, unknown>; result: unknown; error?: unknown }) => void;
}

export async function routeResource(
  options: RouteOptions,
  event: RoutedEvent,
  resource: WebhookResource,
): Promise<RouteResult> {
  const { store, ruleSet, logger } = options;
  const rules: CompiledRule[] = ruleSet.byEvent.get(event.eventType) ?? [];
  if (rules.length === 0) return { deliveries: [], matchedRules: [], unknownFavoriteIds: [] };

  const rawListing = listingOf(event.eventType, resource.data);
  let listing = rawListing ? normaliseListingFields(rawListing) : null;
  let view: ListingView | null = null;
  if (rawListing) {
    let source = rawListing;
    // A favorite payload may carry only ids; fall back to the listing state the mirror keeps.
    if (!('address' in rawListing) && typeof rawListing.mlsNumber === 'string') {
      const boardId = rawListing.boardId === undefined || rawListing.boardId === null ? null : String(rawListing.boardId);
      const stored = await store.getListing(rawListing.mlsNumber, boardId);
      if (stored) {
        source = { ...stored.summary, ...rawListing, listPrice: stored.listPrice, status: stored.status, lastStatus: stored.lastStatus };
        listing = normaliseListingFields(source);
      }
    }
    view = buildListingView(source, options.viewOptions);
  }
  const previous = normaliseListingFields(resource.previous);
  const change = event.eventType === 'listing.updated' && rawListing ? buildListingChange(rawListing, resource.previous) : null;

  const lazyFill = { store, repliers: options.repliers ?? null, logger: logger.child({ eventId: event.eventId }) };
  const { subjects, unknown } = await findSubjects(store, event.eventType, resource, lazyFill);
  if (unknown.length > 0) {
    logger.warn({ eventId: event.eventId, count: unknown.length, favoriteIds: unknown.slice(0, 20) }, 'favorites not in the mirror');
  }
  const concerned: Subject[] = subjects.length > 0 ? subjects : [{ favorite: null, client: null, agent: null }];

  const deliveries = new Map<string, Delivery>();
  const matched = new Set<string>();
  for (const subject of concerned) {
    const data = ruleData(event, listing, previous, change, subject, subjects.length);
    for (const rule of rules) {
      let result: unknown;
      try {
        result = rule.condition(data);
      } catch (error) {
        logger.error({ eventId: event.eventId, ruleId: rule.id, err: error }, 'rule evaluation failed');
        options.onEvaluated?.({ rule, subject, data, result: undefined, error });
        continue;
      }
      options.onEvaluated?.({ rule, subject, data, result });
      if (!result || (Array.isArray(result) && result.length === 0)) continue;
      matched.add(rule.id);

      rule.actions.forEach((action, actionIndex) => {
        const recipient = recipientFor(action, subject);
        if (!recipient) return;
        const key = deliveryKey(event.eventId, rule.id, actionIndex, recipientLabel(recipient));
        if (deliveries.has(key)) return;
        // A channel message is sent once per event, so it names people only when one favorite is concerned.
        const people = recipient.kind === 'channel' && subjects.length !== 1 ? { favorite: null, client: null, agent: null } : subject;
        deliveries.set(key, {
          key,
          eventId: event.eventId,
          eventType: event.eventType,
          receivedAt: event.receivedAt,
          ruleId: rule.id,
          ruleSetVersion: ruleSet.version,
          action: { connector: action.connector, template: action.template, to: action.to },
          recipient,
          listing: view,
          change,
          favorite: people.favorite,
          client: people.client,
          agent: people.agent,
          favoriteCount: subjects.length,
        });
      });
    }
  }
  return { deliveries: [...deliveries.values()], matchedRules: [...matched], unknownFavoriteIds: unknown };
}
