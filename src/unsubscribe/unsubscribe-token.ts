/**
 * Signed unsubscribe tokens. A token names one client and carries an HMAC-SHA256 of the client id under
 * UNSUBSCRIBE_SECRET, so only the hub can make one and a link cannot be edited to opt out someone else. Tokens do
 * not expire, because a client may click the link of an old email; changing the secret invalidates every link sent.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Path of the unsubscribe page under PUBLIC_URL. */
export const unsubscribePath = '/unsubscribe';

const purpose = 'hub-unsubscribe-v1';

function mac(secret: string, clientId: string): Buffer {
  return createHmac('sha256', secret).update(`${purpose}\n${clientId}`).digest();
}

/** Returns `<base64url client id>.<base64url HMAC>`. */
export function signUnsubscribeToken(secret: string, clientId: string): string {
  return `${Buffer.from(clientId, 'utf8').toString('base64url')}.${mac(secret, clientId).toString('base64url')}`;
}

/** Returns the client id a token names, or null when the token is malformed or its signature does not match. */
export function verifyUnsubscribeToken(secret: string, token: string): string | null {
  const match = /^([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return null;
  const clientId = Buffer.from(match[1]!, 'base64url').toString('utf8');
  const given = Buffer.from(match[2]!, 'base64url');
  const expected = mac(secret, clientId);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return clientId;
}

/**
 * Builds the link of a client's unsubscribe page. A base URL with a path, such as https://example.com/hub behind a
 * proxy, keeps that path in front of `/unsubscribe`.
 */
export function unsubscribeUrl(publicUrl: string, secret: string, clientId: string): string {
  const url = new URL(publicUrl);
  url.pathname = `${url.pathname.replace(/\/$/, '')}${unsubscribePath}`;
  url.search = '';
  url.hash = '';
  url.searchParams.set('token', signUnsubscribeToken(secret, clientId));
  return url.toString();
}
