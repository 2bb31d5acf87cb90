/**
 * Operators of json-logic-js 2.0.5, which the compiler implements.
 * That release has no "method" operator. The compiler and the validator reject the name,
 * also as a hub operation, so that no rule can call methods of data values.
 */
export const STANDARD_OPERATORS: ReadonlySet<string> = new Set([
  '==',
  '===',
  '!=',
  '!==',
  '>',
  '>=',
  '<',
  '<=',
  '!!',
  '!',
  '%',
  'log',
  'in',
  'cat',
  'substr',
  '+',
  '*',
  '-',
  '/',
  'min',
  'max',
  'merge',
  'var',
  'missing',
  'missing_some',
  'if',
  '?:',
  'and',
  'or',
  'filter',
  'map',
  'reduce',
  'all',
  'none',
  'some',
]);

export const METHOD_OPERATOR = 'method';
