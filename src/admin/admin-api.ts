/**
 * The admin API router under `/admin/api`, described by `openapi.ts`. Every route needs the admin bearer token.
 * Handlers validate their input, call the admin services and respond with JSON. An error a caller can fix is a 4xx
 * with a stable `code` and a message that names the field.
 */
import express, { type ErrorRequestHandler, type Request, type Response, type Router } from 'express';
import { connectorNames } from '../../connectors/registry.js';
import type { DeliveryStatus, EventOutcome } from '../mirror/records.js';
import type { EventSubject } from '../mirror/store.js';
import { WebhookBodyError } from '../repliers/webhook-body.js';
import { requestLog } from '../http/request-logger.js';
import { oldestWaitingAgeSeconds } from '../metrics/queue-metrics.js';
import { parseTimeInput, timeInputForms } from '../time-input.js';
import type { AdminContext } from './admin-context.js';
import { requireAdmin } from './admin-auth.js';
import { maxBulkRetry, retryDeliveries, retryDelivery, RetryError } from './delivery-retry.js';
import { CursorError, decodeCursor, eventDetail, listEventPage, withJobInfo } from './event-log.js';
import { adminOpenApi } from './openapi.js';
import { replayEvent, ReplayError } from './replay.js';
import { previewRules } from './rule-preview.js';

/** Largest JSON body the admin API reads: a pasted payload for the rule tester. */
const bodyLimit = '2mb';

const eventOutcomes: readonly EventOutcome[] = ['received', 'routed', 'ignored', 'failed'];
const deliveryStatuses: readonly DeliveryStatus[] = ['pending', 'sending', 'sent', 'failed', 'skipped'];

/** Invalid input that the caller can correct, sent back as a 400 response naming the field. */
class InputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

type Handler = (req: Request, res: Response) => Promise<void>;

function queryText(req: Request, name: string, maxLength = 200): string | undefined {
  const value = (req.query as Record<string, unknown>)[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new InputError(name, `${name} must be given once, as text`);
  if (value.length > maxLength) throw new InputError(name, `${name} must be at most ${maxLength} characters`);
  return value;
}

function oneOfValues<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new InputError(name, `${name} must be one of ${allowed.join(', ')}; got "${value}"`);
  return value as T;
}

function timeOf(name: string, value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  const time = typeof value === 'string' ? parseTimeInput(value) : null;
  if (time === null) {
    // A `+` of a time zone offset arrives as a space unless the query string encodes it.
    const plus = typeof value === 'string' && / \d{2}:?\d{2}$/.test(value) ? '; write the + of a time zone offset as %2B' : '';
    throw new InputError(name, `${name} must be ${timeInputForms}${plus}`);
  }
  return time;
}

function limitOf(name: string, value: unknown, fallback: number, maximum: number): number {
  if (value === undefined || value === '') return fallback;
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(number) || number < 1 || number > maximum) throw new InputError(name, `${name} must be an integer from 1 to ${maximum}`);
  return number;
}

function bodyObject(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new InputError('body', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function onlyFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const field of Object.keys(body)) {
    if (!allowed.includes(field)) throw new InputError(field, `unknown field "${field}"; the body may have ${allowed.join(', ')}`);
  }
}

function bodyText(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > 200) {
    throw new InputError(name, `${name} must be text of 1 to 200 characters`);
  }
  return value;
}

function sendError(res: Response, status: number, code: string, error: string, field?: string): void {
  res.status(status).json(field === undefined ? { error, code } : { error, code, field });
}

/** Wraps a handler so that input errors become 400 and anything unexpected a logged 500. */
function handle(context: AdminContext, handler: Handler) {
  return async (req: Request, res: Response): Promise<void> => {
    try {
      await handler(req, res);
    } catch (error) {
      if (error instanceof InputError) {
        sendError(res, 400, 'INVALID_INPUT', error.message, error.field);
        return;
      }
      requestLog(req, context.logger).error({ path: req.path, err: error }, 'admin request failed');
      if (!res.headersSent) sendError(res, 500, 'ADMIN_INTERNAL', 'The hub failed to handle the request; its log has the details under this x-request-id.');
    }
  };
}

