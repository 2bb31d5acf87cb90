/**
 * Tracing a condition: which sub-expressions were evaluated, to what, and which of them decided the result. Each
 * sub-expression is compiled on its own with the engine the hub uses and evaluated on the same rule data, so the
 * values shown are the values the hub computes. JSON Logic has no side effects apart from `log`, so evaluating a
 * sub-expression alone gives the value it has inside the whole condition.
 */
import { argumentPointer, compileLogic, readOperation, truthy, type CompiledLogic, type LogicOperation } from './logic/index.js';

/** The part a sub-expression played in its parent's value. */
export type TraceRole =
  /** It fixed the outcome: the operand that stopped `and`/`or`, the condition and branch `if` took, an operand of `!`. */
  | 'decisive'
  /** It was evaluated and its value fed the parent. */
  | 'evaluated'
  /** The engine never evaluated it, because `and`, `or` or `if` stopped before it. */
  | 'skipped';

/** One operation of the condition with its value. */
export interface TraceNode {
  /** JSON pointer of the operation inside the condition, '' for the whole condition. */
  pointer: string;
  /** The operation as written. */
  expression: unknown;
  operator: string;
  role: TraceRole;
  /** The value, when the node was evaluated without error. */
  value?: unknown;
  /** The error message, when evaluating the node threw. */
  error?: string;
  /** Set on map, filter, reduce, all, some and none: their per-element bodies run on each element, which is not traced. */
  bodyNotTraced?: true;
  children: TraceNode[];
}

export interface ConditionTrace {
  /** True when the condition's value is truthy, as the router decides (an empty array is false). */
  matched: boolean;
  value?: unknown;
  error?: string;
  /** The root operation, or null when the condition is a literal such as `true`. */
  root: TraceNode | null;
}

const iterationOperators = new Set(['map', 'filter', 'reduce', 'all', 'none', 'some']);

/**
 * Evaluates `condition` on `data` and each of its operations with it, and returns the trace. Operations inside the
 * body of an iteration operator are not traced, because they run once per element on that element.
 * `operations` must be the hub operations the rule set was compiled with.
 */
export function explainCondition(
  condition: unknown,
  data: unknown,
  operations: Readonly<Record<string, LogicOperation>>,
): ConditionTrace {
  const tracer = new ConditionTracer(data, operations);
  const whole = tracer.evaluate(condition);
  const root = readOperation(condition, '') === undefined ? null : tracer.trace(condition, '', 'decisive');
  if ('error' in whole) return { matched: false, error: whole.error, root };
  return { matched: truthy(whole.value), value: whole.value, root };
}

type Outcome = { value: unknown } | { error: string };

class ConditionTracer {
  private readonly compiled = new WeakMap<object, CompiledLogic>();

  constructor(
    private readonly data: unknown,
    private readonly operations: Readonly<Record<string, LogicOperation>>,
  ) {}

  evaluate(node: unknown): Outcome {
    try {
      let evaluate = typeof node === 'object' && node !== null ? this.compiled.get(node) : undefined;
      if (evaluate === undefined) {
        evaluate = compileLogic(node, { operations: this.operations });
        if (typeof node === 'object' && node !== null) this.compiled.set(node, evaluate);
      }
      return { value: evaluate(this.data) };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  }

  trace(node: unknown, pointer: string, role: TraceRole): TraceNode {
    const operation = readOperation(node, pointer)!;
    const result: TraceNode = { pointer, expression: node, operator: operation.name, role, children: [] };
    if (role === 'skipped') return result;

    Object.assign(result, this.evaluate(node));
    const roles = this.childRoles(operation.name, operation.args);
    if (iterationOperators.has(operation.name)) result.bodyNotTraced = true;

    operation.args.forEach((arg, index) => {
      const childRole = roles[index];
      if (childRole === undefined) return;
      result.children.push(...this.traceArgument(arg, argumentPointer(operation, index), childRole));
    });
    return result;
  }

  /** Traces the operations in one argument: the argument itself, or the operations among an array's elements. */
  private traceArgument(arg: unknown, pointer: string, role: TraceRole): TraceNode[] {
    if (readOperation(arg, pointer) !== undefined) return [this.trace(arg, pointer, role)];
    if (!Array.isArray(arg)) return [];
    const nodes: TraceNode[] = [];
    arg.forEach((element, index) => nodes.push(...this.traceArgument(element, `${pointer}/${index}`, role)));
    return nodes;
  }

  /**
   * Returns the role of each argument, or undefined for arguments that are not traced: `var` paths, and the
   * bodies of iteration operators.
   */
  private childRoles(operator: string, args: readonly unknown[]): (TraceRole | undefined)[] {
    switch (operator) {
      case 'and':
      case 'or':
        return this.logicalRoles(operator, args);
      case 'if':
      case '?:':
        return this.conditionalRoles(args);
      case '!':
      case '!!':
        return args.map((_, index) => (index === 0 ? 'decisive' : 'evaluated'));
      case 'var':
        // A computed path is evaluated; a literal path is shown in the expression itself.
        return args.map(() => 'evaluated');
      default:
        if (iterationOperators.has(operator)) return args.map((_, index) => (index === 0 || (operator === 'reduce' && index === 2) ? 'evaluated' : undefined));
        return args.map(() => 'evaluated');
    }
  }

  /** `and` stops at its first falsy operand and `or` at its first truthy one; the last operand decides otherwise. */
  private logicalRoles(operator: 'and' | 'or', args: readonly unknown[]): TraceRole[] {
    const roles: TraceRole[] = [];
    let decided = false;
    args.forEach((arg, index) => {
      if (decided) {
        roles.push('skipped');
        return;
      }
      const outcome = this.evaluate(arg);
      const stops = 'error' in outcome || (operator === 'and' ? !truthy(outcome.value) : truthy(outcome.value));
      if (stops || index === args.length - 1) {
        decided = true;
        roles.push('decisive');
      } else {
        roles.push('evaluated');
      }
    });
    return roles;
  }

  /** `if` tests its conditions in order and evaluates the branch of the first truthy one, or the else value. */
  private conditionalRoles(args: readonly unknown[]): TraceRole[] {
    const roles: TraceRole[] = args.map(() => 'skipped');
    let index = 0;
    for (; index < args.length - 1; index += 2) {
      const outcome = this.evaluate(args[index]);
      if ('error' in outcome) {
        roles[index] = 'decisive';
        return roles;
      }
      if (truthy(outcome.value)) {
        roles[index] = 'decisive';
        roles[index + 1] = 'decisive';
        return roles;
      }
      roles[index] = 'evaluated';
    }
    if (index === args.length - 1) roles[index] = 'decisive';
    return roles;
  }
}
