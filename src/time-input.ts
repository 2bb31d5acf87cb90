/**
 * Times that people type: a duration back from now ("90s", "30m", "24h", "7d", "2w") or an ISO 8601 date or time.
 * `hub rules simulate --since` and the admin API's `since` and `until` take the same forms.
 */

const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** The forms accepted, for error messages. */
export const timeInputForms = 'a duration back from now such as 90s, 30m, 24h, 7d or 2w, or an ISO date such as 2026-01-31T00:00:00Z';

/** Returns the ISO time that `value` names, counting durations back from `now`, or null when `value` is neither form. */
export function parseTimeInput(value: string, now = Date.now()): string | null {
  const match = /^(\d+)\s*(s|m|h|d|w)$/.exec(value.trim());
  if (match) return new Date(now - Number(match[1]) * unitMs[match[2] as keyof typeof unitMs]).toISOString();

  // Date.parse also reads forms such as "1" or "May 5"; only text that starts with a full date counts.
  const time = Date.parse(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value.trim()) && !Number.isNaN(time)) return new Date(time).toISOString();
  return null;
}
