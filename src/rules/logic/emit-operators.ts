import type { EmitContext } from './emit-context.js';
import { computed, isPrimitive, UNDEFINED_EXPRESSION, type Expression } from './expression.js';
import type { FunctionScope } from './function-scope.js';
import type { OperationNode } from './operation-node.js';
import { toFloat, toText } from './runtime.js';

/** Membership lists up to this length compile to a chain of `===`, and longer ones use a Set. */
const MAX_INLINE_MEMBERSHIP = 8;

/** `==`, `===`, `!=`, `!==`, `>`, `>=`, `%` and `/`, which are the JavaScript operators of the same name. */
export function emitBinary(context: EmitContext, operation: OperationNode, scope: FunctionScope): Expression {
  const operator = operation.name;
  const code = context.combine(scope, context.operands(operation, scope), 2, false, ([left, right]) => {
    return `(${left?.code} ${operator} ${right?.code})`;
  });
  return computed(code, operator === '%' || operator === '/' ? 'number' : 'boolean');
}

/** `<` and `<=`, where a third operand makes it a between test: a < b < c. */
export function emitBetween(context: EmitContext, operation: OperationNode, scope: FunctionScope): Expression {
  const operator = operation.name;
  const operands = context.operands(operation, scope);
  if (operands.length < 3) {
    const code = context.combine(scope, operands, 2, false, ([left, right]) => `(${left?.code} ${operator} ${right?.code})`);
    return computed(code, 'boolean');
  }

  const code = context.combine(scope, operands, 3, true, ([low = UNDEFINED_EXPRESSION, middle, high = UNDEFINED_EXPRESSION]) => {
    const lower = `${low.code} ${operator} ${middle?.code}`;
    const both = `${lower} && ${middle?.code} ${operator} ${high.code}`;
    // json-logic-js compares only two operands when the third one evaluates to undefined.
    return high.defined ? `(${both})` : `(${high.code} === undefined ? ${lower} : ${both})`;
  });
  return computed(code, 'boolean');
}

/** `in`: a literal list of primitives compiles to `===` tests or a Set lookup, anything else calls includes(). */
export function emitMembership(context: EmitContext, operation: OperationNode, scope: FunctionScope): Expression {
  const operands = context.operands(operation, scope);
  const haystack = operation.args[1];

  if (!Array.isArray(haystack) || !haystack.every(isPrimitive)) {
    const includes = context.helper('includes');
    const code = context.combine(scope, operands, 2, false, ([needle, list]) => `${includes}(${needle?.code}, ${list?.code})`);
    return computed(code, 'boolean');
  }

  // indexOf skips holes and never finds NaN, so neither can match.
  const candidates = haystack.filter((value) => !Number.isNaN(value));
  // The list is a pure literal, so it need not be built at run time.
  const withoutList = operands.map((operand, index) => (index === 1 ? context.literal(null) : operand));

  if (candidates.length > MAX_INLINE_MEMBERSHIP) {
    // Set.has and indexOf agree here: both use ===, apart from NaN, which was removed.
    const set = context.constant(new Set(candidates));
    const code = context.combine(scope, withoutList, 2, false, ([needle]) => `${set}.has(${needle?.code})`);
    return computed(code, 'boolean');
  }

  const code = context.combine(scope, withoutList, 2, candidates.length > 1, ([needle = UNDEFINED_EXPRESSION]) => {
    if (candidates.length === 0) return needle.pure ? 'false' : `(${needle.code}, false)`;
    const tests = candidates.map((candidate) => `${needle.code} === ${context.literal(candidate).code}`);
    return `(${tests.join(' || ')})`;
  });
  return computed(code, 'boolean');
}

/** `-`: negation with one operand, or subtraction when the second operand is not undefined. */
export function emitSubtraction(context: EmitContext, operation: OperationNode, scope: FunctionScope): Expression {
  const operands = context.operands(operation, scope);
  const subtrahend = operands[1];
  if (subtrahend === undefined) {
    const code = context.combine(scope, operands, 1, false, ([operand]) => `(-${operand?.code})`);
    return computed(code, 'number');
  }
  if (subtrahend.defined) {
    const code = context.combine(scope, operands, 2, false, ([left, right]) => `(${left?.code} - ${right?.code})`);
    return computed(code, 'number');
  }
  const code = context.combine(scope, operands, 2, true, ([left, right]) => {
    return `(${right?.code} === undefined ? -${left?.code} : ${left?.code} - ${right?.code})`;
  });
  return computed(code, 'number');
}

