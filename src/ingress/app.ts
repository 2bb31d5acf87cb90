/** The Express application of the API role: webhooks, health and readiness. */
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { Store } from '../mirror/store.js';
import type { EventJobData } from '../queue/queues.js';
import type { HookSecrets } from './hook-secrets.js';
import { createWebhookRouter, type IngressCounters } from './webhook-route.js';

export interface IngressOptions {
  queue: Queue<EventJobData>;
  redis: Redis;
  store: Store;
  secrets: HookSecrets;
  logger: Logger;
  secretHeader: string;
  bodyLimitBytes: number;
  dedupeWindowSeconds: number;
  enqueueTimeoutMs: number;
}

export function createIngressApp(options: IngressOptions): { app: Express; counters: IngressCounters } {
  const counters: IngressCounters = new Map();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const checks = await Promise.allSettled([
      Promise.race([
        options.redis.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 1000)),
      ]),
      options.store.ping(),
    ]);
    const [redis, store] = checks.map((check) => (check.status === 'fulfilled' ? 'ok' : 'unavailable'));
    const ready = redis === 'ok' && store === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', redis, store });
  });

  app.use(createWebhookRouter(options, counters));

  const handleError: ErrorRequestHandler = (error, req, res, _next) => {
    const status = typeof error?.status === 'number' ? error.status : 500;
    if (status === 413) {
      counters.set('body_too_large', (counters.get('body_too_large') ?? 0) + 1);
      options.logger.info({ path: req.path, status, reason: 'body_too_large' }, 'webhook rejected');
      res.status(413).json({ error: `The body is larger than the limit of ${options.bodyLimitBytes} bytes.` });
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

  return { app, counters };
}
