import type { EmitContext } from './emit-context.js';
import {
  computed,
  hasJavaScriptTruthiness,
  unionKind,
  UNDEFINED_EXPRESSION,
  type Expression,
  type ValueKind,
} from './expression.js';
import type { FunctionScope } from './function-scope.js';
import { argumentPointer, type OperationNode } from './operation-node.js';

/** `if` and `?:`: pairs of condition and result, then an optional else value, or null. */
export function emitConditional(
  context: EmitContext,
  operation: OperationNode,
  scope: FunctionScope,
  mode: 'value' | 'test',
): Expression {
  const args = operation.args;
  const kinds: ValueKind[] = [];
  let defined = true;

  const branch = (index: number): string => {
    const pointer = argumentPointer(operation, index);
    if (mode === 'test') return context.test(args[index], pointer, scope);
    const result = context.value(args[index], pointer, scope);
    kinds.push(result.kind);
    defined &&= result.defined;
    return result.code;
  };
  const chain = (index: number): string => {
    if (index < args.length - 1) {
      const condition = context.test(args[index], argumentPointer(operation, index), scope);
      return `(${condition} ? ${branch(index + 1)} : ${chain(index + 2)})`;
    }
    if (index === args.length - 1) return branch(index);
    kinds.push('null');
    return mode === 'test' ? 'false' : 'null';
  };

  const code = chain(0);
  return computed(code, mode === 'test' ? 'boolean' : unionKind(kinds), defined);
}

/** `and` returns the first falsy operand or the last one, `or` the first truthy one or the last. */
export function emitLogical(
  context: EmitContext,
  operation: OperationNode,
  scope: FunctionScope,
  operator: '&&' | '||',
): Expression {
  const operands = context.operands(operation, scope);
  const last = operands.at(-1);
  if (last === undefined) return UNDEFINED_EXPRESSION;
  if (operands.length === 1) return last;

  let code = last.code;
  for (let index = operands.length - 2; index >= 0; index--) {
    const operand = operands[index] ?? UNDEFINED_EXPRESSION;
    if (hasJavaScriptTruthiness(operand.kind)) {
      code = `(${operand.code} ${operator} ${code})`;
      continue;
    }
    const temporary = scope.newTemporary();
    const condition = `${context.helper('truthy')}(${temporary} = ${operand.code})`;
    code = operator === '&&' ? `(${condition} ? ${code} : ${temporary})` : `(${condition} ? ${temporary} : ${code})`;
  }

  return {
    code,
    kind: unionKind(operands.map((operand) => operand.kind)),
    pure: operands.every((operand) => operand.pure),
    defined: operands.every((operand) => operand.defined),
    repeatable: false,
  };
}

/** In a boolean context only the truthiness of `and` and `or` matters, so the operands' tests can be joined with `&&` or `||`. */
export function emitLogicalTest(
  context: EmitContext,
  operation: OperationNode,
  scope: FunctionScope,
  operator: '&&' | '||',
): string {
  const tests = Array.from(operation.args, (arg, index) => context.test(arg, argumentPointer(operation, index), scope));
  return tests.length === 0 ? 'false' : `(${tests.join(` ${operator} `)})`;
}

/** `!` and `!!`. Extra operands are evaluated for their side effects only. */
export function emitNegation(context: EmitContext, operation: OperationNode, scope: FunctionScope): Expression {
  const negate = operation.name === '!';
  if (operation.args.length <= 1) {
    const test = context.test(operation.args[0], argumentPointer(operation, 0), scope);
    return computed(negate ? `(!${test})` : test, 'boolean');
  }

  const operands = context.operands(operation, scope);
  const code = context.combine(scope, operands, 1, false, ([operand = UNDEFINED_EXPRESSION]) => {
    const test = context.truthiness(operand);
    return negate ? `(!${test})` : test;
  });
  return computed(code, 'boolean');
}

/**
 * `map`, `filter`, `reduce`, `all`, `none` and `some`. The second argument is a rule that is
 * evaluated against each element, so it becomes its own function of one data argument.
 */
export function emitIteration(context: EmitContext, operation: OperationNode, scope: FunctionScope): Expression {
  const { name, args } = operation;
  const source = context.value(args[0], argumentPointer(operation, 0), scope);
  const bodyPointer = argumentPointer(operation, 1);
  // json-logic-js never evaluates later arguments, but an unknown operator there is still an error.
  for (let index = name === 'reduce' ? 3 : 2; index < args.length; index++) {
    context.rejectUnknownOperators(args[index], argumentPointer(operation, index));
  }

  const list = scope.newTemporary();
  const isArray = context.helper('isArray');
  const nonEmptyList = `${isArray}(${list} = ${source.code}) && ${list}.length !== 0`;

  switch (name) {
    case 'map': {
      const mapper = context.elementFunction(args[1], bodyPointer, 'value');
      return computed(`(${isArray}(${list} = ${source.code}) ? ${list}.map(${mapper}) : [])`, 'array');
    }
    case 'filter': {
      const predicate = context.elementFunction(args[1], bodyPointer, 'test');
      return computed(`(${isArray}(${list} = ${source.code}) ? ${list}.filter(${predicate}) : [])`, 'array');
    }
    case 'reduce': {
      const step = context.elementFunction(args[1], bodyPointer, 'value');
      const reducer = context.declareFunction(
        'r',
        `function (accumulator, current) { return ${step}({ current: current, accumulator: accumulator }); }`,
      );
      const initial =
        args[2] === undefined ? context.literal(null) : context.value(args[2], argumentPointer(operation, 2), scope);
      const start = scope.newTemporary();
      const reduced = `${isArray}(${list}) ? ${list}.reduce(${reducer}, ${start}) : ${start}`;
      return computed(`(${list} = ${source.code}, ${start} = ${initial.code}, ${reduced})`, 'unknown', false);
    }
    case 'all': {
      const loop = declareLoop(context, args[1], bodyPointer, (test) => `if (!${test}) return false;`, 'return true;');
      return computed(`(${nonEmptyList} ? ${loop}(${list}) : false)`, 'boolean');
    }
    case 'none': {
      const loop = declareLoop(context, args[1], bodyPointer, (test) => `if (${test}) return false;`, 'return true;');
      return computed(`(${nonEmptyList} ? ${loop}(${list}) : true)`, 'boolean');
    }
    default: {
      const loop = declareLoop(context, args[1], bodyPointer, (test) => `if (${test}) return true;`, 'return false;');
      return computed(`(${nonEmptyList} ? ${loop}(${list}) : false)`, 'boolean');
    }
  }
}

/**
 * Declares a loop over a list and returns its name. `check` builds the statement run for
 * each element from the element's test, and `after` runs when the loop ends.
 */
function declareLoop(
  context: EmitContext,
  node: unknown,
  pointer: string,
  check: (test: string) => string,
  after: string,
): string {
  const predicate = context.elementFunction(node, pointer, 'test');
  const body = check(`${predicate}(list[i])`);
  return context.declareFunction('loop', `function (list) { for (let i = 0; i < list.length; i++) { ${body} } ${after} }`);
}
