import type { BuildCode, EmitContext } from './emit-context.js';
import { emitConditional, emitIteration, emitLogical, emitLogicalTest, emitNegation } from './emit-control-flow.js';
import { emitMissing, emitMissingSome, emitMissingTest, emitVariable } from './emit-data-access.js';
import {
  emitBetween,
  emitBinary,
  emitConcatenation,
  emitHelperCall,
  emitMembership,
  emitProduct,
  emitSubtraction,
  emitSum,
} from './emit-operators.js';
import {
  computed,
  isPrimitive,
  kindOf,
  literalSource,
  sequence,
  UNDEFINED_EXPRESSION,
  type Expression,
} from './expression.js';
import { FunctionScope } from './function-scope.js';
import { argumentPointer, readOperation, type OperationNode } from './operation-node.js';
import { METHOD_OPERATOR, STANDARD_OPERATORS } from './operators.js';
import { findSharedPrefixes, mayChangeData } from './path-prefixes.js';
import { runtimeHelpers, truthy, type NestedEvaluator, type RuntimeHelperName } from './runtime.js';

/** A function of one data argument, the shape of every compiled rule. */
export type GeneratedFunction = (data: unknown) => unknown;

/**
 * Generates one JavaScript function for a rule and builds it with `new Function`.
 *
 * Rule values never become source text except through JSON.stringify (strings, object keys)
 * or String() of a finite number. Every other value, including hub operations, reaches the
 * generated code through a constants array. Arguments are evaluated left to right, and extra
 * arguments that json-logic-js evaluates but ignores are still evaluated when they could
 * have side effects or throw.
 *
 * Use one generator per rule.
 *
 * NOTE: building the function needs code generation from strings, so compilation throws
 * when Node runs with --disallow-code-generation-from-strings.
 */
export class LogicCodeGenerator implements EmitContext {
  private readonly constants: unknown[] = [];
  private readonly declarations: string[] = [];
  private readonly helpers = new Set<RuntimeHelperName>();
  private functionCount = 0;
  private evaluatorName: string | undefined;
  private shareLookups = false;

  constructor(
    private readonly operations: ReadonlyMap<string, (...args: unknown[]) => unknown>,
    private readonly evaluateNested: NestedEvaluator,
  ) {}

  generate(logic: unknown): GeneratedFunction {
    this.shareLookups = !mayChangeData(logic);
    const scope = this.newScope(logic);
    const body = this.value(logic, '', scope);

    const lines = ['"use strict";'];
    for (const name of this.helpers) lines.push(`const ${name} = h.${name};`);
    lines.push(...this.declarations);
    lines.push(`return function compiledLogic(data) { ${this.declarationSource(scope)}return ${body.code}; };`);

    const factory = new Function('k', 'h', lines.join('\n')) as (
      constants: unknown[],
      helpers: typeof runtimeHelpers,
    ) => GeneratedFunction;
    return factory(this.constants, runtimeHelpers);
  }

  value(node: unknown, pointer: string, scope: FunctionScope): Expression {
    if (Array.isArray(node)) return this.arrayLiteral(node, pointer, scope);
    const operation = readOperation(node, pointer);
    if (operation === undefined) return this.literal(node);
    return this.operationValue(operation, scope);
  }

  test(node: unknown, pointer: string, scope: FunctionScope): string {
    const operation = readOperation(node, pointer);
    switch (operation?.name) {
      case 'and':
        return emitLogicalTest(this, operation, scope, '&&');
      case 'or':
        return emitLogicalTest(this, operation, scope, '||');
      case 'if':
      case '?:':
        return emitConditional(this, operation, scope, 'test').code;
      case '!':
      case '!!':
        return emitNegation(this, operation, scope).code;
      case 'missing':
        return emitMissingTest(this, operation, scope) ?? this.truthiness(this.value(node, pointer, scope));
      default:
        return this.truthiness(this.value(node, pointer, scope));
    }
  }

  private operationValue(operation: OperationNode, scope: FunctionScope): Expression {
    switch (operation.name) {
      case 'var':
        return emitVariable(this, operation, scope);
      case 'missing':
        return emitMissing(this, operation, scope);
      case 'missing_some':
        return emitMissingSome(this, operation, scope);
      case 'if':
      case '?:':
        return emitConditional(this, operation, scope, 'value');
      case 'and':
        return emitLogical(this, operation, scope, '&&');
      case 'or':
        return emitLogical(this, operation, scope, '||');
      case '!':
      case '!!':
        return emitNegation(this, operation, scope);
      case 'map':
      case 'filter':
      case 'reduce':
      case 'all':
      case 'none':
      case 'some':
        return emitIteration(this, operation, scope);
      case '==':
      case '===':
      case '!=':
      case '!==':
      case '>':
      case '>=':
      case '%':
      case '/':
        return emitBinary(this, operation, scope);
      case '<':
      case '<=':
        return emitBetween(this, operation, scope);
      case 'in':
        return emitMembership(this, operation, scope);
      case '-':
        return emitSubtraction(this, operation, scope);
      case '+':
        return emitSum(this, operation, scope);
      case '*':
        return emitProduct(this, operation, scope);
      case 'cat':
        return emitConcatenation(this, operation, scope);
      case 'min':
      case 'max':
      case 'merge':
      case 'substr':
      case 'log':
        return emitHelperCall(this, operation, scope);
      default:
        return this.hubOperation(operation, scope);
    }
  }

