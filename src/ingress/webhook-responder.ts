/**
 * Responses of the webhook routes: JSON bodies written straight to the Node response, each response counted, and
 * each rejection logged with its reason. Every 401 has the same body, so a sender learns nothing about why it
 * failed. The reason goes to the log and the metrics only.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import type { IngressMetrics } from '../metrics/ingress-metrics.js';

export const unauthorizedMessage = 'Unauthorized.';

/** Writes `json` (already serialised) with `status`. */
export function sendJson(res: ServerResponse, status: number, json: string, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

/** Responds, counts and logs on behalf of the webhook routes. */
export class WebhookResponder {
  constructor(
    private readonly logger: Logger,
    private readonly metrics: IngressMetrics,
  ) {}

  /**
   * Rejects a request: counts `reason`, logs it and responds `{ "error": message }`, with the generic message for
   * a 401. `closeConnection` sends `Connection: close`, for a body that was not read to the end. `hint` goes to the
   * log line only, for an admin: a 401 must not tell the sender why.
   */
  reject(
    req: IncomingMessage,
    res: ServerResponse,
    source: string,
    status: number,
    reason: string,
    message: string,
    options: { closeConnection?: boolean; hint?: string } = {},
  ): void {
    this.metrics.count(source, reason, status);
    const hint = options.hint === undefined ? {} : { hint: options.hint };
    this.logger.info({ requestId: req.headers['x-request-id'], path: req.url, source, status, reason, ...hint }, 'webhook rejected');
    if (res.headersSent || res.destroyed) return;
    const body = JSON.stringify({ error: status === 401 ? unauthorizedMessage : message });
    sendJson(res, status, body, options.closeConnection ? { connection: 'close' } : {});
  }

  /** Responds 202 with the event id, once the event is in Redis. `startedAt` is from `performance.now()`. */
  accept(res: ServerResponse, source: string, eventId: string, startedAt: number): void {
    sendJson(res, 202, `{"eventId":"${eventId}"}`);
    this.metrics.accepted(source, (performance.now() - startedAt) / 1000);
  }

  /** Responds 503 with Retry-After when Redis or the store cannot take the event, so the sender retries later. */
  unavailable(req: IncomingMessage, res: ServerResponse, source: string, reason: string, message: string): void {
    this.metrics.count(source, reason, 503);
    this.logger.warn({ requestId: req.headers['x-request-id'], path: req.url, source, reason }, 'webhook not taken');
    if (res.headersSent || res.destroyed) return;
    sendJson(res, 503, JSON.stringify({ error: message }), { 'retry-after': '5' });
  }

  /** Responds 200 to a subscription handshake, echoing the secret in the header it came in. */
  handshake(res: ServerResponse, source: string, header: string, secret: string, result: string): void {
    this.metrics.count(source, 'handshake', 200);
    this.logger.info({ source, path: res.req?.url, result }, 'webhook handshake accepted');
    res.writeHead(200, { [header]: secret, 'content-length': 0 });
    res.end();
  }
}
