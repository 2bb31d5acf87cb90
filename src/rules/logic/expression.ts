/**
 * Type of a value as far as it is known at compile time. Kinds other than 'array' and
 * 'unknown' have the same truthiness in JavaScript and JSON Logic, so `&&` and `||` can
 * test them directly.
 */
export type ValueKind =
  | 'boolean'
  | 'number'
  | 'string'
  | 'null'
  | 'undefined'
  | 'object'
  | 'array'
  | 'nonArray'
  | 'unknown';

/** A generated JavaScript expression, with the facts about its value that are known at compile time. */
export interface Expression {
  /** Source text, parenthesised where needed so that it can be an operand of any operator. */
  code: string;
  kind: ValueKind;
  /** Evaluation has no side effects and cannot throw, so it may be skipped or reordered. */
  pure: boolean;
  /** The value is never undefined. */
  defined: boolean;
  /** The code is a literal or a constant name, so it may be repeated at no cost. */
  repeatable: boolean;
  /** The primitive value, when it is known at compile time. */
  constant?: { value: unknown };
}

export const UNDEFINED_EXPRESSION: Expression = {
  code: '(void 0)',
  kind: 'undefined',
  pure: true,
  defined: false,
  repeatable: true,
  constant: { value: undefined },
};

export function hasJavaScriptTruthiness(kind: ValueKind): boolean {
  return kind !== 'array' && kind !== 'unknown';
}

/** Returns the kind that covers every kind in the list. */
export function unionKind(kinds: readonly ValueKind[]): ValueKind {
  const first = kinds[0];
  if (first === undefined) return 'undefined';
  if (kinds.every((kind) => kind === first)) return first;
  return kinds.every(hasJavaScriptTruthiness) ? 'nonArray' : 'unknown';
}

export function isPrimitive(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function');
}

/** Returns the kind of a value known at compile time. */
export function kindOf(value: unknown): ValueKind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    case 'undefined':
      return 'undefined';
    case 'object':
      return 'object';
    default:
      return 'nonArray';
  }
}

/**
 * Returns JavaScript source for a string, finite number, boolean, null or undefined, or
 * undefined for any other value. JSON.stringify output is a valid JavaScript string literal.
 */
export function literalSource(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) return undefined;
      if (Object.is(value, -0)) return '(-0)';
      return value < 0 ? `(${String(value)})` : String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return '(void 0)';
    default:
      return value === null ? 'null' : undefined;
  }
}

/** Returns an expression whose evaluation may have side effects or throw. */
export function computed(code: string, kind: ValueKind, defined = true): Expression {
  return { code, kind, pure: false, defined, repeatable: false };
}

/** Joins steps and a final expression with the comma operator. */
export function sequence(steps: readonly string[], result: string): string {
  return steps.length === 0 ? result : `(${steps.join(', ')}, ${result})`;
}

export function impureCodes(operands: readonly Expression[]): string[] {
  return operands.filter((operand) => !operand.pure).map((operand) => operand.code);
}
