/**
 * Reconciling the mirror with Repliers: read every agent, every client and each client's favorites from the API,
 * repair what differs, and report the drift. On an empty mirror this is the full backfill of `hub sync`; on a
 * mirror kept by webhooks it finds what the webhooks missed.
 *
 * Every repair is written with the time its data was read, so an event the hub received after that read (and so
 * newer) is never overwritten. Absence is acted on with care, because Repliers pages by offset and an item can slip
 * between pages while the list changes:
 * - a favorite that is live in the mirror but missing from its client's list is tombstoned only when the list held
 *   still (its length equals its `count`, read twice at most) and the mirror saw the favorite before the read began;
 * - a client in the mirror but missing from the client list is deleted only when `GET /clients/{id}` returns 404,
 *   and an agent only when `GET /agents/{id}` does.
 *
 * NOTE: a favorite or client that is deleted in the mirror but listed as live by Repliers is counted as a conflict
 * and left deleted, because a tombstone always wins. Repliers never reuses these ids, so a conflict means a
 * deletion event the hub should not have received.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../logger.js';
import type { AgentRecord, ClientRecord, FavoriteRecord } from '../mirror/records.js';
import type { AgentInput, ClientInput, FavoriteInput, Store } from '../mirror/store.js';
import { RepliersApiError, type RepliersApi } from '../repliers/api-client.js';
import type { RepliersAgent, RepliersClient, RepliersFavorite } from '../repliers/types.js';
import { agentInput, clientInput, favoriteInput } from '../workers/apply-to-mirror.js';
import { mapLimit } from './map-limit.js';

export interface DriftCounts {
  /** Read from Repliers. */
  read: number;
  /** In Repliers but not in the mirror, now added. */
  added: number;
  /** In both with different fields, now updated from Repliers. */
  changed: number;
  /** In the mirror but no longer in Repliers, now deleted. */
  removed: number;
  /** Deleted in the mirror but live in Repliers, left deleted. */
  conflict: number;
}

export interface ReconcileReport {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  agents: DriftCounts;
  clients: DriftCounts;
  favorites: DriftCounts;
  /** Clients whose favorites list changed while it was read, so missing favorites were not acted on. */
  unsettledClients: number;
  /** Clients whose favorites could not be read; none of their favorites were changed. */
  failedClients: number;
  /** Up to 10 ids per repair, for the log: `favorite.removed`, `client.added`, … */
  samples: Record<string, string[]>;
}

export interface ReconcileProgress {
  phase: 'agents' | 'clients' | 'cleanup';
  /** Items of the phase done so far. */
  done: number;
  /** Items of the phase expected, as Repliers counted them; 0 when unknown. */
  total: number;
}

export interface ReconcileOptions {
  store: Store;
  repliers: RepliersApi;
  logger: Logger;
  /** Clients whose favorites are read at the same time. Default 4. */
  concurrency?: number;
  onProgress?: (progress: ReconcileProgress) => void;
  /** Returns the current time as an ISO string. Default `new Date().toISOString()`; tests pass their own clock. */
  now?: () => string;
}

/** Ids read from the mirror or the store at once. */
const batchSize = 500;
/** Reconcile stops when this many clients in a row could not be read, since Repliers is then likely down. */
const maxFailuresInARow = 20;
const sampleSize = 10;

/** The API errors that no retry or later client can fix: the whole reconcile stops on them. */
const fatalCodes = new Set(['REPLIERS_UNAUTHORIZED', 'REPLIERS_FORBIDDEN']);

function emptyCounts(): DriftCounts {
  return { read: 0, added: 0, changed: 0, removed: 0, conflict: 0 };
}

function sameAgent(stored: AgentRecord, input: AgentInput): boolean {
  return (
    stored.fname === input.fname &&
    stored.lname === input.lname &&
    stored.email === input.email &&
    stored.phone === input.phone &&
    stored.brokerage === input.brokerage &&
    stored.externalId === input.externalId
  );
}

