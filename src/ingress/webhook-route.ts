/**
 * `POST /webhooks/repliers/<event>`: the hub's front door. It verifies, parses and enqueues, and nothing more:
 * the mirror, the rules and the connectors run in workers. It answers 202 only after BullMQ has the job.
 */
import { createHash } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { Queue } from 'bullmq';
import type { Logger } from '../logger.js';
import { eventJobOptions, type EventJobData } from '../queue/queues.js';
import { isRepliersEvent } from '../repliers/events.js';
import { readWebhookBody, WebhookBodyError } from '../repliers/webhook-body.js';
import type { HookSecrets } from './hook-secrets.js';

export interface WebhookRouteOptions {
  queue: Queue<EventJobData>;
  secrets: HookSecrets;
  logger: Logger;
  secretHeader: string;
  bodyLimitBytes: number;
  dedupeWindowSeconds: number;
  enqueueTimeoutMs: number;
}

/** Counts of answers by reason, read by tests and later by the metrics endpoint. */
export type IngressCounters = Map<string, number>;

const jsonMediaType = /^application\/([\w.+-]+\+)?json$/i;

/**
 * The event id, and so the BullMQ job id: a digest of the event name and the exact body. A repeated delivery of
 * the same body within the dedupe window maps to the job already queued; any real change alters the body.
 */
export function eventIdFor(event: string, body: Buffer): string {
  return createHash('sha256').update(event).update('\n').update(body).digest('hex');
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`enqueue timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createWebhookRouter(options: WebhookRouteOptions, counters: IngressCounters): Router {
  const { queue, secrets, logger, secretHeader } = options;
  const router = express.Router();
  const jobOptions = eventJobOptions(options.dedupeWindowSeconds);

  const refuse = (req: Request, res: Response, status: number, reason: string, message: string): void => {
    counters.set(reason, (counters.get(reason) ?? 0) + 1);
    logger.info({ requestId: req.get('x-request-id'), path: req.path, status, reason }, 'webhook rejected');
    res.status(status).json({ error: message });
  };

  router.post(
    '/webhooks/repliers/:event',
    express.raw({ type: () => true, limit: options.bodyLimitBytes }),
    async (req: Request, res: Response) => {
      const event = String(req.params.event);
      if (!isRepliersEvent(event)) {
        refuse(req, res, 404, 'unknown_event', `"${event}" is not a Repliers event; use the path of a subscribed event.`);
        return;
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const given = req.headers[secretHeader];

      if (body.length === 0) {
        const result = await secrets.handshake(event, given);
        if (result === 'accepted' || result === 'already-subscribed') {
          counters.set('handshake', (counters.get('handshake') ?? 0) + 1);
          logger.info({ event, result }, 'webhook handshake answered');
          res.setHeader(secretHeader, given as string);
          res.status(200).end();
          return;
        }
        if (result === 'not-expected' && given !== undefined) {
          refuse(req, res, 401, 'handshake_not_expected', 'No subscription is expected on this path.');
          return;
        }
        refuse(req, res, 400, 'empty_body', 'The body is empty; a delivery must carry a JSON body.');
        return;
      }

      if (!(await secrets.verify(event, given))) {
        refuse(req, res, 401, 'bad_secret', 'Unauthorized.');
        return;
      }

      const mediaType = (req.get('content-type') ?? '').split(';')[0]!.trim();
      if (!jsonMediaType.test(mediaType)) {
        refuse(req, res, 415, 'unsupported_media_type', `Content-Type must be application/json; got "${mediaType || 'none'}".`);
        return;
      }

      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (error) {
        refuse(req, res, 400, 'invalid_json', `The body is not valid JSON: ${(error as Error).message}.`);
        return;
      }
      try {
        const read = readWebhookBody(parsed);
        if (read.hookEvent !== null && read.hookEvent !== event) {
          refuse(req, res, 400, 'event_mismatch', `hook.event is "${read.hookEvent}" but this path receives "${event}".`);
          return;
        }
      } catch (error) {
        if (!(error instanceof WebhookBodyError)) throw error;
        refuse(req, res, 400, 'invalid_body', `The body is not a Repliers webhook: ${error.message}.`);
        return;
      }

      const eventId = eventIdFor(event, body);
      const data: EventJobData = {
        event,
        source: 'repliers',
        path: req.path,
        receivedAt: new Date().toISOString(),
        body: body.toString('utf8'),
      };
      try {
        await withTimeout(queue.add(event, data, { ...jobOptions, jobId: eventId }), options.enqueueTimeoutMs);
      } catch (error) {
        counters.set('enqueue_failed', (counters.get('enqueue_failed') ?? 0) + 1);
        logger.error({ event, eventId, err: error }, 'webhook enqueue failed');
        res.setHeader('Retry-After', '5');
        res.status(503).json({ error: 'The event queue is unavailable; retry later.' });
        return;
      }

      counters.set('accepted', (counters.get('accepted') ?? 0) + 1);
      res.status(202).json({ eventId });
    },
  );

  return router;
}
