/**
 * Everything the API role serves besides the ingress: request ids and request logs on every request, queue metrics
 * and the delivery failure alert. When HUB_ADMIN_TOKEN is set, it also serves the admin page (`/admin/`), its
 * login, the admin API (`/admin/api`) and Bull Board (`/admin/queues`). Without the token, paths under /admin
 * respond 404 with how to turn them on.
 */
import path from 'node:path';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import { createAlerter } from '../../connectors/alerts.js';
import type { Connector } from '../../connectors/connector.js';
import { startFailureAlerts, type FailureAlerts } from '../alerts/failure-alerts.js';
import type { Settings } from '../config/settings.js';
import { withRequestLogging, type RequestListener } from '../http/request-logger.js';
import type { Logger } from '../logger.js';
import { watchQueues } from '../metrics/queue-metrics.js';
import type { Store } from '../mirror/store.js';
import { packageRoot } from '../paths.js';
import { deliveryQueueName, type EventJobData } from '../queue/queues.js';
import type { RuleSet } from '../rules/rule.js';
import { createAdminApiRouter } from './admin-api.js';
import { loginHandler, logoutHandler, requireAdmin } from './admin-auth.js';
import type { AdminContext } from './admin-context.js';

export interface AdminSurfaceOptions {
  settings: Readonly<Settings>;
  logger: Logger;
  store: Store;
  /** The producer connection; the admin queues share it. */
  redis: Redis;
  eventsQueue: Queue<EventJobData>;
  connectors: ReadonlyMap<string, Connector>;
  ruleSet: () => RuleSet;
}

export interface AdminSurface {
  /** Returns the server's request listener: admin paths go to the admin app, everything else to `ingress`. */
  wrap(ingress: RequestListener): RequestListener;
  /** Stops the alert timer and the queue metrics, and closes the admin's queue handles. */
  close(): Promise<void>;
}

/** Folder of the admin page's static files, found from the package root so it works from src/ and dist/ alike. */
export function adminPageFolder(): string {
  return path.join(packageRoot(), 'src', 'admin', 'page');
}

/** Content-Security-Policy of the admin page: its own files only, nothing inline, no framing. */
const pagePolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function isAdminPath(url: string | undefined): boolean {
  const pathname = (url ?? '/').split('?')[0]!;
  return pathname === '/admin' || pathname.startsWith('/admin/');
}

function createDisabledApp(): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res) => {
    res.status(404).json({
      error: 'The admin surface is off. Set HUB_ADMIN_TOKEN to a random value of at least 24 characters (openssl rand -hex 32) and restart the hub.',
      code: 'ADMIN_DISABLED',
    });
  });
  return app;
}

function createAdminApp(context: AdminContext, token: string, queues: readonly Queue[]): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.post('/admin/login', express.json({ limit: '10kb' }), express.urlencoded({ extended: false, limit: '10kb' }), loginHandler(token));
  app.post('/admin/logout', logoutHandler());

  const board = new ExpressAdapter();
  board.setBasePath('/admin/queues');
  // @bull-board/express brings its own copy of @bull-board/api one patch version apart, whose adapter type differs
  // only in private members, so the types are bridged here.
  const serverAdapter = board as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'];
  createBullBoard({ queues: queues.map((queue) => new BullMQAdapter(queue)), serverAdapter });
  app.use('/admin/queues', requireAdmin(token, { acceptCookie: true }), board.getRouter() as express.Router);

  app.use(createAdminApiRouter(context, token));

  // Express matches '/admin' and '/admin/' alike, so the bare path is recognised by the original URL.
  app.get('/admin', (req, res, next) => {
    if (req.originalUrl.split('?')[0] === '/admin') res.redirect(301, '/admin/');
    else next();
  });
  app.use(
    '/admin',
    (_req: Request, res: Response, next: NextFunction) => {
      res.setHeader('Content-Security-Policy', pagePolicy);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Referrer-Policy', 'no-referrer');
      next();
    },
    express.static(adminPageFolder(), { index: 'index.html', fallthrough: true }),
  );
  app.use((_req, res) => {
    res.status(404).json({ error: 'No admin page or route at this path; the admin page is at /admin/.', code: 'ADMIN_ROUTE_NOT_FOUND' });
  });
  return app;
}

/** Creates the admin surface of one hub process. */
export function createAdminSurface(options: AdminSurfaceOptions): AdminSurface {
  const { settings, logger } = options;
  const deliveryQueues = new Map<string, Queue>();
  for (const name of options.connectors.keys()) {
    const queue = new Queue(deliveryQueueName(name), { connection: options.redis, prefix: settings.queuePrefix });
    // The shared connection reports each failed reconnect; one line per new message is enough.
    let lastMessage = '';
    queue.on('error', (error) => {
      if (error.message === lastMessage) return;
      lastMessage = error.message;
      logger.error({ queue: queue.name, err: error }, 'admin queue error');
    });
    deliveryQueues.set(name, queue);
  }
  const queues = [options.eventsQueue, ...deliveryQueues.values()];
  const unwatch = watchQueues(queues);

  const alerter = createAlerter(
    {
      ...settings.alerts,
      slackToken: settings.slackToken,
      slackApiUrl: settings.slackApiUrl,
      smtpUrl: settings.smtpUrl,
      mailFrom: settings.mailFrom,
      outboxDir: settings.outboxDir,
    },
    options.redis,
    settings.queuePrefix,
    logger,
  );
  const failureAlerts: FailureAlerts = startFailureAlerts({
    store: options.store,
    alerter,
    connectors: [...options.connectors.keys()],
    threshold: settings.alerts.failureThreshold,
    windowSeconds: settings.alerts.failureWindowSeconds,
    intervalSeconds: settings.alerts.intervalSeconds,
    logger,
  });

  const context: AdminContext = {
    store: options.store,
    eventsQueue: options.eventsQueue,
    deliveryQueues,
    connectors: options.connectors,
    ruleSet: options.ruleSet,
    viewOptions: { imageBaseUrl: settings.repliersImageUrl, listingUrlTemplate: settings.listingUrlTemplate },
    logger,
  };
  const admin = settings.adminToken ? createAdminApp(context, settings.adminToken, queues) : createDisabledApp();
  if (settings.adminToken) logger.info({ page: '/admin/', api: '/admin/api', queues: '/admin/queues' }, 'admin surface on');
  else logger.warn('admin surface off: set HUB_ADMIN_TOKEN (24 or more characters) to turn on /admin/, /admin/api and /admin/queues');

  return {
    wrap(ingress) {
      return withRequestLogging((req, res) => (isAdminPath(req.url) ? admin(req, res) : ingress(req, res)), logger);
    },
    async close() {
      failureAlerts.stop();
      unwatch();
      await Promise.all([...deliveryQueues.values()].map((queue) => queue.close()));
    },
  };
}
