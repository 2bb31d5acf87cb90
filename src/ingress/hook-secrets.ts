/**
 * Webhook subscription secrets. Repliers proves a delivery's origin only by repeating, on every delivery, the
 * `X-Hook-Secret` value it sent in the subscription handshake. A handshake stores that value only while an admin
 * has opened a window for its path (`hub webhooks expect`, or `hub subscribe` through {@link HookSecrets.expect}).
 *
 * A stored secret is never replaced by a request alone. Only a handshake inside a window opened with rotation
 * (`hub webhooks expect --rotate`) replaces it. The replaced secret then stays valid for a grace period, so
 * deliveries sent before the rotation still verify.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Store } from '../mirror/store.js';

/** Secrets shorter or longer than these are rejected before any comparison. */
const minSecretLength = 8;
const maxSecretLength = 512;
/** How long a missing subscription is remembered before the store is read again, in milliseconds. */
const missRetryMs = 1000;
/** How long stored secrets are used from memory before the store is read again, in milliseconds. */
const defaultRefreshMs = 10_000;
const defaultGraceSeconds = 86_400;

export type HandshakeResult = 'accepted' | 'rotated' | 'already-subscribed' | 'not-expected' | 'secret-stored' | 'invalid-secret';

/** Stored secret that a delivery carried: the current one, the one a rotation replaced, or neither (null). */
export type SecretMatch = 'current' | 'previous' | null;

/** The kind of handshake window open for a path: a first subscription, or a rotation of the stored secret. */
export type HandshakeWindow = 'new' | 'rotate';

export interface HookSecretsOptions {
  /** How long a secret replaced by a rotation stays valid, in seconds. Default 86,400 (a day); 0 for no overlap. */
  graceSeconds?: number;
  /**
   * How long stored secrets are used from memory before the store is read again, in milliseconds. Default 10,000.
   * A rotation made by another process is seen here within this time. Sooner than that, a delivery whose secret
   * matches nothing in memory makes the store be read again, at most once a second per path.
   */
  refreshMs?: number;
}

interface KnownSecrets {
  /** SHA-256 digest of the current secret, or null when the path has no subscription. */
  current: Buffer | null;
  previous: { digest: Buffer; validUntilMs: number } | null;
  readAt: number;
}

const digest = (value: string): Buffer => hash('sha256', value, 'buffer');

