/**
 * Path segments that always resolve to "not found". Lookups read own properties only, and
 * these names are blocked even when the data has them as own keys, because JSON.parse
 * creates an own "__proto__" key and a rule should never reach an object's prototype.
 */
export const BLOCKED_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const hasOwnProperty = Object.prototype.hasOwnProperty;

/** Reports whether a `var` path selects the whole data object, as undefined, null and "" do. */
export function isWholeDataPath(path: unknown): boolean {
  return path === undefined || path === null || path === '';
}

/** Splits a `var` path into segments the way json-logic-js does: String(path) split at ".". */
export function splitPath(path: unknown): string[] {
  return String(path).split('.');
}

/** Returns the first blocked segment of a path, or undefined when the path has none. */
export function findBlockedSegment(segments: readonly string[]): string | undefined {
  return segments.find((segment) => BLOCKED_SEGMENTS.has(segment));
}

/**
 * Follows `segments` through own properties of `data`, array indexes included.
 * Returns `notFound` when a step starts from null or undefined, when a segment is blocked
 * or not an own property, or when a step yields undefined. A final null is returned as null.
 */
export function walkSegments(data: unknown, segments: readonly string[], notFound: unknown): unknown {
  let value = data;
  for (const segment of segments) {
    if (value === null || value === undefined) return notFound;
    if (BLOCKED_SEGMENTS.has(segment) || !hasOwnProperty.call(value, segment)) return notFound;
    value = (value as Record<string, unknown>)[segment];
    if (value === undefined) return notFound;
  }
  return value;
}

/**
 * Evaluates `var` with an evaluated path and default: the whole data for an empty path,
 * otherwise the value at the dotted path, or the default (null when undefined) if absent.
 */
export function lookupPath(data: unknown, path: unknown, fallback: unknown): unknown {
  if (isWholeDataPath(path)) return data;
  const notFound = fallback === undefined ? null : fallback;
  return walkSegments(data, splitPath(path), notFound);
}
