/**
 * `POST /webhooks/sources/<sourceId>`: events from systems other than Repliers, under the same rules as the Repliers
 * route (size limit, JSON only, 202 only once Redis has the job, 503 when it cannot), verified with Standard
 * Webhooks signatures instead of a hook secret.
 *
 * The event id is a digest of the source id and the `webhook-id`, which the sender keeps across retries, so a
 * retried or replayed delivery maps to the event already queued. A replay outside the timestamp tolerance is
 * rejected before that.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventIntake } from '../ingress/event-intake.js';
import { assertJsonMediaType, parseJsonBody } from '../ingress/json-body.js';
import { readRequestBody, RequestAbortedError, RequestBodyError } from '../ingress/request-body.js';
import type { WebhookResponder } from '../ingress/webhook-responder.js';
import type { Logger } from '../logger.js';
import { unknownSourceLabel } from '../metrics/ingress-metrics.js';
import type { EventJobData } from '../queue/queues.js';
import { eventNamePattern, type Source, type SourceRegistry } from './sources-file.js';
import { verifySignature } from './standard-webhooks.js';

export interface SourceRouteOptions {
  sources: SourceRegistry;
  intake: EventIntake;
  responder: WebhookResponder;
  logger: Logger;
  bodyLimitBytes: number;
}

/** Returns the event id of a source's delivery: the SHA-256, in hex, of the source id and the sender's `webhook-id`. */
export function sourceEventIdFor(sourceId: string, webhookId: string): string {
  return createHash('sha256').update(`source\n${sourceId}\n${webhookId}`).digest('hex');
}

function readPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Returns the event name of a delivery, from the source's config or from its body, or null when there is none. */
function eventNameOf(source: Source, body: unknown): string | null {
  if (source.event !== null) return source.event;
  const name = readPath(body, source.eventField);
  return typeof name === 'string' && eventNamePattern.test(name) ? name : null;
}

/** Returns the handler of `POST /webhooks/sources/<sourceId>`. It never rejects, because it responds to every failure. */
export function createSourceWebhookHandler(
  options: SourceRouteOptions,
): (req: IncomingMessage, res: ServerResponse, sourceId: string) => Promise<void> {
  const { sources, intake, responder, logger, bodyLimitBytes } = options;

  async function handle(req: IncomingMessage, res: ServerResponse, sourceId: string): Promise<void> {
    const startedAt = performance.now();
    const source = sources.get(sourceId);
    if (!source) {
      responder.reject(req, res, unknownSourceLabel, 404, 'unknown_source', 'No source with this id is configured; check the URL and SOURCES_FILE.');
      return;
    }

    let body: Buffer;
    try {
      body = await readRequestBody(req, bodyLimitBytes);
    } catch (error) {
      if (error instanceof RequestAbortedError) {
        responder.reject(req, res, source.id, 499, 'client_aborted', error.message);
        return;
      }
      if (!(error instanceof RequestBodyError)) throw error;
      responder.reject(req, res, source.id, error.status, error.reason, error.message, { closeConnection: true });
      return;
    }

    // The signature covers the exact bytes, so it is checked before anything reads them.
    const check = verifySignature(req.headers, body, source.keys, source.toleranceSeconds, Date.now());
    if (!check.ok) {
      responder.reject(req, res, source.id, 401, check.reason, '');
      return;
    }

    let text: string;
    let parsed: unknown;
    try {
      assertJsonMediaType(req.headers['content-type']);
      ({ text, value: parsed } = parseJsonBody(body));
    } catch (error) {
      if (!(error instanceof RequestBodyError)) throw error;
      responder.reject(req, res, source.id, error.status, error.reason, error.message);
      return;
    }
    const event = eventNameOf(source, parsed);
    if (event === null) {
      const field = source.eventField.join('.');
      responder.reject(req, res, source.id, 400, 'missing_event_name', `The body has no event name at "${field}" (1 to 128 letters, digits, ".", "_" or "-").`);
      return;
    }

    const eventId = sourceEventIdFor(source.id, check.webhookId);
    const data: EventJobData = {
      event,
      source: source.id,
      path: `/webhooks/sources/${source.id}`,
      receivedAt: new Date().toISOString(),
      body: text,
      deliveryId: check.webhookId,
    };
    if (!(await intake.enqueue(eventId, data))) {
      responder.unavailable(req, res, source.id, 'enqueue_failed', 'The event queue is unavailable; retry later.');
      return;
    }
    responder.accept(res, source.id, eventId, startedAt);
  }

  return async (req, res, sourceId) => {
    try {
      await handle(req, res, sourceId);
    } catch (error) {
      logger.error({ path: req.url, err: error }, 'webhook handler failed');
      const label = sources.has(sourceId) ? sourceId : unknownSourceLabel;
      responder.reject(req, res, label, 500, 'internal_error', 'Internal error.');
    }
  };
}
