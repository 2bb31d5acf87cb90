import { findBlockedSegment, isWholeDataPath, splitPath } from './data-path.js';
import type { EmitContext } from './emit-context.js';
import { computed, impureCodes, sequence, UNDEFINED_EXPRESSION, type Expression } from './expression.js';
import type { FunctionScope } from './function-scope.js';
import type { OperationNode } from './operation-node.js';
import { planStaticMissing, planStaticMissingSome, prefixKey } from './path-prefixes.js';
import { planMissingKeys } from './runtime.js';

/**
 * `var`: a path known at compile time becomes a chain of own-property checks. A path that
 * contains a blocked segment always yields the default.
 */
export function emitVariable(context: EmitContext, operation: OperationNode, scope: FunctionScope): Expression {
  const operands = context.operands(operation, scope);
  const [path = UNDEFINED_EXPRESSION, fallback = UNDEFINED_EXPRESSION] = operands;

  if (path.constant === undefined) {
    const lookupPath = context.helper('lookupPath');
    const code = context.combine(scope, operands, 2, false, ([dynamicPath, dynamicFallback]) => {
      return `${lookupPath}(data, ${dynamicPath?.code}, ${dynamicFallback?.code})`;
    });
    return computed(code, 'unknown', false);
  }

  const pathValue = path.constant.value;
  if (isWholeDataPath(pathValue)) {
    const steps = impureCodes(operands.slice(1));
    return { code: sequence(steps, 'data'), kind: 'unknown', pure: steps.length === 0, defined: false, repeatable: false };
  }

  // json-logic-js evaluates the default before the lookup, so an impure default runs first.
  const steps: string[] = [];
  let notFound: string;
  if (fallback.constant !== undefined) {
    notFound = fallback.constant.value === undefined ? 'null' : fallback.code;
  } else if (fallback.pure) {
    notFound = fallback.defined ? fallback.code : `${context.helper('orNull')}(${fallback.code})`;
  } else {
    const temporary = scope.newTemporary();
    steps.push(`${temporary} = ${fallback.code}`);
    notFound = `(${temporary} === undefined ? null : ${temporary})`;
  }
  steps.push(...impureCodes(operands.slice(2)));

  const segments = splitPath(pathValue);
  const lookup = findBlockedSegment(segments) === undefined ? emitLookup(context, segments, notFound, scope) : notFound;
  return { code: sequence(steps, lookup), kind: 'unknown', pure: steps.length === 0, defined: true, repeatable: false };
}

/** `missing` with keys known at compile time becomes one lookup per key; other forms call a helper. */
export function emitMissing(context: EmitContext, operation: OperationNode, scope: FunctionScope): Expression {
  const operands = context.operands(operation, scope);
  const plan = planStaticMissing(operation.args);
  if (plan === undefined) {
    const values = operands.map((operand) => operand.code).join(', ');
    const code = `${context.helper('collectMissingDynamic')}(data, [${values}], ${context.evaluator()})`;
    return computed(code, 'array');
  }

  const list = scope.newTemporary();
  const steps = impureCodes(operands.slice(plan.restIndex));
  steps.push(`${list} = []`);
  for (const key of plan.keys) {
    steps.push(`${emitMissingCheck(context, key, scope)} && ${list}.push(${context.literal(key).code})`);
  }
  steps.push(list);
  return computed(`(${steps.join(', ')})`, 'array');
}

/**
 * In a boolean context `missing` with keys known at compile time needs no array. Returns
 * undefined for other forms of `missing`.
 */
export function emitMissingTest(context: EmitContext, operation: OperationNode, scope: FunctionScope): string | undefined {
  const plan = planStaticMissing(operation.args);
  if (plan === undefined) return undefined;

  const operands = context.operands(operation, scope);
  const checks = plan.keys.map((key) => emitMissingCheck(context, key, scope));
  const anyMissing = checks.length === 0 ? 'false' : `(${checks.join(' || ')})`;
  return sequence(impureCodes(operands.slice(plan.restIndex)), anyMissing);
}

