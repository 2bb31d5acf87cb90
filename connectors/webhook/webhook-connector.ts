/**
 * The webhook connector: POSTs the event and the rule's delivery as JSON, signed per Standard Webhooks, for CRMs the
 * hub does not speak natively. Rules sending to "clients" or "agents" POST to WEBHOOK_URL once per recipient. A rule
 * sending to `{ "channel": "<name>" }` POSTs once per event to the URL of that name in WEBHOOK_TARGETS. No URL comes
 * from Repliers data.
 *
 * Without WEBHOOK_URL and WEBHOOK_TARGETS, or without WEBHOOK_SECRET, each request is written to the outbox instead.
 *
 * Once in effect: `webhook-id` is the delivery key on every retry, so a receiver that drops repeated ids (as
 * Standard Webhooks asks receivers to) applies a delivery once even when the hub sends it again after a crash.
 */
import http from 'node:http';
import https from 'node:https';
import { ConnectorError, type Connector, type Delivery, type Preview, type SendReceipt } from '../connector.js';
import { listingLabel, personName } from '../format.js';
import { outboxFolderForDisplay, writeOutboxFile } from '../outbox.js';
import { allowListOf, BlockedAddressError, pinnedLookup, resolveChecked } from './address-guard.js';
import { retryAfterMs } from './retry-after.js';
import { signWebhook } from './signature.js';

export interface WebhookSettings {
  url: string | null;
  targets: Readonly<Record<string, string>>;
  secret: string | null;
  /** Addresses and CIDR ranges in blocked ranges that targets may still resolve to. */
  allowedAddresses: readonly string[];
  /** Maximum time for one request, connection included, in ms. Default 10,000. */
  timeoutMs?: number;
  outboxDir: string;
}

export const webhookTemplates = ['event'] as const;

const connectorName = 'webhook';

/** Largest part of a rejecting response body quoted in an error message, in characters. */
const quotedBodyLength = 200;

interface Target {
  url: URL;
  /** Name of the target in messages: WEBHOOK_URL, or the name in WEBHOOK_TARGETS. */
  label: string;
}

