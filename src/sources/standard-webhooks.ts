/**
 * Signatures in the Standard Webhooks scheme (standardwebhooks.com, spec v1): the sender sends `webhook-id`,
 * `webhook-timestamp` (Unix seconds) and `webhook-signature`, a space-separated list of `v1,<base64>` entries, each
 * an HMAC-SHA256 of `<id>.<timestamp>.<body>` keyed with the bytes of a `whsec_<base64>` secret. A delivery is
 * authentic when any v1 entry matches any of the receiver's secrets (several during a rotation), and fresh when its
 * timestamp is within the tolerance of the receiver's clock, in either direction.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const secretPrefix = 'whsec_';

/** Smallest and largest decoded secret accepted, in bytes. The spec's own example secret has 24. */
const minSecretBytes = 16;
const maxSecretBytes = 128;
const maxWebhookIdLength = 256;
const signatureBytes = 32;

export type SignatureFailure =
  | 'missing_signature_headers'
  | 'invalid_webhook_id'
  | 'invalid_timestamp'
  | 'timestamp_out_of_tolerance'
  | 'no_matching_signature';

export type SignatureCheck =
  | { ok: true; webhookId: string; timestamp: number }
  | { ok: false; reason: SignatureFailure };

/**
 * Decodes a `whsec_<base64>` secret into its HMAC key. Throws an Error naming what is wrong; the message never
 * contains the secret.
 */
export function decodeSecret(secret: string): Buffer {
  if (!secret.startsWith(secretPrefix)) {
    throw new Error(`a secret must start with "${secretPrefix}" followed by base64`);
  }
  const encoded = secret.slice(secretPrefix.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new Error(`a secret must be "${secretPrefix}" followed by standard base64 (A-Z, a-z, 0-9, +, /, = padding)`);
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < minSecretBytes || key.length > maxSecretBytes) {
    throw new Error(`a secret must decode to ${minSecretBytes} to ${maxSecretBytes} bytes; this one has ${key.length}`);
  }
  return key;
}

function sign(key: Buffer, webhookId: string, timestamp: string, body: Buffer): Buffer {
  return createHmac('sha256', key).update(`${webhookId}.${timestamp}.`).update(body).digest();
}

/** Returns the `webhook-signature` entry (`v1,<base64>`) of a body under one secret. Used by tests and the benchmark. */
export function signatureFor(secret: string, webhookId: string, timestamp: number, body: Buffer | string): string {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return `v1,${sign(decodeSecret(secret), webhookId, String(timestamp), bytes).toString('base64')}`;
}

function singleHeader(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/**
 * Verifies the signature headers of one delivery against `keys` (decoded secrets). `nowMs` is the receiver's clock.
 * Every key is tried against every v1 entry, each comparison in constant time.
 */
export function verifySignature(
  headers: IncomingHttpHeaders,
  body: Buffer,
  keys: readonly Buffer[],
  toleranceSeconds: number,
  nowMs: number,
): SignatureCheck {
  const webhookId = singleHeader(headers, 'webhook-id');
  const timestampText = singleHeader(headers, 'webhook-timestamp');
  const signatures = singleHeader(headers, 'webhook-signature');
  if (webhookId === null || timestampText === null || signatures === null) {
    return { ok: false, reason: 'missing_signature_headers' };
  }
  // A header sent twice arrives joined with ", ", which no valid id contains.
  if (webhookId.length > maxWebhookIdLength || !/^[\x21-\x7e]+$/.test(webhookId) || webhookId.includes(',')) {
    return { ok: false, reason: 'invalid_webhook_id' };
  }
  if (!/^\d{1,12}$/.test(timestampText)) return { ok: false, reason: 'invalid_timestamp' };
  const timestamp = Number(timestampText);
  if (Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds) {
    return { ok: false, reason: 'timestamp_out_of_tolerance' };
  }

  const given: Buffer[] = [];
  for (const entry of signatures.split(' ')) {
    const comma = entry.indexOf(',');
    // Other versions (v1a for asymmetric keys) are skipped, as the spec requires of receivers that do not know them.
    if (comma === -1 || entry.slice(0, comma) !== 'v1') continue;
    const decoded = Buffer.from(entry.slice(comma + 1), 'base64');
    if (decoded.length === signatureBytes) given.push(decoded);
  }

  let matched = false;
  for (const key of keys) {
    const expected = sign(key, webhookId, timestampText, body);
    for (const signature of given) {
      if (timingSafeEqual(expected, signature)) matched = true;
    }
  }
  return matched ? { ok: true, webhookId, timestamp } : { ok: false, reason: 'no_matching_signature' };
}