async function status(context: AdminContext, _req: Request, res: Response): Promise<void> {
  const queues = [context.eventsQueue, ...context.deliveryQueues.values()];
  const ruleSet = context.ruleSet();
  res.json({
    queues: await Promise.all(
      queues.map(async (queue) => ({
        name: queue.name,
        paused: await queue.isPaused(),
        counts: await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'),
        oldestWaitingSeconds: await oldestWaitingAgeSeconds(queue),
      })),
    ),
    connectors: [...context.connectors.values()].map((connector) => ({ name: connector.name, mode: connector.mode })),
    rules: { version: ruleSet.version, total: ruleSet.rules.length, enabled: ruleSet.rules.filter((rule) => !rule.disabled).length },
  });
}

async function listEvents(context: AdminContext, req: Request, res: Response): Promise<void> {
  const subjects: EventSubject[] = [];
  for (const kind of ['mlsNumber', 'clientId', 'agentId'] as const) {
    const value = queryText(req, kind);
    if (value !== undefined) subjects.push({ kind, value });
  }
  const cursor = queryText(req, 'cursor', 1000);
  let after: { receivedAt: string; eventId: string } | undefined;
  try {
    after = cursor === undefined ? undefined : decodeCursor(cursor);
  } catch (error) {
    if (error instanceof CursorError) throw new InputError('cursor', error.message);
    throw error;
  }

  res.json(
    await listEventPage(context, {
      event: queryText(req, 'type'),
      outcome: oneOfValues('outcome', queryText(req, 'outcome'), eventOutcomes),
      subjects,
      since: timeOf('since', queryText(req, 'since')),
      until: timeOf('until', queryText(req, 'until')),
      after,
      limit: limitOf('limit', queryText(req, 'limit'), 50, 500),
    }),
  );
}

async function getEvent(context: AdminContext, req: Request, res: Response): Promise<void> {
  const detail = await eventDetail(context, String(req.params.eventId));
  if (!detail) {
    sendError(res, 404, 'EVENT_NOT_FOUND', `no recorded event has the id ${String(req.params.eventId)}`);
    return;
  }
  res.json(detail);
}

async function replay(context: AdminContext, req: Request, res: Response): Promise<void> {
  const body = bodyObject(req);
  onlyFields(body, ['force']);
  if (body.force !== undefined && typeof body.force !== 'boolean') throw new InputError('force', 'force must be true or false');
  const eventId = String(req.params.eventId);
  try {
    const result = await replayEvent(context.store, context.eventsQueue, eventId, body.force === true);
    requestLog(req, context.logger).info({ eventId, force: body.force === true, jobId: result.jobId }, 'event replay queued');
    res.status(202).json(result);
  } catch (error) {
    if (!(error instanceof ReplayError)) throw error;
    sendError(res, 404, error.code, error.message);
  }
}

async function listDeliveries(context: AdminContext, req: Request, res: Response): Promise<void> {
  const records = await context.store.searchDeliveries({
    status: oneOfValues('status', queryText(req, 'status'), deliveryStatuses),
    connector: oneOfValues('connector', queryText(req, 'connector'), connectorNames),
    ruleId: queryText(req, 'ruleId'),
    eventId: queryText(req, 'eventId'),
    since: timeOf('since', queryText(req, 'since')),
    until: timeOf('until', queryText(req, 'until')),
    limit: limitOf('limit', queryText(req, 'limit'), 50, 500),
  });
  res.json({ deliveries: await withJobInfo(context, records) });
}

async function getDelivery(context: AdminContext, req: Request, res: Response): Promise<void> {
  const record = await context.store.getDelivery(String(req.params.key));
  if (!record) {
    sendError(res, 404, 'DELIVERY_NOT_FOUND', `no delivery has the key ${String(req.params.key)}`);
    return;
  }
  const [detail] = await withJobInfo(context, [record]);
  res.json(detail);
}

async function retryOne(context: AdminContext, req: Request, res: Response): Promise<void> {
  try {
    res.status(202).json(await retryDelivery(context, String(req.params.key)));
  } catch (error) {
    if (!(error instanceof RetryError)) throw error;
    sendError(res, error.code === 'DELIVERY_NOT_FOUND' ? 404 : 409, error.code, error.message);
  }
}

