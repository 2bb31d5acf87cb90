/** The hub's JSON log lines as plain text, so that they read like the rest of the demo's output. */

/** Names of pino's numeric levels, as the demo prints them. */
const levelNames = new Map<number, string>([
  [10, 'trace'],
  [20, 'debug'],
  [30, 'info'],
  [40, 'warning'],
  [50, 'error'],
  [60, 'fatal'],
]);

/** Fields of every line that the text leaves out: the level becomes the prefix and the message the text. */
const shownElsewhere = new Set(['level', 'time', 'service', 'msg']);

function describeValue(value: unknown): string {
  if (typeof value === 'string') return value;
  // A serialized error carries its stack too; its message is what a reader of the demo needs.
  if (typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string') {
    return (value as { message: string }).message;
  }
  return JSON.stringify(value);
}

/**
 * Formats one JSON line of the hub's logger as `<level>: <message>`, followed by its other fields in brackets, such
 * as `error: delivery failed (connector=email, err=connect ECONNREFUSED 127.0.0.1:25)`. A line that is not a JSON
 * object is returned as it is, without its line break.
 */
export function formatLogLine(line: string): string {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return line.trimEnd();
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return line.trimEnd();

  const fields = entry as Record<string, unknown>;
  const level = levelNames.get(fields.level as number) ?? `level ${String(fields.level)}`;
  const details = Object.entries(fields)
    .filter(([key]) => !shownElsewhere.has(key))
    .map(([key, value]) => `${key}=${describeValue(value)}`);
  const suffix = details.length > 0 ? ` (${details.join(', ')})` : '';
  return `${level}: ${describeValue(fields.msg ?? '')}${suffix}`;
}