/**
 * `+` adds parseFloat() of each operand to 0. Starting the sum at 0 gives the same result as
 * json-logic-js, which also applies parseFloat to the running total.
 */
export function emitSum(context: EmitContext, operation: OperationNode, scope: FunctionScope): Expression {
  const operands = context.operands(operation, scope);
  if (operands.length === 0) return context.literal(0);

  // parseFloat() runs while the sum is built, so later impure operands must run before it.
  const bind = operands.slice(1).some((operand) => !operand.pure);
  const code = context.combine(scope, operands, operands.length, bind, (references) => {
    return `(0 + ${references.map((reference) => floatOperand(context, reference, false)).join(' + ')})`;
  });
  return computed(code, 'number');
}

/**
 * `*` multiplies parseFloat() of each operand. A single operand is returned unchanged.
 * Without operands it throws, because json-logic-js reduces the list without an initial value.
 */
export function emitProduct(context: EmitContext, operation: OperationNode, scope: FunctionScope): Expression {
  const operands = context.operands(operation, scope);
  const [first] = operands;
  if (first === undefined) return computed(`${context.helper('failEmptyProduct')}()`, 'unknown', false);
  if (operands.length === 1) return first;

  const bind = operands.slice(1).some((operand) => !operand.pure);
  const code = context.combine(scope, operands, operands.length, bind, (references) => {
    const [left, right, ...others] = references.map((reference) => floatOperand(context, reference, true));
    let product = `(${left} * ${right})`;
    // json-logic-js applies parseFloat to the running product, which turns -0 into 0.
    for (const factor of others) product = `((0 + ${product}) * ${factor})`;
    return product;
  });
  return computed(code, 'number');
}

/** `cat` joins its operands as Array.prototype.join with "" does. */
export function emitConcatenation(context: EmitContext, operation: OperationNode, scope: FunctionScope): Expression {
  const operands = context.operands(operation, scope);
  if (operands.length === 0) return context.literal('');

  const bind = operands.slice(1).some((operand) => !operand.pure);
  const code = context.combine(scope, operands, operands.length, bind, (references) => {
    const parts = references.map((reference) => {
      const value = reference.constant?.value;
      if (reference.constant !== undefined && typeof value !== 'symbol') return JSON.stringify(toText(value));
      if (reference.kind === 'string') return reference.code;
      return `${context.helper('toText')}(${reference.code})`;
    });
    return `(${parts.join(' + ')})`;
  });
  return computed(code, 'string');
}

/** `min`, `max`, `merge`, `substr` and `log`, which call a builtin or a runtime helper. */
export function emitHelperCall(context: EmitContext, operation: OperationNode, scope: FunctionScope): Expression {
  const operands = context.operands(operation, scope);
  const list = (references: Expression[]): string => references.map((reference) => reference.code).join(', ');

  switch (operation.name) {
    case 'min':
    case 'max': {
      const math = context.helper(operation.name === 'min' ? 'mathMin' : 'mathMax');
      return computed(`${math}(${list(operands)})`, 'number');
    }
    case 'merge':
      return computed(`[].concat(${list(operands)})`, 'array');
    case 'substr': {
      const substring = context.helper('substring');
      return computed(context.combine(scope, operands, 3, false, (references) => `${substring}(${list(references)})`), 'string');
    }
    default: {
      const logValue = context.helper('logValue');
      const [operand = UNDEFINED_EXPRESSION] = operands;
      const code = context.combine(scope, operands, 1, false, (references) => `${logValue}(${list(references)})`);
      return computed(code, operand.kind, operand.defined);
    }
  }
}

/**
 * Returns code for parseFloat(operand). When `normaliseZero` is false the caller adds the
 * result to a sum that starts at 0, which already turns -0 into 0.
 */
function floatOperand(context: EmitContext, operand: Expression, normaliseZero: boolean): string {
  const value = operand.constant?.value;
  if (typeof value === 'number' || typeof value === 'string') return context.numberSource(toFloat(value));
  if (operand.kind === 'number') return normaliseZero ? `(0 + ${operand.code})` : operand.code;
  return `${context.helper('toFloat')}(${operand.code})`;
}
