/**
 * `POST /webhooks/repliers/<event>`: the hub's front door. It verifies, parses and enqueues, and nothing more:
 * the mirror, the rules and the connectors run in workers. It responds 202 only after BullMQ has the job.
 *
 * Checks run in the order below, and the first failure decides the response. A sender without the secret learns
 * nothing about the body's problems.
 *
 * 1. unknown event: 404
 * 2. body over the limit: 413
 * 3. empty body: the subscription handshake (200 or 401), or 400 without a secret header
 * 4. wrong or missing secret: 401
 * 5. not JSON: 415; invalid JSON or not a Repliers body: 400
 * 6. Redis unavailable: 503; otherwise 202
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import type { EventJobData } from '../queue/queues.js';
import { isRepliersEvent } from '../repliers/events.js';
import { readWebhookBody, WebhookBodyError } from '../repliers/webhook-body.js';
import type { EventIntake } from './event-intake.js';
import type { HookSecrets } from './hook-secrets.js';
import { assertJsonMediaType, parseJsonBody, withoutBom } from './json-body.js';
import { readRequestBody, RequestAbortedError, RequestBodyError } from './request-body.js';
import { findSecretHeader, type SecretHeader } from './secret-header.js';
import type { WebhookResponder } from './webhook-responder.js';

const source = 'repliers';

export type { IngressCounters } from '../metrics/ingress-metrics.js';

export interface WebhookRouteOptions {
  secrets: HookSecrets;
  intake: EventIntake;
  responder: WebhookResponder;
  logger: Logger;
  /** Headers that may carry the hook secret, lower-case, in the order they are read. */
  secretHeaders: readonly string[];
  bodyLimitBytes: number;
}

/** A framework-free route handler: `name` is the last path segment, decoded. It never rejects. */
export type WebhookHandler = (req: IncomingMessage, res: ServerResponse, name: string) => Promise<void>;

/**
 * Returns the event id, which is also the BullMQ job id: the SHA-256 digest, in hex, of the event name and the exact
 * body. A repeated delivery of the same body within the dedupe window maps to the job already queued, and any real
 * change alters the body. Hex keeps the id valid for BullMQ whatever the body contains.
 */
export function eventIdFor(event: string, body: Buffer): string {
  // Copying a hash that has already taken `event` and the newline saves two updates per webhook. Only the names
  // that pass isRepliersEvent get here from the route, so the map stays small.
  let prefix = eventPrefixHashes.get(event);
  if (!prefix) {
    prefix = createHash('sha256').update(event).update('\n');
    eventPrefixHashes.set(event, prefix);
  }
  return prefix.copy().update(body).digest('hex');
}

const eventPrefixHashes = new Map<string, Hash>();

/** The metrics reason and the admin's log hint of each handshake the hub rejects. */
const handshakeRejections: Record<'invalid-secret' | 'not-expected' | 'secret-stored', { reason: string; hint: (event: string) => string }> = {
  'invalid-secret': {
    reason: 'handshake_invalid_secret',
    hint: () => 'the secret header is missing or repeated, or is not 8 to 512 printable characters without commas',
  },
  'not-expected': {
    reason: 'handshake_not_expected',
    hint: (event) => `no handshake window is open: run \`hub webhooks expect ${event}\` just before subscribing`,
  },
  'secret-stored': {
    reason: 'handshake_secret_stored',
    hint: (event) => `a secret is already stored for ${event}: run \`hub webhooks expect --rotate ${event}\` to replace it`,
  },
};

let receivedAtMs = 0;
let receivedAtText = new Date(0).toISOString();

/**
 * Returns the current time as an ISO 8601 string. It is formatted once per millisecond, because Date#toISOString took
 * about 0.9 µs per call in a micro-benchmark on Node 20.
 */
function isoNow(): string {
  const now = Date.now();
  if (now !== receivedAtMs) {
    receivedAtMs = now;
    receivedAtText = new Date(now).toISOString();
  }
  return receivedAtText;
}