function sameClient(stored: ClientRecord, input: ClientInput): boolean {
  return (
    stored.agentId === input.agentId &&
    stored.fname === input.fname &&
    stored.lname === input.lname &&
    stored.email === input.email &&
    stored.phone === input.phone &&
    stored.status === input.status &&
    stored.externalId === input.externalId &&
    isDeepStrictEqual(stored.preferences, input.preferences) &&
    isDeepStrictEqual(stored.tags, input.tags)
  );
}

function sameFavorite(stored: FavoriteRecord, input: FavoriteInput): boolean {
  return (
    stored.clientId === input.clientId &&
    stored.mlsNumber === input.mlsNumber &&
    stored.boardId === input.boardId &&
    stored.comments === input.comments &&
    isDeepStrictEqual(stored.tags, input.tags)
  );
}

/** One client's favorites as Repliers listed them. */
interface ClientFavorites {
  clientId: string;
  readAt: string;
  favorites: FavoriteInput[];
  /** False when the list changed while it was read, so a favorite missing from it may still exist. */
  settled: boolean;
}

/**
 * Makes the mirror equal to Repliers and returns what differed. Safe to run while webhooks are applied, and at the
 * same time as another reconcile, though that only doubles the API calls.
 *
 * @throws RepliersApiError when the agent or client list cannot be read, when the API key is rejected, or when
 *   20 clients in a row could not be read. Repairs made before the error stay.
 */
export async function reconcileMirror(options: ReconcileOptions): Promise<ReconcileReport> {
  return new Reconcile(options).run();
}

class Reconcile {
  private readonly store: Store;
  private readonly repliers: RepliersApi;
  private readonly logger: Logger;
  private readonly concurrency: number;
  private readonly now: () => string;
  private readonly report: ReconcileReport;
  private failuresInARow = 0;

  constructor(private readonly options: ReconcileOptions) {
    this.store = options.store;
    this.repliers = options.repliers;
    this.logger = options.logger;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.now = options.now ?? (() => new Date().toISOString());
    const startedAt = this.now();
    this.report = {
      startedAt,
      finishedAt: startedAt,
      durationMs: 0,
      agents: emptyCounts(),
      clients: emptyCounts(),
      favorites: emptyCounts(),
      unsettledClients: 0,
      failedClients: 0,
      samples: {},
    };
  }

  async run(): Promise<ReconcileReport> {
    const started = Date.now();
    await this.reconcileAgents();

    const clientsReadAt = this.now();
    const listed = new Set<string>();
    const { count } = await this.repliers.forEachClientPage(async (clients, progress) => {
      const inputs = clients.map(clientInput);
      for (const input of inputs) listed.add(input.clientId);
      this.report.clients.read += inputs.length;
      await this.reconcileClients(inputs, clientsReadAt);
      this.options.onProgress?.({ phase: 'clients', done: progress.read, total: progress.count });
    });
    await this.removeUnlistedClients(listed, clientsReadAt, count);

    this.report.finishedAt = this.now();
    this.report.durationMs = Date.now() - started;
    return this.report;
  }

  private sample(key: string, id: string): void {
    const list = (this.report.samples[key] ??= []);
    if (list.length < sampleSize) list.push(id);
  }