function targetOf(delivery: Delivery, settings: WebhookSettings): Target {
  const recipient = delivery.recipient;
  if (recipient.kind === 'channel') {
    const url = settings.targets[recipient.channel.replace(/^[#@]/, '')];
    if (!url) {
      throw new ConnectorError(
        connectorName,
        'permanent',
        'WEBHOOK_TARGET_UNKNOWN',
        `Rule ${delivery.ruleId} sends to webhook target "${recipient.channel}", which WEBHOOK_TARGETS does not name. Add ${recipient.channel.replace(/^[#@]/, '')}=https://… to WEBHOOK_TARGETS or change the rule.`,
      );
    }
    return { url: new URL(url), label: `WEBHOOK_TARGETS ${recipient.channel}` };
  }
  if (!settings.url) {
    throw new ConnectorError(
      connectorName,
      'permanent',
      'WEBHOOK_URL_MISSING',
      `Rule ${delivery.ruleId} sends webhooks to ${recipient.kind === 'client' ? 'clients' : 'agents'}, which go to WEBHOOK_URL, and WEBHOOK_URL is not set. Set it, or send the rule to a named target.`,
    );
  }
  return { url: new URL(settings.url), label: 'WEBHOOK_URL' };
}

/** Returns a one-line summary, for receivers that show a message as it is. */
function summary(delivery: Delivery): string {
  const label = listingLabel(delivery);
  const price = delivery.change?.price;
  const parts = [`${delivery.eventType}: ${label}`];
  if (price) parts.push(`price ${price.from} → ${price.to}`);
  if (delivery.client) parts.push(`client ${personName(delivery.client)}`);
  return parts.join(', ');
}

/** Builds the JSON body: `type`, `timestamp` and `data` as Standard Webhooks suggests, with the delivery in `data`. */
export function webhookBody(delivery: Delivery): string {
  return JSON.stringify({
    type: delivery.eventType,
    timestamp: delivery.receivedAt,
    data: {
      eventId: delivery.eventId,
      deliveryKey: delivery.key,
      ruleId: delivery.ruleId,
      ruleSetVersion: delivery.ruleSetVersion,
      template: delivery.action.template,
      summary: summary(delivery),
      recipient: delivery.recipient,
      listing: delivery.listing,
      change: delivery.change,
      favorite: delivery.favorite,
      client: delivery.client,
      agent: delivery.agent,
      favoriteCount: delivery.favoriteCount,
    },
  });
}

function checkTemplate(delivery: Delivery): void {
  if ((webhookTemplates as readonly string[]).includes(delivery.action.template)) return;
  throw new ConnectorError(
    connectorName,
    'permanent',
    'WEBHOOK_UNKNOWN_TEMPLATE',
    `Rule ${delivery.ruleId} names the webhook template "${delivery.action.template}", which does not exist. Use one of: ${webhookTemplates.join(', ')}.`,
  );
}

export function createWebhookConnector(settings: WebhookSettings): Connector {
  const configured = settings.url !== null || Object.keys(settings.targets).length > 0;
  return configured && settings.secret ? createLiveConnector(settings, settings.secret) : createOutboxConnector(settings, configured);
}

function createLiveConnector(settings: WebhookSettings, secret: string): Connector {
  const allowed = allowListOf(settings.allowedAddresses);
  const timeoutMs = settings.timeoutMs ?? 10_000;

  async function post(target: Target, headers: Record<string, string>, body: string, delivery: Delivery): Promise<{ status: number; text: string; retryAfter: number | null }> {
    let checked;
    try {
      checked = await resolveChecked(target.url.hostname, allowed);
    } catch (error) {
      if (error instanceof BlockedAddressError) {
        throw new ConnectorError(
          connectorName,
          'permanent',
          'WEBHOOK_ADDRESS_BLOCKED',
          `The ${target.label} host ${error.hostname} (rule ${delivery.ruleId}) resolves to ${error.address}, a loopback, private or link-local address, so the hub does not call it. Use a public URL, or add ${error.address} to WEBHOOK_ALLOWED_ADDRESSES if that network is meant.`,
          { cause: error },
        );
      }
      throw new ConnectorError(connectorName, 'temporary', 'WEBHOOK_UNREACHABLE', `The ${target.label} host ${target.url.hostname} could not be resolved: ${(error as Error).message}.`, { cause: error });
    }

    const client = target.url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = client.request(
        target.url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          lookup: pinnedLookup(checked),
          timeout: timeoutMs,
          agent: false,
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            // Only the start of the body is quoted in messages, so the rest is read and dropped.
            if (size < 4096) chunks.push(chunk);
            size += chunk.length;
          });
          response.on('end', () => {
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), retryAfter: retryAfterMs(response.headers['retry-after']) });
          });
          response.on('error', reject);
        },
      );
      const deadline = setTimeout(() => request.destroy(Object.assign(new Error(`no response within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
      request.on('timeout', () => request.destroy(Object.assign(new Error(`no response within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      request.on('error', reject);
      request.on('close', () => clearTimeout(deadline));
      request.end(body);
    }).catch((error: unknown) => {
      if (error instanceof ConnectorError) throw error;
      const code = (error as { code?: string }).code;
      throw new ConnectorError(
        connectorName,
        'temporary',
        code === 'ETIMEDOUT' ? 'WEBHOOK_TIMEOUT' : 'WEBHOOK_UNREACHABLE',
        `The POST to ${target.label} (${target.url.host}) failed and will be retried: ${(error as Error).message}.`,
        { cause: error },
      );
    }) as Promise<{ status: number; text: string; retryAfter: number | null }>;
  }

  return {
    name: connectorName,
    mode: 'live',
    templates: webhookTemplates,

    describe() {
      const names = Object.keys(settings.targets);
      const where = [settings.url ? `WEBHOOK_URL (${new URL(settings.url).host})` : null, names.length > 0 ? `targets ${names.join(', ')}` : null]
        .filter((part) => part)
        .join(' and ');
      return `webhook: POSTing signed JSON to ${where}`;
    },

    preview: (delivery) => renderPreview(delivery, settings),

    async send(delivery: Delivery): Promise<SendReceipt> {
      checkTemplate(delivery);
      const target = targetOf(delivery, settings);
      const body = webhookBody(delivery);
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'repliers-hub',
        ...signWebhook(secret, delivery.key, Math.floor(Date.now() / 1000), body),
      };

      const response = await post(target, headers, body, delivery);
      return classifyResponse(response, target, delivery);
    },

    async close() {},
  };
}

