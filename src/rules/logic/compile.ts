import { LogicCodeGenerator } from './code-generator.js';
import { METHOD_OPERATOR, STANDARD_OPERATORS } from './operators.js';
import type { NestedEvaluator } from './runtime.js';

/** A hub operation. It receives the evaluated arguments, with `this` bound to the data. */
export type LogicOperation = (...args: unknown[]) => unknown;

/** A compiled rule: evaluates the rule against one data value. */
export type CompiledLogic = (data: unknown) => unknown;

export interface CompileLogicOptions {
  /** Hub operations by operator name. Names of standard operators and "method" are rejected. */
  operations?: Readonly<Record<string, LogicOperation>>;
}

/**
 * Compiles a JSON Logic rule into a JavaScript function, to be evaluated many times.
 *
 * The function returns what json-logic-js 2.0.5 `apply(logic, data)` returns, with these
 * deliberate differences:
 * - `var`, `missing` and `missing_some` read own properties only, array indexes included.
 *   Path segments "__proto__", "constructor" and "prototype" always resolve to the default.
 * - Unknown operators and "method" throw here, at compile time, even in branches that
 *   evaluation would never reach. The error message names the operator and its JSON pointer.
 * - An operator name with dots is only looked up whole. json-logic-js also follows the dots
 *   through properties of its operations, so that it runs `{"substr.prototype.constructor": ["abc", 1]}`.
 *
 * NOTE: unless a rule contains `log`, a hub operation or `missing` with computed keys, a path
 * prefix that several lookups share is read once per evaluation. Getters or proxies in the
 * data that return a different value on each read can then give other results than
 * json-logic-js. Plain JSON data cannot.
 *
 * Throws a TypeError when a hub operation is not a function, and an Error when its name is
 * that of a standard operator or "method".
 */
export function compileLogic(logic: unknown, options: CompileLogicOptions = {}): CompiledLogic {
  const operations = readOperations(options.operations);
  // `missing` and `missing_some` can meet rules inside data values, compiled when they do.
  const evaluateNested: NestedEvaluator = (nested, data) => compileLogic(nested, options)(data);
  return new LogicCodeGenerator(operations, evaluateNested).generate(logic);
}

function readOperations(operations: CompileLogicOptions['operations']): Map<string, LogicOperation> {
  const table = new Map<string, LogicOperation>();
  if (operations === undefined) return table;

  for (const name of Object.keys(operations)) {
    if (STANDARD_OPERATORS.has(name) || name === METHOD_OPERATOR) {
      throw new Error(`hub operation ${JSON.stringify(name)} has the name of a reserved JSON Logic operator; choose another name`);
    }
    const operation: unknown = operations[name];
    if (typeof operation !== 'function') {
      throw new TypeError(`hub operation ${JSON.stringify(name)} must be a function, but it is ${typeof operation}`);
    }
    table.set(name, operation as LogicOperation);
  }
  return table;
}
