import { findBlockedSegment, isWholeDataPath, splitPath } from './data-path.js';
import { isPrimitive } from './expression.js';
import { readOperation } from './operation-node.js';
import { STANDARD_OPERATORS } from './operators.js';

const ITERATION_OPERATORS: ReadonlySet<string> = new Set(['map', 'filter', 'reduce', 'all', 'none', 'some']);

export function prefixKey(segments: readonly string[]): string {
  return JSON.stringify(segments);
}

/**
 * Reports whether the data can change while a rule runs, which decides if lookups may share
 * a prefix read. Hub operations and `log` (through console.log) may run arbitrary code.
 * `missing` and `missing_some` with computed keys may evaluate rules taken from the data.
 */
export function mayChangeData(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(mayChangeData);
  const operation = readOperation(node, '');
  if (operation === undefined) return false;

  const { name, args } = operation;
  if (!STANDARD_OPERATORS.has(name) || name === 'log') return true;
  if (name === 'missing' && planStaticMissing(args) === undefined) return true;
  if (name === 'missing_some' && planStaticMissingSome(args) === undefined) return true;
  return args.some(mayChangeData);
}

/**
 * Finds the proper prefixes of literal `var`, `missing` and `missing_some` paths that at
 * least two lookups of one generated function share. The bodies of iteration operators are
 * separate functions, so they are not scanned here.
 */
export function findSharedPrefixes(node: unknown): Set<string> {
  const counts = new Map<string, number>();
  countPrefixes(node, counts);
  const shared = new Set<string>();
  for (const [key, count] of counts) {
    if (count >= 2) shared.add(key);
  }
  return shared;
}

/** Returns the keys of a `missing` whose keys are known at compile time, and the index of its first other argument. */
export function planStaticMissing(args: readonly unknown[]): { keys: unknown[]; restIndex: number } | undefined {
  const [first] = args;
  if (Array.isArray(first) && first.every(isPrimitive)) return { keys: Array.from(first), restIndex: 1 };
  if (args.every(isPrimitive)) return { keys: Array.from(args), restIndex: args.length };
  return undefined;
}

/** Returns the keys of a `missing_some` whose count and keys are known at compile time. */
export function planStaticMissingSome(args: readonly unknown[]): unknown[] | undefined {
  const [needed, options] = args;
  if (isPrimitive(needed) && Array.isArray(options) && options.every(isPrimitive)) return Array.from(options);
  return undefined;
}

function countPrefixes(node: unknown, counts: Map<string, number>): void {
  if (Array.isArray(node)) {
    for (const element of node) countPrefixes(element, counts);
    return;
  }
  const operation = readOperation(node, '');
  if (operation === undefined) return;

  const { name, args } = operation;
  if (name === 'var') countPath(args[0], counts);
  if (name === 'missing') planStaticMissing(args)?.keys.forEach((key) => countPath(key, counts));
  if (name === 'missing_some') planStaticMissingSome(args)?.forEach((key) => countPath(key, counts));

  if (ITERATION_OPERATORS.has(name)) {
    countPrefixes(args[0], counts);
    if (name === 'reduce') countPrefixes(args[2], counts);
    return;
  }
  for (const arg of args) countPrefixes(arg, counts);
}

function countPath(path: unknown, counts: Map<string, number>): void {
  if (!isPrimitive(path) || isWholeDataPath(path)) return;
  const segments = splitPath(path);
  if (findBlockedSegment(segments) !== undefined) return;
  for (let length = 1; length < segments.length; length++) {
    const key = prefixKey(segments.slice(0, length));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
}
