/**
 * JSON Logic operations added for this domain. Plain JSON Logic compares `null` as zero (`{"<": [null, 5]}` is
 * true), so a missing price would match a price rule. These operations are false whenever either side is not a
 * number, and accept numeric strings such as "699900.00" as numbers.
 */
import { toNumber } from '../repliers/listing-values.js';
import type { LogicOperation } from './logic/index.js';

function compareNumbers(test: (a: number, b: number) => boolean): LogicOperation {
  return (left: unknown, right: unknown) => {
    const a = toNumber(left);
    const b = toNumber(right);
    return a !== null && b !== null && test(a, b);
  };
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
});

export const domainOperationNames: readonly string[] = Object.keys(domainOperations);
