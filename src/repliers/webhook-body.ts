/**
 * Reading a Repliers webhook body. Repliers documents two shapes: the newer envelope `{ data, hook, … }` and an
 * older bare JSON array of resources. Where the public material leaves a detail open (where `previous` and the
 * favorites of a listing.updated sit, and whether favorites are ids or objects), every documented variant is read.
 */

export class WebhookBodyError extends Error {
  override readonly name = 'WebhookBodyError';
}

/** One resource of a delivery, with what Repliers sent beside it. */
export interface WebhookResource {
  data: Record<string, unknown>;
  /** listing.updated only: the changed fields with their old values, nested as in the listing. */
  previous: Record<string, unknown>;
  /** listing.updated only: ids of the favorites the change concerns, as strings. */
  favoriteIds: string[];
}

export interface WebhookBody {
  /** The event name from `hook.event`, when the envelope carries one. */
  hookEvent: string | null;
  resources: WebhookResource[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function readFavoriteIds(...holders: Record<string, unknown>[]): string[] {
  const ids = new Set<string>();
  for (const holder of holders) {
    for (const list of [holder.favoriteIds, holder.favorites]) {
      if (!Array.isArray(list)) continue;
      for (const entry of list) {
        if (typeof entry === 'string' || typeof entry === 'number') ids.add(String(entry));
        else if (isObject(entry) && (typeof entry.favoriteId === 'string' || typeof entry.favoriteId === 'number')) {
          ids.add(String(entry.favoriteId));
        }
      }
    }
  }
  return [...ids];
}

function readResource(data: Record<string, unknown>, envelope: Record<string, unknown>): WebhookResource {
  const previous = isObject(envelope.previous) ? envelope.previous : isObject(data.previous) ? data.previous : {};
  return { data, previous, favoriteIds: readFavoriteIds(envelope, data) };
}

/**
 * Reads a parsed webhook body into resources. Throws WebhookBodyError, whose message is safe to return to the
 * sender, when the body is neither shape.
 */
export function readWebhookBody(body: unknown): WebhookBody {
  if (Array.isArray(body)) {
    if (body.length === 0) throw new WebhookBodyError('the body is an empty array; expected at least one resource');
    const resources = body.map((entry, index) => {
      if (!isObject(entry)) throw new WebhookBodyError(`item ${index} of the body array is not a JSON object`);
      return readResource(entry, {});
    });
    return { hookEvent: null, resources };
  }

  if (!isObject(body)) {
    throw new WebhookBodyError('the body must be a JSON object with a "data" field, or an array of resources');
  }
  const hook = isObject(body.hook) ? body.hook : null;
  const hookEvent = hook && typeof hook.event === 'string' ? hook.event : null;

  if (Array.isArray(body.data)) {
    const resources = body.data.map((entry, index) => {
      if (!isObject(entry)) throw new WebhookBodyError(`item ${index} of "data" is not a JSON object`);
      return readResource(entry, body);
    });
    if (resources.length === 0) throw new WebhookBodyError('"data" is an empty array; expected at least one resource');
    return { hookEvent, resources };
  }
  if (!isObject(body.data)) {
    throw new WebhookBodyError('the body has no "data" object; expected { "data": { … } }, with "hook", "previous" or "favoriteIds" beside it when the sender sets them');
  }
  return { hookEvent, resources: [readResource(body.data, body)] };
}