  private async reconcileAgents(): Promise<void> {
    const readAt = this.now();
    const agents = (await this.repliers.listAgents()).map((agent: RepliersAgent) => agentInput(agent));
    const counts = this.report.agents;
    counts.read = agents.length;
    const listed = new Set(agents.map((agent) => agent.agentId));

    for (let start = 0; start < agents.length; start += batchSize) {
      const batch = agents.slice(start, start + batchSize);
      const stored = await this.store.getAgents(batch.map((agent) => agent.agentId));
      for (const agent of batch) {
        const previous = stored.get(agent.agentId);
        if (previous && sameAgent(previous, agent)) continue;
        counts[previous ? 'changed' : 'added'] += 1;
        this.sample(previous ? 'agent.changed' : 'agent.added', agent.agentId);
        await this.store.upsertAgent(agent, readAt);
      }
      this.options.onProgress?.({ phase: 'agents', done: start + batch.length, total: agents.length });
    }

    for (let after = ''; ; ) {
      const ids = await this.store.listAgentIds(after, batchSize);
      if (ids.length === 0) break;
      after = ids.at(-1)!;
      const unlisted = ids.filter((id) => !listed.has(id));
      await mapLimit(unlisted, this.concurrency, async (agentId) => {
        // The list pages by offset, so an agent may have slipped between pages: only a 404 proves it is gone.
        const agent = await this.repliers.getAgent(agentId);
        if (agent) {
          await this.store.upsertAgent(agentInput(agent), readAt);
          return;
        }
        counts.removed += 1;
        this.sample('agent.removed', agentId);
        await this.store.deleteAgent(agentId, readAt);
      });
    }
  }

  /** Repairs one page of listed clients and then their favorites. */
  private async reconcileClients(clients: ClientInput[], readAt: string): Promise<void> {
    const counts = this.report.clients;
    const stored = await this.store.getClients(clients.map((client) => client.clientId));
    const live: ClientInput[] = [];
    for (const client of clients) {
      const previous = stored.get(client.clientId);
      if (previous?.deletedAt) {
        // Its favorites are all tombstoned in the mirror, so they are not read.
        counts.conflict += 1;
        this.sample('client.conflict', client.clientId);
        continue;
      }
      live.push(client);
      if (previous && sameClient(previous, client)) continue;
      counts[previous ? 'changed' : 'added'] += 1;
      this.sample(previous ? 'client.changed' : 'client.added', client.clientId);
      await this.store.upsertClient(client, readAt);
    }

    const read = await mapLimit(live, this.concurrency, (client) => this.readFavorites(client.clientId));
    await this.reconcileFavorites(read.filter((entry): entry is ClientFavorites => entry !== null));
  }

  /** Reads one client's favorites, twice when the list changed during the first read. Null when it failed. */
  private async readFavorites(clientId: string): Promise<ClientFavorites | null> {
    try {
      let attempt: ClientFavorites | null = null;
      for (let round = 0; round < 2 && !attempt?.settled; round++) {
        const readAt = this.now();
        const paged = await this.repliers.listFavoritesPaged(clientId);
        const favorites = paged.items.flatMap((item: RepliersFavorite) => {
          const input = favoriteInput({ ...item, clientId: item.clientId ?? clientId });
          if (!input) this.logger.warn({ clientId }, 'favorite without favoriteId or mlsNumber skipped');
          return input ? [input] : [];
        });
        const unique = new Set(favorites.map((favorite) => favorite.favoriteId)).size;
        attempt = { clientId, readAt, favorites, settled: unique === paged.items.length && paged.items.length === paged.count };
      }
      this.failuresInARow = 0;
      return attempt;
    } catch (error) {
      if (error instanceof RepliersApiError && fatalCodes.has(error.code)) throw error;
      this.report.failedClients += 1;
      this.failuresInARow += 1;
      this.logger.warn({ clientId, err: error }, 'favorites of client not read; left as they are');
      if (this.failuresInARow >= maxFailuresInARow) {
        throw new RepliersApiError(
          `reconcile stopped: the favorites of ${maxFailuresInARow} clients in a row could not be read; the last ` +
            `error was: ${(error as Error).message}`,
          error instanceof RepliersApiError ? error.code : 'REPLIERS_NETWORK',
          error instanceof RepliersApiError ? error.status : null,
          'GET /favorites',
          { cause: error },
        );
      }
      return null;
    }
  }