async function retryMany(context: AdminContext, req: Request, res: Response): Promise<void> {
  const body = bodyObject(req);
  onlyFields(body, ['connector', 'ruleId', 'eventId', 'since', 'until', 'limit']);
  res.json(
    await retryDeliveries(context, {
      connector: oneOfValues('connector', bodyText(body, 'connector'), connectorNames),
      ruleId: bodyText(body, 'ruleId'),
      eventId: bodyText(body, 'eventId'),
      since: timeOf('since', body.since),
      until: timeOf('until', body.until),
      limit: limitOf('limit', body.limit, 100, maxBulkRetry),
    }),
  );
}

async function listRules(context: AdminContext, _req: Request, res: Response): Promise<void> {
  const ruleSet = context.ruleSet();
  res.json({
    version: ruleSet.version,
    rules: ruleSet.rules.map(({ id, description, events, when, actions, disabled, file }) => ({ id, description, events, when, actions, disabled, file })),
  });
}

async function preview(context: AdminContext, req: Request, res: Response): Promise<void> {
  const body = bodyObject(req);
  let input: Parameters<typeof previewRules>[1];
  if (body.eventId !== undefined) {
    onlyFields(body, ['eventId']);
    const eventId = bodyText(body, 'eventId')!;
    const event = await context.store.getEvent(eventId);
    if (!event) {
      sendError(res, 404, 'EVENT_NOT_FOUND', `no recorded event has the id ${eventId}`);
      return;
    }
    input = { eventType: event.event, payload: JSON.parse(event.payload) as unknown, eventId, receivedAt: event.receivedAt };
  } else {
    onlyFields(body, ['event', 'payload']);
    const eventType = bodyText(body, 'event');
    if (eventType === undefined) throw new InputError('event', 'give either eventId, or event (such as listing.updated) and payload');
    if (body.payload === undefined) throw new InputError('payload', 'payload is missing; paste a Repliers webhook body');
    input = { eventType, payload: body.payload };
  }

  try {
    res.json(await previewRules(context, input));
  } catch (error) {
    if (!(error instanceof WebhookBodyError)) throw error;
    throw new InputError('payload', `the payload is not a Repliers webhook body: ${error.message}`);
  }
}

/** Creates the admin API router; `token` is the HUB_ADMIN_TOKEN. */
export function createAdminApiRouter(context: AdminContext, token: string): Router {
  const router = express.Router();
  router.use('/admin/api', requireAdmin(token, { acceptCookie: false }));
  router.use('/admin/api', express.json({ limit: bodyLimit }));

  const route = (handler: (context: AdminContext, req: Request, res: Response) => Promise<void>) =>
    handle(context, (req, res) => handler(context, req, res));

  router.get('/admin/api/openapi.json', (_req, res) => {
    res.json(adminOpenApi);
  });
  router.get('/admin/api/status', route(status));
  router.get('/admin/api/events', route(listEvents));
  router.get('/admin/api/events/:eventId', route(getEvent));
  router.post('/admin/api/events/:eventId/replay', route(replay));
  router.get('/admin/api/deliveries', route(listDeliveries));
  router.post('/admin/api/deliveries/retry', route(retryMany));
  router.get('/admin/api/deliveries/:key', route(getDelivery));
  router.post('/admin/api/deliveries/:key/retry', route(retryOne));
  router.get('/admin/api/rules', route(listRules));
  router.post('/admin/api/rules/preview', route(preview));

  router.use('/admin/api', (req, res) => {
    sendError(res, 404, 'ADMIN_ROUTE_NOT_FOUND', `no admin route for ${req.method} ${req.originalUrl.split('?')[0]}; see /admin/api/openapi.json`);
  });
  // Errors of express.json: a body that is not JSON (400) or larger than the limit (413).
  router.use('/admin/api', ((error, req, res, _next) => {
    const status = typeof error?.status === 'number' && error.status >= 400 && error.status < 500 ? (error.status as number) : 500;
    if (status === 500) requestLog(req, context.logger).error({ path: req.path, err: error }, 'admin request failed');
    const message = status === 413 ? `the body is larger than ${bodyLimit}` : status === 500 ? 'the hub failed to read the request' : 'the body is not valid JSON';
    sendError(res, status, status === 500 ? 'ADMIN_INTERNAL' : 'INVALID_BODY', message, status === 500 ? undefined : 'body');
  }) as ErrorRequestHandler);
  return router;
}