export function emitMissingSome(context: EmitContext, operation: OperationNode, scope: FunctionScope): Expression {
  const operands = context.operands(operation, scope);
  const [needed = UNDEFINED_EXPRESSION] = operands;
  const keys = planStaticMissingSome(operation.args);

  if (keys !== undefined) {
    const steps = impureCodes(operands.slice(2));
    const plan = context.constant(planMissingKeys(keys));
    const code = sequence(steps, `${context.helper('collectMissingSome')}(data, ${needed.code}, ${plan})`);
    return { code, kind: 'array', pure: steps.length === 0, defined: true, repeatable: false };
  }

  const collect = context.helper('collectMissingSomeDynamic');
  const evaluator = context.evaluator();
  const code = context.combine(scope, operands, 2, false, ([count, list]) => {
    return `${collect}(data, ${count?.code}, ${list?.code}, ${evaluator})`;
  });
  return computed(code, 'array');
}

/** Returns a boolean expression that is true when `missing` reports `key`: its value is null or "". */
function emitMissingCheck(context: EmitContext, key: unknown, scope: FunctionScope): string {
  const value = scope.newTemporary();
  let lookup = 'data';
  if (!isWholeDataPath(key)) {
    const segments = splitPath(key);
    lookup = findBlockedSegment(segments) === undefined ? emitLookup(context, segments, 'null', scope) : 'null';
  }
  return `((${value} = ${lookup}) === null || ${value} === "")`;
}

/** Generates the inline form of walkSegments() for a path known at compile time. */
function emitLookup(context: EmitContext, segments: readonly string[], notFound: string, scope: FunctionScope): string {
  const { start, rest } = emitWalkStart(context, segments, scope);
  return emitWalk(context, start, rest, '!== undefined', notFound, scope);
}

/**
 * Returns code for the value at the longest shared proper prefix of `segments`, and the
 * segments after that prefix. The value is read once per call of the generated function.
 */
function emitWalkStart(
  context: EmitContext,
  segments: readonly string[],
  scope: FunctionScope,
): { start: string; rest: readonly string[] } {
  for (let length = segments.length - 1; length >= 1; length--) {
    const prefix = segments.slice(0, length);
    const memo = scope.memoFor(prefixKey(prefix));
    if (memo === undefined) continue;

    // The memo stores the value at the prefix, or undefined when the prefix leads nowhere.
    const inner = emitWalkStart(context, prefix, scope);
    const unset = context.helper('unset');
    const read = emitWalk(context, inner.start, inner.rest, '!= null', 'undefined', scope);
    return { start: `(${memo} !== ${unset} ? ${memo} : (${memo} = ${read}))`, rest: segments.slice(length) };
  }
  return { start: 'data', rest: segments };
}

/**
 * Generates a walk from `start` through own properties named by `segments`. Values before
 * the last segment must not be null or undefined. The last one is compared with
 * `lastComparison`, because a lookup returns a final null but not a final undefined.
 *
 * Each step reads the property first and then checks that it is an own property. The check
 * skips hasOwnProperty when the parent's prototype is Object.prototype and Object.prototype
 * has no such property, because then a value found can only be an own one. Arrays, strings,
 * objects with other prototypes and keys that Object.prototype has, such as "toString" or a
 * polluted key, fall back to hasOwnProperty. On Node 20 with plain JSON objects, a
 * microbenchmark ran this check as fast as no check, and 3 to 4 times faster than
 * hasOwnProperty.
 */
function emitWalk(
  context: EmitContext,
  start: string,
  segments: readonly string[],
  lastComparison: string,
  notFound: string,
  scope: FunctionScope,
): string {
  const hasOwn = context.helper('hasOwn');
  const objectPrototype = context.helper('objectPrototype');
  const getPrototypeOf = context.helper('getPrototypeOf');
  const cursor = scope.newTemporary();
  const parent = scope.newTemporary();

  const conditions = [`(${cursor} = ${start}) != null`];
  segments.forEach((segment, index) => {
    const key = JSON.stringify(segment);
    const comparison = index === segments.length - 1 ? lastComparison : '!= null';
    conditions.push(`(${parent} = ${cursor}, (${cursor} = ${cursor}[${key}]) ${comparison})`);
    conditions.push(
      `(${objectPrototype}[${key}] === undefined && ${getPrototypeOf}(${parent}) === ${objectPrototype} || ${hasOwn}.call(${parent}, ${key}))`,
    );
  });
  return `(${conditions.join(' && ')} ? ${cursor} : ${notFound})`;
}