export function createRepliersWebhookHandler(options: WebhookRouteOptions): WebhookHandler {
  const { secrets, intake, responder, logger, secretHeaders, bodyLimitBytes } = options;

  async function handshake(req: IncomingMessage, res: ServerResponse, event: string, secret: SecretHeader | null): Promise<void> {
    if (secret === null) {
      responder.reject(req, res, source, 400, 'empty_body', 'The body is empty; a delivery must carry a JSON body.');
      return;
    }
    let result;
    try {
      result = await secrets.handshake(event, secret.value);
    } catch (error) {
      logger.error({ event, err: error }, 'webhook handshake failed');
      responder.unavailable(req, res, source, 'handshake_unavailable', 'The subscription store is unavailable; retry later.');
      return;
    }
    if (result === 'accepted' || result === 'rotated' || result === 'already-subscribed') {
      responder.handshake(res, source, secret.header, secret.value as string, result);
      return;
    }
    const rejection = handshakeRejections[result];
    responder.reject(req, res, source, 401, rejection.reason, '', { hint: rejection.hint(event) });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, event: string): Promise<void> {
    const startedAt = performance.now();
    if (!isRepliersEvent(event)) {
      responder.reject(req, res, source, 404, 'unknown_event', `"${event}" is not a Repliers event; use the path of a subscribed event.`);
      return;
    }
    const secret = findSecretHeader(req.headers, secretHeaders);

    let body: Buffer;
    try {
      body = withoutBom(await readRequestBody(req, bodyLimitBytes));
    } catch (error) {
      if (error instanceof RequestAbortedError) {
        responder.reject(req, res, source, 499, 'client_aborted', error.message);
        return;
      }
      if (!(error instanceof RequestBodyError)) throw error;
      responder.reject(req, res, source, error.status, error.reason, error.message, { closeConnection: true });
      return;
    }

    if (body.length === 0) {
      await handshake(req, res, event, secret);
      return;
    }

    let match = secrets.matchInMemory(event, secret?.value);
    if (match === undefined) {
      try {
        match = await secrets.match(event, secret?.value);
      } catch (error) {
        logger.error({ event, err: error }, 'webhook secret lookup failed');
        responder.unavailable(req, res, source, 'secret_store_unavailable', 'The subscription store is unavailable; retry later.');
        return;
      }
    }
    if (match === null) {
      responder.reject(req, res, source, 401, secret === null ? 'missing_secret' : 'bad_secret', '');
      return;
    }

    let text: string;
    try {
      assertJsonMediaType(req.headers['content-type']);
      const parsed = parseJsonBody(body);
      text = parsed.text;
      const read = readWebhookBody(parsed.value);
      if (read.hookEvent !== null && read.hookEvent !== event) {
        responder.reject(req, res, source, 400, 'event_mismatch', `hook.event is "${read.hookEvent}" but this path receives "${event}".`);
        return;
      }
    } catch (error) {
      if (error instanceof RequestBodyError) {
        responder.reject(req, res, source, error.status, error.reason, error.message);
        return;
      }
      if (!(error instanceof WebhookBodyError)) throw error;
      responder.reject(req, res, source, 400, 'invalid_body', `The body is not a Repliers webhook: ${error.message}.`);
      return;
    }

    const eventId = eventIdFor(event, body);
    const data: EventJobData = {
      event,
      source,
      path: `/webhooks/repliers/${event}`,
      receivedAt: isoNow(),
      body: text,
    };
    if (!(await intake.enqueue(eventId, data))) {
      responder.unavailable(req, res, source, 'enqueue_failed', 'The event queue is unavailable; retry later.');
      return;
    }
    if (match === 'previous') logger.debug({ event, eventId }, 'delivery verified with the secret a rotation replaced');
    responder.accept(res, source, eventId, startedAt);
  }

  return async (req, res, event) => {
    try {
      await handle(req, res, event);
    } catch (error) {
      logger.error({ path: req.url, err: error }, 'webhook handler failed');
      responder.reject(req, res, source, 500, 'internal_error', 'Internal error.');
    }
  };
}
