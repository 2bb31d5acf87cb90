import { findBlockedSegment, isWholeDataPath, splitPath } from './data-path.js';
import { appendPointer } from './json-pointer.js';
import { argumentPointer, readOperation, type OperationNode } from './operation-node.js';
import { METHOD_OPERATOR, STANDARD_OPERATORS } from './operators.js';

/** A problem found in a rule. */
export interface LogicProblem {
  /** RFC 6901 JSON pointer relative to the rule root, '' for the root itself. */
  pointer: string;
  message: string;
}

/**
 * Operand counts of the JSON Logic comparisons. json-logic-js 2.0.5 reads the first two operands and ignores the
 * rest, except that `<` and `<=` read a third as the upper end of a between test (`a < b < c`). With fewer operands
 * a missing one is undefined, so a comparison written with the wrong count silently tests something else.
 */
const comparisonOperandCounts: ReadonlyMap<string, readonly number[]> = new Map([
  ['==', [2]],
  ['===', [2]],
  ['!=', [2]],
  ['!==', [2]],
  ['>', [2]],
  ['>=', [2]],
  ['<', [2, 3]],
  ['<=', [2, 3]],
]);

export interface ValidateLogicOptions {
  /** Names of hub operations that rules may use besides the JSON Logic operators. */
  operations?: readonly string[];
}

/**
 * Checks a rule and returns every problem found, or [] for a valid rule. It reports unknown
 * operators, the unsupported "method" operator, objects with several keys, comparisons with the wrong
 * number of operands, malformed `var` arguments, and `var`, `missing` and `missing_some` paths with a
 * blocked segment ("__proto__", "constructor" or "prototype"), which never match.
 */
export function validateLogic(logic: unknown, options: ValidateLogicOptions = {}): LogicProblem[] {
  const problems: LogicProblem[] = [];
  const validator = new RuleValidator(new Set(options.operations ?? []), problems);
  validator.visit(logic, '');
  return problems;
}

class RuleValidator {
  constructor(
    private readonly hubOperations: ReadonlySet<string>,
    private readonly problems: LogicProblem[],
  ) {}

  visit(node: unknown, pointer: string): void {
    if (Array.isArray(node)) {
      node.forEach((element, index) => this.visit(element, appendPointer(pointer, index)));
      return;
    }
    if (typeof node !== 'object' || node === null) return;

    const operation = readOperation(node, pointer);
    if (operation !== undefined) {
      this.visitOperation(operation);
      return;
    }

    const keys = Object.keys(node);
    if (keys.length > 1) {
      const names = keys.map((key) => JSON.stringify(key)).join(', ');
      this.report(
        pointer,
        `object has ${keys.length} keys (${names}), so JSON Logic reads it as a literal value; give each operator its own object`,
      );
      // The keys are probably operators merged by mistake, so their arguments are checked too.
      for (const key of keys) this.visit((node as Record<string, unknown>)[key], appendPointer(pointer, key));
    }
  }

  private visitOperation(operation: OperationNode): void {
    const { name, pointer } = operation;
    if (name === METHOD_OPERATOR) {
      this.report(pointer, 'the "method" operator is not supported; use a hub operation instead');
    } else if (!STANDARD_OPERATORS.has(name) && !this.hubOperations.has(name)) {
      this.report(pointer, `unknown operator ${JSON.stringify(name)}; use one of the JSON Logic operators or a hub operation`);
    }

    if (comparisonOperandCounts.has(name)) this.checkComparison(operation);
    if (name === 'var') this.checkVar(operation);
    if (name === 'missing') this.checkMissing(operation);
    if (name === 'missing_some') this.checkMissingSome(operation);

    operation.args.forEach((arg, index) => this.visit(arg, argumentPointer(operation, index)));
  }

  private checkComparison(operation: OperationNode): void {
    const { name, args, pointer } = operation;
    const counts = comparisonOperandCounts.get(name) ?? [];
    if (counts.includes(args.length)) return;

    if (counts.includes(3)) {
      this.report(
        pointer,
        `${name} compares two values, or three as a between test, but got ${args.length}; write {"${name}": [a, b]} or {"${name}": [low, x, high]}`,
      );
    } else {
      this.report(pointer, `${name} compares two values, but got ${args.length}; write {"${name}": [a, b]}`);
    }
  }

  private checkVar(operation: OperationNode): void {
    const { args, pointer } = operation;
    if (args.length > 2) {
      this.report(pointer, `var takes a path and an optional default value, but got ${args.length} arguments`);
    }

    const path = args[0];
    const pathPointer = argumentPointer(operation, 0);
    if (isWholeDataPath(path)) return;
    if (typeof path === 'string') {
      this.checkPath(path, pathPointer, 'var');
      return;
    }
    if (typeof path === 'number') {
      if (!Number.isInteger(path) || path < 0) {
        this.report(pathPointer, `var path ${String(path)} is not a valid array index; use a non-negative integer or a string path`);
      }
      return;
    }
    if (readOperation(path, pathPointer) !== undefined) return;
    // An object with several keys is reported by visit().
    if (typeof path === 'object' && path !== null && !Array.isArray(path) && Object.keys(path).length > 1) return;
    this.report(
      pathPointer,
      `var path must be a string, a non-negative integer, null or an operation, but got ${describe(path)}`,
    );
  }

  private checkMissing(operation: OperationNode): void {
    const [first] = operation.args;
    if (Array.isArray(first)) {
      this.checkPathList(first, argumentPointer(operation, 0), 'missing');
      return;
    }
    operation.args.forEach((arg, index) => {
      if (typeof arg === 'string') this.checkPath(arg, argumentPointer(operation, index), 'missing');
    });
  }

  private checkMissingSome(operation: OperationNode): void {
    const keys = operation.args[1];
    if (Array.isArray(keys)) this.checkPathList(keys, argumentPointer(operation, 1), 'missing_some');
  }

  private checkPathList(paths: readonly unknown[], pointer: string, operator: string): void {
    paths.forEach((path, index) => {
      if (typeof path === 'string') this.checkPath(path, appendPointer(pointer, index), operator);
    });
  }

  private checkPath(path: string, pointer: string, operator: string): void {
    if (path === '') return;
    const segments = splitPath(path);
    const blocked = findBlockedSegment(segments);
    if (blocked !== undefined) {
      this.report(
        pointer,
        `${operator} path ${JSON.stringify(path)} contains the segment "${blocked}", which never matches because lookups read only own properties of the data`,
      );
    }
    if (operator === 'var' && segments.includes('')) {
      this.report(pointer, `var path ${JSON.stringify(path)} has an empty segment; remove the extra "."`);
    }
  }

  private report(pointer: string, message: string): void {
    this.problems.push({ pointer, message });
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object without keys';
  return `${typeof value} ${String(value)}`;
}