/** Turns the receiver's response into a receipt or a ConnectorError with the fix. */
function classifyResponse(response: { status: number; text: string; retryAfter: number | null }, target: Target, delivery: Delivery): SendReceipt {
  const { status } = response;
  if (status >= 200 && status < 300) return { id: `${delivery.key} HTTP ${status}`, outbox: false };

  const quoted = response.text.replace(/\s+/g, ' ').trim().slice(0, quotedBodyLength);
  const answer = `HTTP ${status}${quoted ? `: ${quoted}` : ''}`;
  const where = `${target.label} (${target.url.host})`;

  if (status === 429 || status === 408 || status === 425 || status >= 500) {
    return fail('temporary', status === 429 ? 'WEBHOOK_RATE_LIMITED' : 'WEBHOOK_UNAVAILABLE', `${where} answered ${answer}; the delivery will be retried.`, response.retryAfter);
  }
  if (status === 410) {
    return fail('permanent', 'WEBHOOK_GONE', `${where} answered ${answer}: the endpoint no longer exists. Remove or replace it in the settings and in rule ${delivery.ruleId}.`);
  }
  if (status >= 300 && status < 400) {
    return fail('permanent', 'WEBHOOK_REDIRECTED', `${where} answered ${answer}; redirects are not followed. Set the final URL in the settings.`);
  }
  if (status === 401 || status === 403) {
    return fail('permanent', 'WEBHOOK_UNAUTHORIZED', `${where} answered ${answer}. Give the receiver the secret in WEBHOOK_SECRET so it can verify the signature.`);
  }
  return fail('permanent', 'WEBHOOK_REJECTED', `${where} rejected the delivery with ${answer}. Check what the receiver expects against the body the hub sends (see docs/delivery.md).`);
}

function fail(kind: 'temporary' | 'permanent', code: string, message: string, retryAfter: number | null = null): never {
  throw new ConnectorError(connectorName, kind, code, message, { retryAfterMs: retryAfter });
}

function renderPreview(delivery: Delivery, settings: WebhookSettings): Preview {
  checkTemplate(delivery);
  const recipient = delivery.recipient;
  const target = recipient.kind === 'channel' ? `WEBHOOK_TARGETS ${recipient.channel}` : (settings.url ?? 'WEBHOOK_URL (not set)');
  return { connector: connectorName, target, subject: summary(delivery), text: webhookBody(delivery) };
}

function createOutboxConnector(settings: WebhookSettings, configured: boolean): Connector {
  return {
    name: connectorName,
    mode: 'outbox',
    templates: webhookTemplates,

    describe() {
      const missing = configured ? 'WEBHOOK_SECRET is not set' : 'WEBHOOK_URL and WEBHOOK_TARGETS are not set';
      return `webhook: ${missing}, so requests are written as JSON files to ${outboxFolderForDisplay(settings.outboxDir, connectorName)} (set WEBHOOK_URL or WEBHOOK_TARGETS, and WEBHOOK_SECRET=whsec_…, to send them)`;
    },

    preview: (delivery) => renderPreview(delivery, settings),

    async send(delivery: Delivery): Promise<SendReceipt> {
      checkTemplate(delivery);
      const recipient = delivery.recipient;
      const body = webhookBody(delivery);
      const headers: Record<string, string> = { 'content-type': 'application/json', 'webhook-id': delivery.key };
      if (settings.secret) Object.assign(headers, signWebhook(settings.secret, delivery.key, Math.floor(Date.now() / 1000), body));
      const record = {
        connector: connectorName,
        deliveryKey: delivery.key,
        target: recipient.kind === 'channel' ? `WEBHOOK_TARGETS ${recipient.channel}` : 'WEBHOOK_URL',
        request: { method: 'POST', headers, body: JSON.parse(body) as unknown },
      };
      const file = await writeOutboxFile(settings.outboxDir, connectorName, delivery.key, 'json', `${JSON.stringify(record, null, 2)}\n`);
      return { id: file, outbox: true };
    },

    async close() {},
  };
}
