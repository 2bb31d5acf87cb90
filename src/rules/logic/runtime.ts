import { isWholeDataPath, lookupPath, splitPath, walkSegments } from './data-path.js';

/** Evaluates a rule that only becomes known at run time, such as a `missing` key taken from data. */
export type NestedEvaluator = (logic: unknown, data: unknown) => unknown;

/** One key of a `missing` list known at compile time, with its path split in advance. */
export interface MissingKey {
  key: unknown;
  /** Path segments, or null when the key selects the whole data object. */
  segments: string[] | null;
}

/** Returns the JSON Logic truthiness of a value: like JavaScript, except that [] is false. */
export function truthy(value: unknown): boolean {
  return Array.isArray(value) ? value.length !== 0 : Boolean(value);
}

/**
 * Converts a value the way json-logic-js does before arithmetic, which is parseFloat(value).
 * A number skips the conversion to a string and back, with the same result: the number
 * itself, or 0 for -0.
 */
export function toFloat(value: unknown): number {
  if (typeof value === 'number') return value === 0 ? 0 : value;
  return parseFloat(value as string);
}

/** Converts a value to text as Array.prototype.join does: null and undefined become "". */
export function toText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return `${value as string}`;
}

export function orNull(value: unknown): unknown {
  return value === undefined ? null : value;
}

/**
 * Implements `substr` with String.prototype.substr. A negative `length` drops that many
 * characters from the end, as json-logic-js does to follow PHP's substr.
 */
export function substring(source: unknown, start: unknown, length: unknown): string {
  if ((length as number) < 0) {
    const tail = String(source).substr(start as number);
    return tail.substr(0, tail.length + (length as number));
  }
  return String(source).substr(start as number, length as number);
}

/**
 * Implements `in`: whether `haystack.indexOf(needle)` finds the needle, so it works on
 * arrays (strict equality) and strings (substring search). Other values return false.
 */
export function includes(needle: unknown, haystack: unknown): boolean {
  if (!haystack) return false;
  const indexOf = (haystack as { indexOf?: unknown }).indexOf;
  if (indexOf === undefined) return false;
  return (indexOf as (value: unknown) => number).call(haystack, needle) !== -1;
}

/** Implements `log`: writes the value with console.log, as json-logic-js does, and returns it. */
export function logValue(value: unknown): unknown {
  console.log(value);
  return value;
}

/**
 * Throws the error of `*` without arguments. json-logic-js throws a TypeError there too,
 * from reduce() without an initial value.
 */
export function failEmptyProduct(): never {
  throw new TypeError('operator "*" got no arguments; give it at least one number');
}

/** Returns the keys whose values are null, "" or not found, as `missing` does. */
export function collectMissing(data: unknown, keys: readonly MissingKey[]): unknown[] {
  const missing: unknown[] = [];
  for (const { key, segments } of keys) {
    const value = segments === null ? data : walkSegments(data, segments, null);
    if (value === null || value === '') missing.push(key);
  }
  return missing;
}

/**
 * Implements `missing` for evaluated arguments. If the first argument is an array, it is the
 * key list and the other arguments are ignored. A key that is an object or array is read as
 * the arguments of a `var` rule and evaluated, as json-logic-js does.
 */
export function collectMissingDynamic(data: unknown, values: readonly unknown[], evaluate: NestedEvaluator): unknown[] {
  const first = values[0];
  const keys: readonly unknown[] = Array.isArray(first) ? first : values;
  const missing: unknown[] = [];
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index];
    const value = key !== null && typeof key === 'object' ? evaluate({ var: key }, data) : lookupPath(data, key, null);
    if (value === null || value === '') missing.push(key);
  }
  return missing;
}

/** Implements `missing_some` for a count and keys known at compile time. */
export function collectMissingSome(data: unknown, needed: unknown, keys: readonly MissingKey[]): unknown[] {
  const missing = collectMissing(data, keys);
  return keys.length - missing.length >= (needed as number) ? [] : missing;
}

/**
 * Implements `missing_some` for evaluated arguments. json-logic-js evaluates each entry of
 * the key list once more as a rule before checking it, and so does this function.
 * Returns [] when at least `needed` keys are present, otherwise the missing keys.
 * Throws a TypeError when `options` is null or undefined, as json-logic-js does.
 */
export function collectMissingSomeDynamic(
  data: unknown,
  needed: unknown,
  options: unknown,
  evaluate: NestedEvaluator,
): unknown[] {
  const entries: unknown[] = Array.isArray(options) ? options : [options];
  const keys = entries.map((entry) => (entry !== null && typeof entry === 'object' ? evaluate(entry, data) : entry));
  const missing = collectMissingDynamic(data, keys, evaluate);
  return (options as { length: number }).length - missing.length >= (needed as number) ? [] : missing;
}

/** Builds the compile-time plan for a list of primitive `missing` keys. */
export function planMissingKeys(keys: readonly unknown[]): MissingKey[] {
  return keys.map((key) => ({ key, segments: isWholeDataPath(key) ? null : splitPath(key) }));
}

/**
 * Functions and builtins that generated code calls. The compiler binds each one it uses to
 * a local constant of the same name, so the names must stay valid JavaScript identifiers.
 */
export const runtimeHelpers = {
  isArray: Array.isArray,
  hasOwn: Object.prototype.hasOwnProperty,
  objectPrototype: Object.prototype,
  getPrototypeOf: Object.getPrototypeOf,
  /** Initial value of the variables that memoise shared path prefixes. */
  unset: Symbol('unset'),
  mathMin: Math.min,
  mathMax: Math.max,
  truthy,
  toFloat,
  toText,
  orNull,
  substring,
  includes,
  logValue,
  failEmptyProduct,
  lookupPath,
  collectMissing,
  collectMissingDynamic,
  collectMissingSome,
  collectMissingSomeDynamic,
};

export type RuntimeHelperName = keyof typeof runtimeHelpers;
