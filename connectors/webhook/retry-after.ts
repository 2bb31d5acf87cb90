/** Reading an HTTP Retry-After header. */

/**
 * Returns the wait that a Retry-After header requests, in ms, from a number of seconds or an HTTP date. Returns null
 * for a missing or unreadable header, and 0 for a date in the past.
 */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}
