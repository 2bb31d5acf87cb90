/**
 * A small client for the Repliers API calls the hub makes: reading agents, clients and favorites. Every call
 * carries the account key in the `REPLIERS-API-KEY` header, times out, and retries 429 and 5xx answers with
 * exponential backoff, waiting at least as long as `Retry-After` asks.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RepliersAgent, RepliersClient, RepliersFavorite, RepliersPage } from './types.js';

export class RepliersApiError extends Error {
  override readonly name = 'RepliersApiError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly path: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

export interface RepliersApiOptions {
  baseUrl: string;
  apiKey: string;
  /** Per request, in milliseconds. Default 10,000. */
  timeoutMs?: number;
  /** Retries after the first attempt for 429, 5xx and network errors. Default 4. */
  maxRetries?: number;
  /** First backoff step in milliseconds, doubled each retry, with jitter. Default 250. */
  backoffMs?: number;
}

function retryAfterMs(header: string | null): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

export class RepliersApi {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly backoffMs: number;

  constructor(options: RepliersApiOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxRetries = options.maxRetries ?? 4;
    this.backoffMs = options.backoffMs ?? 250;
  }

  /** Sends one GET, retrying temporary failures; returns the parsed JSON answer. */
  async get<T>(path: string, query: Record<string, string | number | boolean | undefined> = {}): Promise<T> {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }

    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, {
          headers: { 'REPLIERS-API-KEY': this.apiKey, accept: 'application/json' },
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        if (attempt >= this.maxRetries) {
          throw new RepliersApiError(`Repliers API request GET ${path} failed: ${(error as Error).message}`, null, path, {
            cause: error,
          });
        }
        await sleep(this.backoff(attempt, null));
        continue;
      }

      if (response.ok) return (await response.json()) as T;

      const body = await response.text().catch(() => '');
      if (response.status === 401 || response.status === 403) {
        throw new RepliersApiError(
          `Repliers API rejected the key (HTTP ${response.status}) on GET ${path}: check REPLIERS_API_KEY and that the key may read this resource.`,
          response.status,
          path,
        );
      }
      const temporary = response.status === 429 || response.status >= 500;
      if (!temporary || attempt >= this.maxRetries) {
        throw new RepliersApiError(
          `Repliers API answered HTTP ${response.status} on GET ${path}: ${body.slice(0, 200)}`,
          response.status,
          path,
        );
      }
      await sleep(this.backoff(attempt, retryAfterMs(response.headers.get('retry-after'))));
    }
  }

  private backoff(attempt: number, retryAfter: number | null): number {
    const exponential = this.backoffMs * 2 ** attempt;
    const jittered = exponential / 2 + Math.random() * (exponential / 2);
    return Math.max(jittered, retryAfter ?? 0);
  }

  /** Returns the client, or null when Repliers answers 404. */
  async getClient(clientId: string): Promise<RepliersClient | null> {
    return this.getOrNull<RepliersClient>(`/clients/${encodeURIComponent(clientId)}`);
  }

  async getAgent(agentId: string): Promise<RepliersAgent | null> {
    return this.getOrNull<RepliersAgent>(`/agents/${encodeURIComponent(agentId)}`);
  }

  /** Reads every page of a client's favorites. */
  async listFavorites(clientId: string): Promise<RepliersFavorite[]> {
    return this.readAllPages<RepliersFavorite>('/favorites', 'favorites', { clientId });
  }

  async listClients(): Promise<RepliersClient[]> {
    return this.readAllPages<RepliersClient>('/clients', 'clients', { showSavedSearches: false });
  }

  async listAgents(): Promise<RepliersAgent[]> {
    return this.readAllPages<RepliersAgent>('/agents', 'agents', {});
  }

  private async getOrNull<T>(path: string): Promise<T | null> {
    try {
      return await this.get<T>(path);
    } catch (error) {
      if (error instanceof RepliersApiError && error.status === 404) return null;
      throw error;
    }
  }

  private async readAllPages<T>(
    path: string,
    field: string,
    query: Record<string, string | number | boolean>,
  ): Promise<T[]> {
    const items: T[] = [];
    for (let pageNum = 1; ; pageNum++) {
      const page = await this.get<RepliersPage & Record<string, unknown>>(path, {
        ...query,
        pageNum,
        resultsPerPage: 100,
      });
      const list = page[field];
      if (!Array.isArray(list)) {
        throw new RepliersApiError(`Repliers API answer to GET ${path} has no "${field}" array`, 200, path);
      }
      items.push(...(list as T[]));
      if (pageNum >= (page.numPages ?? 1) || list.length === 0) return items;
    }
  }
}
