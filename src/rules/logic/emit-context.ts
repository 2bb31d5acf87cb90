import type { Expression } from './expression.js';
import type { FunctionScope } from './function-scope.js';
import type { OperationNode } from './operation-node.js';
import type { RuntimeHelperName } from './runtime.js';

/** Builds the code of a combine() call from the operands, which are padded to the arity. */
export type BuildCode = (operands: Expression[]) => string;

/** The parts of the code generator that the emitters of single operators use. */
export interface EmitContext {
  /** Generates code that evaluates `node` to its JSON Logic value. */
  value(node: unknown, pointer: string, scope: FunctionScope): Expression;
  /** Generates a boolean expression that is the JSON Logic truthiness of `node`. */
  test(node: unknown, pointer: string, scope: FunctionScope): string;
  /** Generates the evaluated arguments of an operation, with holes read as undefined. */
  operands(operation: OperationNode, scope: FunctionScope): Expression[];
  combine(scope: FunctionScope, operands: Expression[], arity: number, bind: boolean, build: BuildCode): string;
  /** Returns a boolean expression with the JSON Logic truthiness of `operand`, evaluating it once. */
  truthiness(operand: Expression): string;
  literal(value: unknown): Expression;
  /** Returns the name of a new constant bound to `value`. */
  constant(value: unknown): string;
  numberSource(value: number): string;
  /** Returns the local name of a runtime helper. */
  helper(name: RuntimeHelperName): string;
  /** Returns the name of the constant bound to the evaluator of rules found in data at run time. */
  evaluator(): string;
  /** Declares a function in the generated source and returns its name. */
  declareFunction(prefix: string, source: string): string;
  /** Declares a function of one data argument that evaluates `node`, and returns its name. */
  elementFunction(node: unknown, pointer: string, mode: 'value' | 'test'): string;
  /** Throws for an unknown operator in arguments that are never evaluated. */
  rejectUnknownOperators(node: unknown, pointer: string): void;
}
