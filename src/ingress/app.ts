/** The Express application of the API role: webhooks, health, readiness and metrics. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { Store } from '../mirror/store.js';
import type { EventJobData } from '../queue/queues.js';
import { createProbeRouter } from '../http/probes.js';
import { createUnsubscribeRouter } from '../unsubscribe/unsubscribe-router.js';
import { IngressMetrics, type IngressCounters } from '../metrics/ingress-metrics.js';
import { defaultEventQueueLimits, type EventQueueLimits } from '../queue/queues.js';
import { createSourceWebhookHandler } from '../sources/source-route.js';
import type { SourceRegistry } from '../sources/sources-file.js';
import { EventIntake } from './event-intake.js';
import type { HookSecrets } from './hook-secrets.js';
import { WebhookResponder } from './webhook-responder.js';
import { createWebhookRouter, dispatchWebhook, type WebhookHandlers } from './webhook-dispatch.js';
import { createRepliersWebhookHandler } from './webhook-route.js';

export interface IngressOptions {
  queue: Queue<EventJobData>;
  redis: Redis;
  store: Store;
  secrets: HookSecrets;
  logger: Logger;
  secretHeader: string;
  /** Every header that may carry the hook secret, in the order they are read. Defaults to `[secretHeader]`. */
  secretHeaders?: readonly string[];
  bodyLimitBytes: number;
  dedupeWindowSeconds: number;
  enqueueTimeoutMs: number;
  /** How many finished jobs the events queue keeps. Defaults to 10,000 completed and 10,000 failed. */
  eventQueueLimits?: Pick<EventQueueLimits, 'keepCompleted' | 'keepFailed'>;
  /** Other webhook senders, from SOURCES_FILE. Defaults to none. */
  sources?: SourceRegistry;
  /** UNSUBSCRIBE_SECRET, which verifies unsubscribe links; absent or null turns the unsubscribe page off. */
  unsubscribeSecret?: string | null;
}

export interface IngressApp {
  app: Express;
  counters: IngressCounters;
  /**
   * The HTTP server's request listener: webhook POSTs go straight to their handlers, everything else to `app`.
   * Serve this rather than `app` for the fast path.
   */
  handleRequest: (req: IncomingMessage, res: ServerResponse) => void;
}

export function createIngressApp(options: IngressOptions): IngressApp {
  const metrics = new IngressMetrics();
  const counters = metrics.counters;
  const responder = new WebhookResponder(options.logger, metrics);
  const intake = new EventIntake({
    queue: options.queue,
    logger: options.logger,
    limits: { ...defaultEventQueueLimits, ...options.eventQueueLimits, dedupeWindowSeconds: options.dedupeWindowSeconds },
    enqueueTimeoutMs: options.enqueueTimeoutMs,
  });
  const webhooks: WebhookHandlers = {
    repliers: createRepliersWebhookHandler({
      secrets: options.secrets,
      intake,
      responder,
      logger: options.logger,
      secretHeaders: options.secretHeaders ?? [options.secretHeader],
      bodyLimitBytes: options.bodyLimitBytes,
    }),
    sources: createSourceWebhookHandler({
      sources: options.sources ?? new Map(),
      intake,
      responder,
      logger: options.logger,
      bodyLimitBytes: options.bodyLimitBytes,
    }),
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use(createProbeRouter(options.redis, options.store));

  app.use(createUnsubscribeRouter({ store: options.store, secret: options.unsubscribeSecret ?? null, logger: options.logger }));
  app.use(createWebhookRouter(webhooks));

  const handleError: ErrorRequestHandler = (error, req, res, _next) => {
    const status = typeof error?.status === 'number' ? error.status : 500;
    // Webhook routes read their own bodies and respond to their own errors, so only other routes get here.
    if (status === 413) {
      options.logger.info({ path: req.path, status, reason: 'body_too_large' }, 'request rejected');
      res.status(413).json({ error: 'The body is larger than this route accepts.' });
      return;
    }
    if (status >= 400 && status < 500) {
      options.logger.info({ path: req.path, status, err: error }, 'request rejected');
      res.status(status).json({ error: 'The request could not be read.' });
      return;
    }
    options.logger.error({ path: req.path, err: error }, 'request failed');
    res.status(500).json({ error: 'Internal error.' });
  };
  app.use(handleError);

  const handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (!dispatchWebhook(webhooks, req, res)) app(req, res);
  };
  return { app, counters, handleRequest };
}
