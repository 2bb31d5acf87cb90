/**
 * Liveness, readiness and Prometheus metrics: `/healthz`, `/readyz` and `/metrics`. API processes serve them on PORT
 * beside the webhooks; worker processes serve them on METRICS_PORT when it is set (`startProbeServer`).
 */
import type { Server } from 'node:http';
import express, { type Router } from 'express';
import type { Redis } from 'ioredis';
import type { Store } from '../mirror/store.js';
import { metricsRegistry } from '../metrics/registry.js';
import { startIngressServer } from '../ingress/ingress-server.js';

/** How long `/readyz` waits for Redis to respond to a PING before it reports Redis unavailable, in milliseconds. */
const redisPingTimeoutMs = 1000;

export function createProbeRouter(redis: Redis, store: Store): Router {
  const router = express.Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const checks = await Promise.allSettled([
      Promise.race([
        redis.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), redisPingTimeoutMs)),
      ]),
      store.ping(),
    ]);
    const [redisState, storeState] = checks.map((check) => (check.status === 'fulfilled' ? 'ok' : 'unavailable'));
    const ready = redisState === 'ok' && storeState === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', redis: redisState, store: storeState });
  });

  router.get('/metrics', async (_req, res) => {
    res.type(metricsRegistry.contentType).send(await metricsRegistry.metrics());
  });

  return router;
}

/** Starts a server of the probe routes alone on `host:port`, for processes without the API. */
export function startProbeServer(redis: Redis, store: Store, port: number, host: string): Promise<Server> {
  const app = express();
  app.disable('x-powered-by');
  app.use(createProbeRouter(redis, store));
  app.use((_req, res) => {
    res.status(404).json({ error: 'Not found. This port serves /healthz, /readyz and /metrics.' });
  });
  return startIngressServer(app, port, host);
}
