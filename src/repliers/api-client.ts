/**
 * A small client for the Repliers API calls the hub makes: reading agents, clients and favorites, and managing
 * webhook subscriptions. Every call carries the account key in the `REPLIERS-API-KEY` header, times out, and
 * retries 429, 5xx and network failures with exponential backoff, waiting at least as long as `Retry-After` requests.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RepliersAgent, RepliersClient, RepliersFavorite, RepliersPage } from './types.js';

/** A webhook subscription as `GET /webhooks` and `POST /webhooks` return it. */
export interface RepliersWebhook {
  id: number;
  target_url: string;
  event: string;
  configuration?: Record<string, unknown> | null;
}

/** Stable codes of {@link RepliersApiError}, for callers and logs. */
export type RepliersApiErrorCode =
  /** 401: the key is missing, mistyped or revoked. */
  | 'REPLIERS_UNAUTHORIZED'
  /** 403: the key is valid but may not do this (a sandbox key, or a feature not enabled for the account). */
  | 'REPLIERS_FORBIDDEN'
  /** 404: the resource does not exist. */
  | 'REPLIERS_NOT_FOUND'
  /** 409: the request conflicts with an existing resource, such as a webhook target_url already in use. */
  | 'REPLIERS_CONFLICT'
  /** 429 after every retry, or a Retry-After longer than the client may wait. */
  | 'REPLIERS_RATE_LIMITED'
  /** Any other response that is not 2xx, after the retries that apply to it. */
  | 'REPLIERS_HTTP_ERROR'
  /** No response within the timeout, after every retry. */
  | 'REPLIERS_TIMEOUT'
  /** The connection failed, after every retry. */
  | 'REPLIERS_NETWORK'
  /** A 2xx response that is not the JSON shape the call expects. */
  | 'REPLIERS_BAD_RESPONSE'
  /** POST /webhooks failed because the target did not echo the handshake secret, or could not be reached. */
  | 'REPLIERS_HANDSHAKE_FAILED';

export class RepliersApiError extends Error {
  override readonly name = 'RepliersApiError';
  constructor(
    message: string,
    readonly code: RepliersApiErrorCode,
    /** HTTP status of the last answer, or null when none came. */
    readonly status: number | null,
    /** Method and path of the request, such as "GET /clients". */
    readonly request: string,
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
  /** Retries after the first attempt for 429, 5xx, timeouts and network errors. Default 4. */
  maxRetries?: number;
  /** First backoff step in milliseconds, doubled each retry, with jitter. Default 250. */
  backoffMs?: number;
  /**
   * Maximum wait a `Retry-After` may request, in milliseconds. A longer one fails the call at once with
   * REPLIERS_RATE_LIMITED instead of holding a worker. Default 60,000.
   */
  maxRetryAfterMs?: number;
  /** Items asked for per page of a list. Default 100, the most Repliers documents for these lists. */
  pageSize?: number;
}

/** Every item of a paged list, with the count Repliers gave on its last page. */
export interface PagedList<T> {
  items: T[];
  /** `count` of the last page read, or the number of items when Repliers sent no count. */
  count: number;
  pages: number;
}

type Query = Record<string, string | number | boolean | undefined>;

function retryAfterMs(header: string | null): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/** Builds the error for a final non-2xx answer, with a message that says what to check. */
function httpError(status: number, request: string, body: string): RepliersApiError {
  const detail = body.trim().slice(0, 200);
  switch (status) {
    case 401:
      return new RepliersApiError(
        `Repliers rejected the API key (HTTP 401) on ${request}: check that REPLIERS_API_KEY is set to a current key ` +
          'of this account, and that REPLIERS_API_URL points at the Repliers API.',
        'REPLIERS_UNAUTHORIZED',
        status,
        request,
      );
    case 403:
      return new RepliersApiError(
        `Repliers rejected ${request} for this API key (HTTP 403): the key is valid but may not do this. Sandbox ` +
          'keys cannot manage webhooks, and some features must be enabled for the account by Repliers support.' +
          (detail ? ` Repliers said: ${detail}` : ''),
        'REPLIERS_FORBIDDEN',
        status,
        request,
      );
    case 404:
      return new RepliersApiError(`Repliers found nothing at ${request} (HTTP 404)`, 'REPLIERS_NOT_FOUND', status, request);
    case 409:
      return new RepliersApiError(
        `Repliers responded HTTP 409 on ${request}: it conflicts with an existing resource. ${detail}`.trim(),
        'REPLIERS_CONFLICT',
        status,
        request,
      );
    case 429:
      return new RepliersApiError(
        `Repliers kept responding HTTP 429 (rate limited) on ${request}; try again later or lower SYNC_CONCURRENCY.`,
        'REPLIERS_RATE_LIMITED',
        status,
        request,
      );
    default:
      return new RepliersApiError(
        `Repliers responded HTTP ${status} on ${request}${detail ? `: ${detail}` : ''}`,
        'REPLIERS_HTTP_ERROR',
        status,
        request,
      );
  }
}

/**
 * Describes a failed fetch. Node's fetch rejects with "fetch failed" and puts the reason (refused, DNS, TLS) in
 * `cause`, so the cause is added. A connection tried on several addresses fails with an AggregateError whose message
 * can be empty, so its code is used instead.
 */
function describeNetworkError(error: unknown): string {
  const message = (error as Error).message;
  const cause = (error as { cause?: { message?: unknown; code?: unknown } }).cause;
  const reason = cause?.message || cause?.code;
  return typeof reason === 'string' && reason !== '' ? `${message} (${reason})` : message;
}

export class RepliersApi {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly pageSize: number;

