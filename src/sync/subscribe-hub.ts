/**
 * Subscribing the hub to the Repliers events it needs, one URL path per event, as `hub subscribe` does. Each
 * subscription's handshake window is opened just before Repliers is asked to subscribe, because Repliers performs
 * the handshake with the hub before it responds. Running it again changes nothing: target URLs that Repliers
 * already lists are skipped, and a 409 for a duplicate target_url counts as already subscribed.
 */
import type { HookSecrets } from '../ingress/hook-secrets.js';
import type { Store } from '../mirror/store.js';
import { RepliersApiError, type RepliersApi } from '../repliers/api-client.js';

/** The events that route notifications and keep the mirror of favorites, clients and agents fresh. */
export const mirrorEvents = [
  'favorite.created',
  'favorite.deleted',
  'listing.updated',
  'client.created',
  'client.updated',
  'client.deleted',
  'agent.created',
  'agent.updated',
  'agent.deleted',
] as const;

export interface SubscriptionResult {
  event: string;
  targetUrl: string;
  /** `created` now, `existing` before this run, or `failed` with `error`. */
  outcome: 'created' | 'existing' | 'failed';
  webhookId: number | null;
  error?: string;
}

export interface SubscribeOptions {
  repliers: RepliersApi;
  secrets: HookSecrets;
  store: Store;
  /** Public base URL of the hub, such as https://hub.example.com; a trailing slash is ignored. */
  baseUrl: string;
  /** How long each handshake window stays open, in seconds. */
  windowSeconds: number;
  events?: readonly string[];
}

export class SubscribeUrlError extends Error {
  override readonly name = 'SubscribeUrlError';
}

/**
 * Checks the base URL and returns it without trailing slashes.
 *
 * @throws SubscribeUrlError for a URL that is not http(s), or that has a query or fragment.
 */
export function normaliseBaseUrl(baseUrl: string): string {
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new SubscribeUrlError(`--url must be the hub's public base URL, such as https://hub.example.com; got "${baseUrl}"`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new SubscribeUrlError(`--url must use https or http; got "${parsed.protocol}"`);
  }
  if (parsed.search || parsed.hash) {
    throw new SubscribeUrlError(`--url must have no query or fragment; got "${baseUrl}"`);
  }
  return parsed.toString().replace(/\/+$/, '');
}

/** Builds the URL Repliers delivers `event` to: `<base>/webhooks/repliers/<event>`. */
export function targetUrlOf(baseUrl: string, event: string): string {
  return `${baseUrl}/webhooks/repliers/${event}`;
}

/**
 * Subscribes every event that Repliers does not yet deliver to this hub and returns one result per event.
 *
 * @throws RepliersApiError when Repliers rejects the API key or refuses webhooks to it (REPLIERS_UNAUTHORIZED,
 *   REPLIERS_FORBIDDEN), since no event could then be subscribed.
 */
export async function subscribeHub(options: SubscribeOptions): Promise<SubscriptionResult[]> {
  const base = normaliseBaseUrl(options.baseUrl);
  const existing = await options.repliers.listWebhooks();
  const results: SubscriptionResult[] = [];

  for (const event of options.events ?? mirrorEvents) {
    const targetUrl = targetUrlOf(base, event);
    const found = existing.find((webhook) => webhook.target_url === targetUrl);
    if (found) {
      const wrongEvent = found.event !== event;
      results.push({
        event,
        targetUrl,
        outcome: wrongEvent ? 'failed' : 'existing',
        webhookId: found.id,
        ...(wrongEvent && {
          error: `webhook ${found.id} at this URL is subscribed to ${found.event}; delete it in Repliers and run again`,
        }),
      });
      continue;
    }

    await options.secrets.expect(event, options.windowSeconds);
    try {
      const created = await options.repliers.createWebhook(targetUrl, event);
      results.push({ event, targetUrl, outcome: 'created', webhookId: created.id ?? null });
    } catch (error) {
      if (!(error instanceof RepliersApiError)) throw error;
      if (error.code === 'REPLIERS_CONFLICT') {
        results.push({ event, targetUrl, outcome: 'existing', webhookId: null });
        continue;
      }
      if (error.code === 'REPLIERS_UNAUTHORIZED' || error.code === 'REPLIERS_FORBIDDEN') throw error;
      const stored = error.code === 'REPLIERS_HANDSHAKE_FAILED' ? await options.store.getHookSubscription(event) : null;
      const hint = stored
        ? ` The hub already stores a secret for ${event} from an earlier subscription and keeps it; it accepts no new one.`
        : '';
      results.push({ event, targetUrl, outcome: 'failed', webhookId: null, error: error.message + hint });
    }
  }
  return results;
}
