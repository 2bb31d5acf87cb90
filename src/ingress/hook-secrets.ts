/**
 * Webhook subscription secrets. Repliers proves a delivery's origin only by repeating, on every delivery, the
 * `X-Hook-Secret` value it sent in the subscription handshake. The first handshake on a path stores that value,
 * and only while an admin has opened a window for it with `hub webhooks expect`; a stored secret is never
 * replaced by a request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Store } from '../mirror/store.js';

/** Secrets shorter or longer than these are rejected before any comparison. */
const minSecretLength = 8;
const maxSecretLength = 512;
/** How long a missing subscription is remembered before the store is asked again, in milliseconds. */
const missRetryMs = 1000;

export type HandshakeResult = 'accepted' | 'already-subscribed' | 'not-expected' | 'invalid-secret';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Compares two secrets in constant time, whatever their lengths, by comparing their SHA-256 digests. */
export function secretsMatch(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** True for a header value that could be a hook secret: one value, visible ASCII, of a sane length. */
export function isPlausibleSecret(value: string | string[] | undefined): value is string {
  if (typeof value !== 'string') return false;
  if (value.length < minSecretLength || value.length > maxSecretLength) return false;
  return /^[\x21-\x7e]+$/.test(value) && !value.includes(',');
}

export class HookSecrets {
  private readonly cache = new Map<string, { secret: string | null; readAt: number }>();

  constructor(
    private readonly store: Store,
    private readonly redis: Redis,
    private readonly queuePrefix: string,
  ) {}

  private windowKey(event: string): string {
    return `${this.queuePrefix}:expect:${event}`;
  }

  /** Opens the handshake window for one event's path for `seconds`. */
  async expect(event: string, seconds: number): Promise<void> {
    await this.redis.set(this.windowKey(event), new Date().toISOString(), 'EX', seconds);
  }

  async isExpected(event: string): Promise<boolean> {
    return (await this.redis.exists(this.windowKey(event))) === 1;
  }

  private async storedSecret(event: string): Promise<string | null> {
    const cached = this.cache.get(event);
    if (cached && (cached.secret !== null || Date.now() - cached.readAt < missRetryMs)) return cached.secret;
    const subscription = await this.store.getHookSubscription(event);
    const secret = subscription?.secret ?? null;
    this.cache.set(event, { secret, readAt: Date.now() });
    return secret;
  }

  /** Checks a delivery's secret against the stored one. False when nothing is stored for the path. */
  async verify(event: string, given: string | string[] | undefined): Promise<boolean> {
    if (!isPlausibleSecret(given)) return false;
    const secret = await this.storedSecret(event);
    return secret !== null && secretsMatch(given, secret);
  }

  /** Handles a subscription handshake: stores the secret only inside an open window and only once. */
  async handshake(event: string, given: string | string[] | undefined): Promise<HandshakeResult> {
    if (!isPlausibleSecret(given)) return 'invalid-secret';
    const stored = await this.storedSecret(event);
    if (stored !== null) return secretsMatch(given, stored) ? 'already-subscribed' : 'not-expected';
    if (!(await this.isExpected(event))) return 'not-expected';

    const created = await this.store.createHookSubscription(event, given, new Date().toISOString());
    this.cache.delete(event);
    if (created) {
      await this.redis.del(this.windowKey(event));
      return 'accepted';
    }
    // Another process stored a secret first: accept only if it is the same one.
    return (await this.verify(event, given)) ? 'already-subscribed' : 'not-expected';
  }
}