  constructor(options: RepliersApiOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxRetries = options.maxRetries ?? 4;
    this.backoffMs = options.backoffMs ?? 250;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.pageSize = options.pageSize ?? 100;
  }

  /** Sends one GET, retrying temporary failures; returns the parsed JSON answer. */
  async get<T>(path: string, query: Query = {}): Promise<T> {
    return this.request<T>('GET', path, query);
  }

  /**
   * Sends one request and returns the parsed JSON answer (null for an empty body). 429, 5xx, timeouts and network
   * errors are retried up to `maxRetries` times, POST included: the POST this client sends (creating a webhook) is
   * rejected with 409 when repeated, so a retry after a lost answer cannot create a second subscription.
   *
   * @throws RepliersApiError with a code for each kind of failure; see {@link RepliersApiErrorCode}.
   */
  async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, query: Query = {}, body?: unknown): Promise<T> {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const request = `${method} ${path}`;
    const headers: Record<string, string> = { 'REPLIERS-API-KEY': this.apiKey, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';

    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        if (attempt < this.maxRetries) {
          await sleep(this.backoff(attempt, null));
          continue;
        }
        const timedOut = (error as Error).name === 'TimeoutError';
        const where = `${request} at ${this.baseUrl}`;
        const advice =
          'Check that REPLIERS_API_URL is the address of the Repliers API and that the service is reachable from this machine.';
        throw new RepliersApiError(
          timedOut
            ? `Repliers did not answer ${where} within ${this.timeoutMs} ms, ${attempt + 1} attempts. ${advice}`
            : `Repliers request ${where} failed: ${describeNetworkError(error)}, ${attempt + 1} attempts. ${advice}`,
          timedOut ? 'REPLIERS_TIMEOUT' : 'REPLIERS_NETWORK',
          null,
          request,
          { cause: error },
        );
      }

      if (response.ok) return this.readJson<T>(response, request);

      const text = await response.text().catch(() => '');
      const temporary = response.status === 429 || response.status >= 500;
      if (!temporary || attempt >= this.maxRetries) throw httpError(response.status, request, text);

      const asked = retryAfterMs(response.headers.get('retry-after'));
      if (asked !== null && asked > this.maxRetryAfterMs) {
        throw new RepliersApiError(
          `Repliers asked to wait ${Math.ceil(asked / 1000)} s before retrying ${request} (HTTP ${response.status}), ` +
            `longer than the ${Math.round(this.maxRetryAfterMs / 1000)} s this client waits; try again later.`,
          'REPLIERS_RATE_LIMITED',
          response.status,
          request,
        );
      }
      await sleep(this.backoff(attempt, asked));
    }
  }

  private async readJson<T>(response: Response, request: string): Promise<T> {
    const text = await response.text();
    if (text.trim() === '') return null as T;
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new RepliersApiError(
        `Repliers responded to ${request} with a body that is not JSON: ${text.slice(0, 100)}`,
        'REPLIERS_BAD_RESPONSE',
        response.status,
        request,
        { cause: error },
      );
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

  /** Returns the agent, or null when Repliers answers 404. */
  async getAgent(agentId: string): Promise<RepliersAgent | null> {
    return this.getOrNull<RepliersAgent>(`/agents/${encodeURIComponent(agentId)}`);
  }

  /** Reads every page of a client's favorites. */
  async listFavorites(clientId: string): Promise<RepliersFavorite[]> {
    return (await this.readAllPages<RepliersFavorite>('/favorites', 'favorites', { clientId })).items;
  }

  /** Reads every page of a client's favorites, with the count Repliers gave, to check that the list held still. */
  async listFavoritesPaged(clientId: string): Promise<PagedList<RepliersFavorite>> {
    return this.readAllPages<RepliersFavorite>('/favorites', 'favorites', { clientId });
  }

  async listClients(): Promise<RepliersClient[]> {
    return (await this.listClientsPaged()).items;
  }

  /** Reads every page of the account's clients, without their saved searches. */
  async listClientsPaged(onPage?: (read: number, count: number) => void): Promise<PagedList<RepliersClient>> {
    return this.readAllPages<RepliersClient>('/clients', 'clients', { showSavedSearches: false }, onPage);
  }

  /**
   * Reads the account's clients page by page, handing each page to `handle` before the next is asked for, so a
   * large account is never held in memory at once. Returns the count of the last page and the clients read.
   */
  async forEachClientPage(
    handle: (clients: RepliersClient[], progress: { read: number; count: number }) => Promise<void>,
  ): Promise<{ count: number; read: number }> {
    return this.readPages<RepliersClient>('/clients', 'clients', { showSavedSearches: false }, handle);
  }

  async listAgents(): Promise<RepliersAgent[]> {
    return (await this.readAllPages<RepliersAgent>('/agents', 'agents', {})).items;
  }

  /** Lists the account's webhook subscriptions. Repliers answers a bare array; an object with `webhooks` works too. */
  async listWebhooks(): Promise<RepliersWebhook[]> {
    const answer = await this.get<unknown>('/webhooks');
    const list = Array.isArray(answer) ? answer : (answer as { webhooks?: unknown } | null)?.webhooks;
    if (!Array.isArray(list)) {
      throw new RepliersApiError(
        'Repliers response to GET /webhooks is not a list of subscriptions',
        'REPLIERS_BAD_RESPONSE',
        200,
        'GET /webhooks',
      );
    }
    return list as RepliersWebhook[];
  }

  /**
   * Creates a webhook subscription. Repliers performs the handshake with `targetUrl` before it answers, so the
   * hub must be reachable there with the handshake window of `event` open.
   *
   * @throws RepliersApiError REPLIERS_CONFLICT when `targetUrl` is already subscribed, REPLIERS_FORBIDDEN for a
   *   sandbox key, and REPLIERS_HANDSHAKE_FAILED when the target did not echo the secret (Repliers answers 401) or
   *   could not be reached (400).
   */
  async createWebhook(targetUrl: string, event: string): Promise<RepliersWebhook> {
    let created: RepliersWebhook | null;
    try {
      created = await this.request<RepliersWebhook | null>('POST', '/webhooks', {}, { target_url: targetUrl, event });
    } catch (error) {
      if (!(error instanceof RepliersApiError) || (error.status !== 401 && error.status !== 400)) throw error;
      // On this call Repliers uses 401 for a secret that was not echoed, so it need not mean a wrong key.
      throw new RepliersApiError(
        `Repliers could not subscribe ${event} at ${targetUrl} (HTTP ${error.status}): ` +
          (error.status === 401
            ? 'the target did not echo the X-Hook-Secret. Check that the hub runs there, that its handshake window ' +
              'for this event is open, and that no other secret is stored for the event; a wrong REPLIERS_API_KEY ' +
              'also answers 401.'
            : `Repliers could not reach the target or rejected the request. ${error.message}`),
        'REPLIERS_HANDSHAKE_FAILED',
        error.status,
        error.request,
        { cause: error },
      );
    }
    if (!created || typeof created !== 'object') {
      throw new RepliersApiError(
        'Repliers response to POST /webhooks is not a subscription',
        'REPLIERS_BAD_RESPONSE',
        200,
        'POST /webhooks',
      );
    }
    return created;
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
    onPage?: (read: number, count: number) => void,
  ): Promise<PagedList<T>> {
    const items: T[] = [];
    const { count, pages } = await this.readPages<T>(path, field, query, async (list, progress) => {
      items.push(...list);
      onPage?.(progress.read, progress.count);
    });
    return { items, count, pages };
  }

  /** Asks for pages 1, 2, … until `numPages` is reached or a page comes back empty, handing each to `handle`. */
  private async readPages<T>(
    path: string,
    field: string,
    query: Record<string, string | number | boolean>,
    handle: (items: T[], progress: { read: number; count: number }) => Promise<void>,
  ): Promise<{ count: number; read: number; pages: number }> {
    let read = 0;
    for (let pageNum = 1; ; pageNum++) {
      const page = await this.get<Partial<RepliersPage> & Record<string, unknown>>(path, {
        ...query,
        pageNum,
        resultsPerPage: this.pageSize,
      });
      const list = page?.[field];
      if (!Array.isArray(list)) {
        throw new RepliersApiError(
          `Repliers response to GET ${path} has no "${field}" array`,
          'REPLIERS_BAD_RESPONSE',
          200,
          `GET ${path}`,
        );
      }
      read += list.length;
      const count = typeof page.count === 'number' ? page.count : read;
      await handle(list as T[], { read, count });
      if (pageNum >= (page.numPages ?? 1) || list.length === 0) return { count, read, pages: pageNum };
    }
  }
}
