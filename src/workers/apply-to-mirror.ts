/**
 * Applying one webhook resource to the mirror. Every write is idempotent and order-tolerant, so a repeated or
 * reordered delivery leaves the mirror as one in-order application would. A client or agent the mirror lacks is
 * fetched from the Repliers API when a key is configured.
 */
import type { Logger } from '../logger.js';
import type { FavoriteInput, Store } from '../mirror/store.js';
import type { RepliersApi } from '../repliers/api-client.js';
import { toNumber, toText } from '../repliers/listing-values.js';
import type { RepliersAgent, RepliersClient } from '../repliers/types.js';

export interface MirrorDependencies {
  store: Store;
  repliers: RepliersApi | null;
  logger: Logger;
}

const textArray = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];

export function clientInput(client: RepliersClient) {
  return {
    clientId: String(client.clientId),
    agentId: client.agentId === null || client.agentId === undefined ? null : String(client.agentId),
    fname: toText(client.fname),
    lname: toText(client.lname),
    email: toText(client.email),
    phone: toText(client.phone),
    // Repliers disables a client with `status: false`; a client sent without a status is active.
    status: client.status !== false,
    externalId: toText(client.externalId),
    preferences: client.preferences && typeof client.preferences === 'object' ? client.preferences : {},
    tags: textArray(client.tags),
  };
}

export function agentInput(agent: RepliersAgent) {
  return {
    agentId: String(agent.agentId),
    fname: toText(agent.fname),
    lname: toText(agent.lname),
    email: toText(agent.email),
    phone: toText(agent.phone),
    brokerage: typeof agent.brokerage === 'string' ? agent.brokerage : toText((agent.brokerage as { name?: unknown } | null)?.name),
    externalId: toText(agent.externalId),
  };
}

/**
 * Reads the mirrored fields of a favorite from a favorite.created body or a GET /favorites item. Returns null when
 * the favorite has no favoriteId, clientId or mlsNumber.
 */
export function favoriteInput(data: Record<string, unknown>): FavoriteInput | null {
  const id = (field: string): string | null => {
    const value = data[field];
    return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
  };
  const favoriteId = id('favoriteId');
  const clientId = id('clientId');
  const mlsNumber = id('mlsNumber');
  if (favoriteId === null || clientId === null || mlsNumber === null) return null;
  return {
    favoriteId,
    clientId,
    mlsNumber,
    boardId: toText(data.boardId),
    tags: textArray(data.tags),
    comments: toText(data.comments),
  };
}

/**
 * Fetches the client and its agent from Repliers when the mirror lacks them. A client or agent Repliers does not
 * know is logged, not thrown; an API failure is thrown, so the event is retried.
 */
export async function ensureClientAndAgent(deps: MirrorDependencies, clientId: string, at: string): Promise<void> {
  const { store, repliers, logger } = deps;
  let client = (await store.getClients([clientId])).get(clientId) ?? null;
  if (!client) {
    if (!repliers) {
      logger.warn({ clientId }, 'client not in the mirror and no REPLIERS_API_KEY to fetch it');
      return;
    }
    const fetched = await repliers.getClient(clientId);
    if (!fetched) {
      logger.warn({ clientId }, 'client not found in Repliers');
      return;
    }
    await store.upsertClient(clientInput(fetched), at);
    client = (await store.getClients([clientId])).get(clientId) ?? null;
  }

  const agentId = client?.agentId;
  if (!agentId || !repliers) return;
  if ((await store.getAgents([agentId])).has(agentId)) return;
  const agent = await repliers.getAgent(agentId);
  if (agent) await store.upsertAgent(agentInput(agent), at);
  else logger.warn({ agentId, clientId }, 'agent not found in Repliers');
}

/** The fields of a listing kept in the mirror for rendering later events. */
export function listingSummary(listing: Record<string, unknown>): Record<string, unknown> {
  return {
    address: listing.address ?? null,
    images: Array.isArray(listing.images) ? listing.images.slice(0, 5) : [],
    permissions: listing.permissions ?? null,
    details: listing.details ?? null,
  };
}

export async function storeListingState(store: Store, listing: Record<string, unknown>, at: string): Promise<void> {
  const mlsNumber = toText(listing.mlsNumber);
  if (!mlsNumber) return;
  await store.upsertListing(
    {
      mlsNumber,
      boardId: toText(listing.boardId),
      listPrice: toNumber(listing.listPrice),
      status: toText(listing.status),
      lastStatus: toText(listing.lastStatus),
      summary: listingSummary(listing),
    },
    at,
  );
}

export class ResourceError extends Error {
  override readonly name = 'ResourceError';
}

function requireId(data: Record<string, unknown>, field: string, event: string): string {
  const value = data[field];
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new ResourceError(`${event} resource has no "${field}"`);
  }
  return String(value);
}

/** Applies one resource of an event to the mirror. Throws ResourceError for a resource missing its ids. */
export async function applyToMirror(
  deps: MirrorDependencies,
  event: string,
  data: Record<string, unknown>,
  at: string,
): Promise<void> {
  const { store } = deps;
  switch (event) {
    case 'favorite.created': {
      requireId(data, 'favoriteId', event);
      const clientId = requireId(data, 'clientId', event);
      requireId(data, 'mlsNumber', event);
      await store.applyFavoriteCreated(favoriteInput(data)!, at);
      // Repliers sends the whole listing with a favorite; keep it so later messages can show it.
      if ('listPrice' in data || 'address' in data) await storeListingState(store, data, at);
      await ensureClientAndAgent(deps, clientId, at);
      return;
    }
    case 'favorite.deleted': {
      const favoriteId = requireId(data, 'favoriteId', event);
      await store.applyFavoriteDeleted(
        {
          favoriteId,
          clientId: toText(data.clientId) ?? '',
          mlsNumber: toText(data.mlsNumber) ?? '',
          boardId: toText(data.boardId),
        },
        at,
      );
      return;
    }
    case 'client.created':
    case 'client.updated':
      requireId(data, 'clientId', event);
      await store.upsertClient(clientInput(data as unknown as RepliersClient), at);
      return;
    case 'client.deleted':
      await store.deleteClient(requireId(data, 'clientId', event), at);
      return;
    case 'agent.created':
    case 'agent.updated':
      requireId(data, 'agentId', event);
      await store.upsertAgent(agentInput(data as unknown as RepliersAgent), at);
      return;
    case 'agent.deleted':
      await store.deleteAgent(requireId(data, 'agentId', event), at);
      return;
    case 'listing.updated':
      requireId(data, 'mlsNumber', event);
      await storeListingState(store, data, at);
      return;
    default:
      return;
  }
}
