/**
 * Routing of webhook requests. The server hands every request to {@link dispatchWebhook} first: a webhook POST goes
 * straight to its handler on the Node request and response, and anything else to the Express app. Express's
 * per-request setup costs more than verifying and enqueueing a webhook, so the hot path skips it. The same handlers
 * are also mounted on an Express router, so the Express app alone serves webhooks the same way.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Router } from 'express';
import type { WebhookHandler } from './webhook-route.js';

export interface WebhookHandlers {
  /** `POST /webhooks/repliers/<event>` */
  repliers: WebhookHandler;
  /** `POST /webhooks/sources/<sourceId>` */
  sources: WebhookHandler;
}

const repliersPrefix = '/webhooks/repliers/';
const sourcesPrefix = '/webhooks/sources/';

/**
 * Starts handling `req` and returns true when it is a webhook POST with a plain path; returns false, touching
 * nothing, for any other request. Paths this does not recognise still reach the Express router below.
 */
export function dispatchWebhook(handlers: WebhookHandlers, req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '';
  let handler: WebhookHandler;
  let start: number;
  if (url.startsWith(repliersPrefix)) {
    handler = handlers.repliers;
    start = repliersPrefix.length;
  } else if (url.startsWith(sourcesPrefix)) {
    handler = handlers.sources;
    start = sourcesPrefix.length;
  } else {
    return false;
  }

  const queryAt = url.indexOf('?', start);
  const segment = queryAt === -1 ? url.slice(start) : url.slice(start, queryAt);
  if (segment.length === 0 || segment.includes('/')) return false;
  let name = segment;
  if (segment.includes('%')) {
    try {
      name = decodeURIComponent(segment);
    } catch {
      return false;
    }
  }
  void handler(req, res, name);
  return true;
}

/** Mounts the webhook handlers on an Express router, for requests that reach the Express app. */
export function createWebhookRouter(handlers: WebhookHandlers): Router {
  const router = express.Router();
  router.post('/webhooks/repliers/:event', (req, res) => {
    void handlers.repliers(req, res, String(req.params.event));
  });
  router.post('/webhooks/sources/:sourceId', (req, res) => {
    void handlers.sources(req, res, String(req.params.sourceId));
  });
  return router;
}
