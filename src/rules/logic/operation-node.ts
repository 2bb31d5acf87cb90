import { appendPointer } from './json-pointer.js';

/** An operator object of a rule, such as `{"var": ["a", 1]}`. */
export interface OperationNode {
  name: string;
  /** Arguments as written. A single non-array argument is wrapped in an array, as json-logic-js does. */
  args: unknown[];
  /** JSON pointer to the operator's value, for example "/and/1/var". */
  pointer: string;
  /** Whether the arguments were written as an array, which decides the pointers of arguments. */
  listed: boolean;
}

/**
 * Reads `node` as an operator object, or returns undefined when it is not one. Like
 * json-logic-js, only a non-array object with exactly one own enumerable key is an operator.
 * Objects with no key or several keys are literal values.
 */
export function readOperation(node: unknown, pointer: string): OperationNode | undefined {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
  const keys = Object.keys(node);
  const name = keys[0];
  if (keys.length !== 1 || name === undefined) return undefined;

  const value = (node as Record<string, unknown>)[name];
  const listed = Array.isArray(value);
  return { name, args: listed ? value : [value], pointer: appendPointer(pointer, name), listed };
}

export function argumentPointer(operation: OperationNode, index: number): string {
  return operation.listed ? appendPointer(operation.pointer, index) : operation.pointer;
}
