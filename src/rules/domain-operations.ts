/**
 * JSON Logic operations added for this domain. Plain JSON Logic compares `null` as zero (`{"<": [null, 5]}` is
 * true), so a missing price would match a price rule. These operations are false whenever a value they need is
 * missing or not of the expected kind, and accept numeric strings such as "699900.00" as numbers.
 */
import { isDeepStrictEqual } from 'node:util';
import { toNumber } from '../repliers/listing-values.js';
import { walkSegments, type LogicOperation } from './logic/index.js';

const notFound = Symbol('not found');

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function compareNumbers(test: (a: number, b: number) => boolean): LogicOperation {
  return (left: unknown, right: unknown) => {
    const a = toNumber(left);
    const b = toNumber(right);
    return a !== null && b !== null && test(a, b);
  };
}

/** A status transition as rule data holds it in `change.status` and `change.lastStatus`. */
interface Transition {
  from: string | null;
  to: string | null;
}

function readTransition(value: unknown): Transition | null {
  if (!isObject(value) || !('from' in value) || !('to' in value)) return null;
  const { from, to } = value;
  if ((from !== null && typeof from !== 'string') || (to !== null && typeof to !== 'string')) return null;
  return { from, to };
}

/** Reads a status code or a list of them; anything else is no list, so the operation is false. */
function readCodes(value: unknown): readonly string[] | null {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((code) => typeof code === 'string')) return value as string[];
  return null;
}

const inCodes = (code: string | null, codes: readonly string[]): boolean => code !== null && codes.includes(code);

/** `{"became": [transition, codes]}`: the status moved into `codes` from outside them. */
function became(transition: unknown, codes: unknown): boolean {
  const step = readTransition(transition);
  const list = readCodes(codes);
  if (step === null || list === null) return false;
  return inCodes(step.to, list) && !inCodes(step.from, list);
}

/** `{"left": [transition, codes]}`: the status moved out of `codes`. */
function left(transition: unknown, codes: unknown): boolean {
  const step = readTransition(transition);
  const list = readCodes(codes);
  if (step === null || list === null) return false;
  return inCodes(step.from, list) && !inCodes(step.to, list);
}

/**
 * Reports whether `previous` holds the field at `path` with a value other than the listing's. Numbers and
 * numeric strings compare as numbers, so "699900.00" before and 699900 after is no change.
 */
function fieldChanged(previous: Record<string, unknown>, listing: unknown, path: string): boolean {
  const segments = path.split('.');
  const before = walkSegments(previous, segments, notFound);
  if (before === notFound) return false;
  const after = walkSegments(listing, segments, notFound);
  // A field the listing no longer has was removed, which is a change.
  if (after === notFound) return true;

  const beforeNumber = toNumber(before);
  const afterNumber = toNumber(after);
  if (beforeNumber !== null && afterNumber !== null) return beforeNumber !== afterNumber;
  return !isDeepStrictEqual(before, after);
}

/** `{"changed": ["listPrice", "details.numBedrooms"]}`: any of the listing fields changed, per `previous`. */
function changed(this: unknown, ...paths: unknown[]): boolean {
  if (!isObject(this) || !isObject(this.previous)) return false;
  const previous = this.previous;
  const listing = this.listing;
  return paths.some((path) => typeof path === 'string' && path !== '' && fieldChanged(previous, listing, path));
}

export const domainOperations: Readonly<Record<string, LogicOperation>> = Object.freeze({
  /** `{"below": [a, b]}`: a < b, both numbers. */
  below: compareNumbers((a, b) => a < b),
  /** `{"above": [a, b]}`: a > b, both numbers. */
  above: compareNumbers((a, b) => a > b),
  /** `{"at_most": [a, b]}`: a ≤ b, both numbers. */
  at_most: compareNumbers((a, b) => a <= b),
  /** `{"at_least": [a, b]}`: a ≥ b, both numbers. */
  at_least: compareNumbers((a, b) => a >= b),
  /** `{"dropped": [old, new]}`: the value went down, both numbers. */
  dropped: compareNumbers((before, after) => after < before),
  /** `{"rose": [old, new]}`: the value went up, both numbers. */
  rose: compareNumbers((before, after) => after > before),
  /** `{"number": [x]}`: x as a number, or null when it is not numeric. */
  number: (value: unknown) => toNumber(value),
  became,
  left,
  // Reads `previous` and `listing` from the data it is evaluated on, which inside map, filter, reduce, all,
  // some and none is the current element, where it is false.
  changed: changed as LogicOperation,
});

export const domainOperationNames: readonly string[] = Object.keys(domainOperations);