  /** Calls a hub operation with the evaluated operands and `this` bound to the data, like add_operation. */
  private hubOperation(operation: OperationNode, scope: FunctionScope): Expression {
    const hubOperation = this.operations.get(operation.name);
    if (hubOperation === undefined) throw unknownOperatorError(operation);
    const name = this.constant(hubOperation);
    const operands = this.operands(operation, scope);
    const code = `${name}.call(${['data', ...operands.map((operand) => operand.code)].join(', ')})`;
    return computed(code, 'unknown', false);
  }

  rejectUnknownOperators(node: unknown, pointer: string): void {
    if (Array.isArray(node)) {
      node.forEach((element, index) => this.rejectUnknownOperators(element, `${pointer}/${index}`));
      return;
    }
    const operation = readOperation(node, pointer);
    if (operation === undefined) return;
    if (!STANDARD_OPERATORS.has(operation.name) && !this.operations.has(operation.name)) {
      throw unknownOperatorError(operation);
    }
    operation.args.forEach((arg, index) => this.rejectUnknownOperators(arg, argumentPointer(operation, index)));
  }

  // Literals, constants and declarations

  literal(value: unknown): Expression {
    const source = literalSource(value);
    const constant = isPrimitive(value) ? { value } : undefined;
    if (source !== undefined) {
      return { code: source, kind: kindOf(value), pure: true, defined: value !== undefined, repeatable: true, constant };
    }
    // Objects are shared with the rule, as json-logic-js returns them by reference.
    return { code: this.constant(value), kind: kindOf(value), pure: true, defined: true, repeatable: true, constant };
  }

  private arrayLiteral(node: unknown[], pointer: string, scope: FunctionScope): Expression {
    // map() keeps holes, so a sparse rule array stays sparse, as with json-logic-js.
    const elements = node.map((element, index) => this.value(element, `${pointer}/${index}`, scope));
    return {
      code: `[${elements.map((element) => element.code).join(', ')}]`,
      kind: 'array',
      pure: elements.every((element) => element.pure),
      defined: true,
      repeatable: false,
    };
  }

  constant(value: unknown): string {
    const index = this.constants.push(value) - 1;
    const name = `c${index}`;
    this.declarations.push(`const ${name} = k[${index}];`);
    return name;
  }

  numberSource(value: number): string {
    return literalSource(value) ?? this.constant(value);
  }

  helper(name: RuntimeHelperName): string {
    this.helpers.add(name);
    return name;
  }

  evaluator(): string {
    this.evaluatorName ??= this.constant(this.evaluateNested);
    return this.evaluatorName;
  }

  declareFunction(prefix: string, source: string): string {
    const name = `${prefix}${this.functionCount++}`;
    this.declarations.push(`const ${name} = ${source};`);
    return name;
  }

  elementFunction(node: unknown, pointer: string, mode: 'value' | 'test'): string {
    const scope = this.newScope(node);
    const code = mode === 'test' ? this.test(node, pointer, scope) : this.value(node, pointer, scope).code;
    return this.declareFunction('f', `function (data) { ${this.declarationSource(scope)}return ${code}; }`);
  }

  /**
   * Creates the scope of a generated function. Lookups in it share the reads of common path
   * prefixes, unless the rule may change the data while it runs.
   */
  private newScope(node: unknown): FunctionScope {
    return new FunctionScope(this.shareLookups ? findSharedPrefixes(node) : new Set());
  }

  /** Returns the `let` statement of a scope. Call it after the function body has been generated. */
  private declarationSource(scope: FunctionScope): string {
    return scope.declarationSource(scope.hasMemos() ? this.helper('unset') : '');
  }

  // Operands

  operands(operation: OperationNode, scope: FunctionScope): Expression[] {
    return Array.from(operation.args, (arg, index) => this.value(arg, argumentPointer(operation, index), scope));
  }

  /**
   * Combines the first `arity` operands with `build`, padding missing ones with undefined.
   * Operands beyond `arity` are evaluated for their side effects only. With `bind`, or when
   * such extra operands are impure, every non-repeatable operand is first stored in a
   * temporary variable so that evaluation stays in order and each operand runs once.
   */
  combine(scope: FunctionScope, operands: Expression[], arity: number, bind: boolean, build: BuildCode): string {
    const used: Expression[] = [];
    for (let index = 0; index < arity; index++) used.push(operands[index] ?? UNDEFINED_EXPRESSION);
    const extras = operands.slice(arity);
    if (!bind && extras.every((extra) => extra.pure)) return build(used);

    const steps: string[] = [];
    const references = used.map((operand): Expression => {
      if (operand.repeatable) return operand;
      const temporary = scope.newTemporary();
      steps.push(`${temporary} = ${operand.code}`);
      return { ...operand, code: temporary, repeatable: true };
    });
    for (const extra of extras) {
      if (!extra.pure) steps.push(extra.code);
    }
    return sequence(steps, build(references));
  }

  truthiness(operand: Expression): string {
    if (operand.constant !== undefined) return truthy(operand.constant.value) ? 'true' : 'false';
    switch (operand.kind) {
      case 'boolean':
        return operand.code;
      case 'number':
      case 'string':
      case 'nonArray':
        return `!!${operand.code}`;
      case 'object':
        return operand.pure ? 'true' : `(${operand.code}, true)`;
      case 'null':
      case 'undefined':
        return operand.pure ? 'false' : `(${operand.code}, false)`;
      case 'array':
        return `(${operand.code}.length !== 0)`;
      default:
        return `${this.helper('truthy')}(${operand.code})`;
    }
  }
}

function unknownOperatorError({ name, pointer }: OperationNode): Error {
  if (name === METHOD_OPERATOR) {
    return new Error(`operator "method" at ${pointer} is not supported; use a hub operation instead`);
  }
  return new Error(
    `unknown operator ${JSON.stringify(name)} at ${pointer}; use one of the JSON Logic operators or a hub operation`,
  );
}