/** Compares two secrets in constant time, whatever their lengths, by comparing their SHA-256 digests. */
export function secretsMatch(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * True for a header value that could be a hook secret: one value (not an array, no comma from a repeated header),
 * visible ASCII only (no multi-byte characters), 8 to 512 characters.
 */
export function isPlausibleSecret(value: string | string[] | undefined): value is string {
  if (typeof value !== 'string') return false;
  if (value.length < minSecretLength || value.length > maxSecretLength) return false;
  return /^[\x21-\x7e]+$/.test(value) && !value.includes(',');
}

export class HookSecrets {
  private readonly known = new Map<string, KnownSecrets>();
  private readonly loading = new Map<string, Promise<KnownSecrets>>();
  private readonly graceSeconds: number;
  private readonly refreshMs: number;

  constructor(
    private readonly store: Store,
    private readonly redis: Redis,
    private readonly queuePrefix: string,
    options: HookSecretsOptions = {},
  ) {
    this.graceSeconds = options.graceSeconds ?? defaultGraceSeconds;
    this.refreshMs = options.refreshMs ?? defaultRefreshMs;
  }

  private windowKey(event: string): string {
    return `${this.queuePrefix}:expect:${event}`;
  }

  /**
   * Opens the handshake window of one event's path for `seconds`. With `rotate`, the next handshake may replace a
   * stored secret; without it, a handshake is accepted only when no secret is stored yet. Opening a window again
   * replaces the earlier one.
   */
  async expect(event: string, seconds: number, options: { rotate?: boolean } = {}): Promise<void> {
    const window: HandshakeWindow = options.rotate ? 'rotate' : 'new';
    await this.redis.set(this.windowKey(event), window, 'EX', seconds);
  }

  /** Returns the kind of window open for the path, or null when none is. */
  async openWindow(event: string): Promise<HandshakeWindow | null> {
    const value = await this.redis.get(this.windowKey(event));
    if (value === null) return null;
    return value === 'rotate' ? 'rotate' : 'new';
  }

  async isExpected(event: string): Promise<boolean> {
    return (await this.openWindow(event)) !== null;
  }

  private async load(event: string): Promise<KnownSecrets> {
    const pending = this.loading.get(event);
    if (pending) return pending;

    const read = (async (): Promise<KnownSecrets> => {
      const subscription = await this.store.getHookSubscription(event);
      const previous = subscription?.previous;
      const known: KnownSecrets = {
        current: subscription ? digest(subscription.secret) : null,
        previous: previous ? { digest: digest(previous.secret), validUntilMs: Date.parse(previous.validUntil) } : null,
        readAt: Date.now(),
      };
      this.known.set(event, known);
      return known;
    })();
    this.loading.set(event, read);
    try {
      return await read;
    } finally {
      this.loading.delete(event);
    }
  }

  private async secretsOf(event: string): Promise<KnownSecrets> {
    const known = this.known.get(event);
    if (known) {
      const age = Date.now() - known.readAt;
      if (age < (known.current === null ? missRetryMs : this.refreshMs)) return known;
    }
    return this.load(event);
  }

  /**
   * Checks a delivery's secret against the stored secrets held in memory, without waiting. Returns undefined when
   * the store must be read first, and {@link match} must be used instead.
   */
  matchInMemory(event: string, given: string | string[] | undefined): SecretMatch | undefined {
    if (!isPlausibleSecret(given)) return null;
    const known = this.known.get(event);
    if (!known || known.current === null || Date.now() - known.readAt >= this.refreshMs) return undefined;
    const matched = compare(known, digest(given));
    // A miss may mean another process rotated the secret, so match() reads the store again.
    if (matched === null && Date.now() - known.readAt >= missRetryMs) return undefined;
    return matched;
  }

  /**
   * Checks a delivery's secret against the stored ones, in constant time for a given set of stored secrets.
   * Returns which one matched, or null (also when nothing is stored for the path). Rejects when the store fails.
   */
  async match(event: string, given: string | string[] | undefined): Promise<SecretMatch> {
    if (!isPlausibleSecret(given)) return null;
    const givenDigest = digest(given);

    let known = await this.secretsOf(event);
    let matched = compare(known, givenDigest);
    if (matched === null && Date.now() - known.readAt >= missRetryMs) {
      // Another process may have rotated the secret since it was read.
      known = await this.load(event);
      matched = compare(known, givenDigest);
    }
    return matched;
  }

  /** True when a delivery's secret is the stored one, or the one a rotation replaced within its grace period. */
  async verify(event: string, given: string | string[] | undefined): Promise<boolean> {
    return (await this.match(event, given)) !== null;
  }

  /**
   * Handles a subscription handshake. Stores the secret when a window is open and none is stored, and replaces the
   * stored one when a rotation window is open. A repeat of the current secret returns 'already-subscribed'. Rejects
   * when the store or Redis fails.
   */
  async handshake(event: string, given: string | string[] | undefined): Promise<HandshakeResult> {
    if (!isPlausibleSecret(given)) return 'invalid-secret';
    const stored = await this.store.getHookSubscription(event);
    if (stored !== null && secretsMatch(given, stored.secret)) return 'already-subscribed';

    const window = await this.openWindow(event);
    // A stored secret is reported first, window or not, so the hint names the rotation that the admin needs.
    if (stored !== null && window !== 'rotate') return 'secret-stored';
    if (window === null) return 'not-expected';

    const now = new Date();
    const changed =
      stored === null
        ? await this.store.createHookSubscription(event, given, now.toISOString())
        : await this.store.rotateHookSecret(
            event,
            stored.secret,
            given,
            new Date(now.getTime() + this.graceSeconds * 1000).toISOString(),
            now.toISOString(),
          );
    this.known.delete(event);
    if (changed) {
      await this.redis.del(this.windowKey(event));
      return stored === null ? 'accepted' : 'rotated';
    }

    // Another process changed the subscription first: accept only if it stored this same secret.
    const latest = await this.store.getHookSubscription(event);
    return latest !== null && secretsMatch(given, latest.secret) ? 'already-subscribed' : 'not-expected';
  }
}

function compare(known: KnownSecrets, givenDigest: Buffer): SecretMatch {
  if (known.current === null) return null;
  const current = timingSafeEqual(givenDigest, known.current);
  const previous = known.previous !== null && Date.now() < known.previous.validUntilMs
    ? timingSafeEqual(givenDigest, known.previous.digest)
    : false;
  if (current) return 'current';
  return previous ? 'previous' : null;
}