  private async reconcileFavorites(lists: ClientFavorites[]): Promise<void> {
    if (lists.length === 0) return;
    const counts = this.report.favorites;
    const mirrored = await this.store.getFavoritesOfClients(lists.map((list) => list.clientId));
    const byClient = new Map<string, FavoriteRecord[]>();
    for (const favorite of mirrored) {
      const list = byClient.get(favorite.clientId) ?? [];
      list.push(favorite);
      byClient.set(favorite.clientId, list);
    }

    // A listed favorite may be stored under no client at all (a bare tombstone) or, in a mirror that went wrong,
    // under another client: look those up by id.
    const storedById = new Map(mirrored.map((favorite) => [favorite.favoriteId, favorite]));
    const elsewhere = lists.flatMap((list) => list.favorites.filter((favorite) => !storedById.has(favorite.favoriteId)));
    for (const [favoriteId, entry] of await this.store.getFavorites(elsewhere.map((favorite) => favorite.favoriteId))) {
      storedById.set(favoriteId, entry.favorite);
    }

    for (const list of lists) {
      counts.read += list.favorites.length;
      if (!list.settled) this.report.unsettledClients += 1;
      for (const favorite of list.favorites) {
        const previous = storedById.get(favorite.favoriteId);
        if (previous?.deletedAt) {
          counts.conflict += 1;
          this.sample('favorite.conflict', favorite.favoriteId);
          continue;
        }
        if (previous && sameFavorite(previous, favorite)) continue;
        counts[previous ? 'changed' : 'added'] += 1;
        this.sample(previous ? 'favorite.changed' : 'favorite.added', favorite.favoriteId);
        await this.store.applyFavoriteCreated(favorite, list.readAt);
      }
      if (list.settled) await this.removeUnlistedFavorites(list, byClient.get(list.clientId) ?? []);
    }
  }

  /** Tombstones the live favorites of a client that its settled list lacks and that the mirror saw before the read. */
  private async removeUnlistedFavorites(list: ClientFavorites, mirrored: FavoriteRecord[]): Promise<void> {
    const listed = new Set(list.favorites.map((favorite) => favorite.favoriteId));
    for (const favorite of mirrored) {
      if (favorite.deletedAt !== null || listed.has(favorite.favoriteId)) continue;
      // Created after the read began: the list could not show it yet.
      if (favorite.createdAt >= list.readAt) continue;
      this.report.favorites.removed += 1;
      this.sample('favorite.removed', favorite.favoriteId);
      await this.store.applyFavoriteDeleted({ favoriteId: favorite.favoriteId }, list.readAt);
    }
  }

  /** Deletes the mirror's clients that Repliers no longer has, and reconciles those the list skipped. */
  private async removeUnlistedClients(listed: Set<string>, readAt: string, count: number): Promise<void> {
    let done = 0;
    for (let after = ''; ; ) {
      const ids = await this.store.listClientIds(after, batchSize);
      if (ids.length === 0) break;
      after = ids.at(-1)!;
      const unlisted = ids.filter((id) => !listed.has(id));
      done += ids.length;
      this.options.onProgress?.({ phase: 'cleanup', done, total: Math.max(count, done) });
      if (unlisted.length === 0) continue;

      const stored = await this.store.getClients(unlisted);
      const favorites = await this.store.getFavoritesOfClients(unlisted);
      const skipped: RepliersClient[] = [];
      await mapLimit(unlisted, this.concurrency, async (clientId) => {
        const live = favorites.filter((favorite) => favorite.clientId === clientId && favorite.deletedAt === null);
        // Seen for the first time after the list was read: too new to judge.
        const updatedAt = stored.get(clientId)?.updatedAt ?? '';
        if (updatedAt >= readAt || live.some((favorite) => favorite.createdAt >= readAt)) return;

        const client = await this.repliers.getClient(clientId);
        if (client) {
          skipped.push(client);
          return;
        }
        this.report.clients.removed += 1;
        this.report.favorites.removed += live.length;
        this.sample('client.removed', clientId);
        for (const favorite of live) this.sample('favorite.removed', favorite.favoriteId);
        await this.store.deleteClient(clientId, readAt);
      });

      if (skipped.length > 0) {
        const inputs = skipped.map(clientInput);
        this.report.clients.read += inputs.length;
        await this.reconcileClients(inputs, readAt);
      }
    }
  }
}
