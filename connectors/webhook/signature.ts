/**
 * Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed with
 * the bytes that follow `whsec_` in the secret, base64-decoded.
 */
import { createHmac } from 'node:crypto';

/** The three headers of a signed request. */
export interface WebhookSignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Returns the key bytes of a `whsec_…` secret. Throws when the secret lacks the prefix. */
export function secretKey(secret: string): Buffer {
  if (!secret.startsWith('whsec_')) throw new Error('a Standard Webhooks secret starts with "whsec_"');
  return Buffer.from(secret.slice('whsec_'.length), 'base64');
}

/**
 * Signs one request. `timestampSeconds` is Unix time in whole seconds. The id stays the same on every retry of a
 * delivery so that receivers can drop repeats, while the timestamp and signature change with each attempt.
 */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): WebhookSignatureHeaders {
  const timestamp = String(timestampSeconds);
  const signature = createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}
