import fc from 'fast-check';
import jsonLogic from 'json-logic-js';
import { afterEach, describe, it, expect, vi } from 'vitest';
import { compileLogic, type CompiledLogic, type LogicOperation } from '../../src/rules/logic/index.js';

const applyReference = jsonLogic.apply as (logic: unknown, data?: unknown) => unknown;

type Outcome = { threw: false; value: unknown } | { threw: true; error: unknown };

function outcome(evaluate: () => unknown): Outcome {
  try {
    return { threw: false, value: evaluate() };
  } catch (error) {
    return { threw: true, error };
  }
}

/**
 * Compiles `rule` once and asserts, for each data value, that json-logic-js and the compiled
 * rule both throw or both return equal values.
 */
function expectSameOutcome(rule: unknown, ...dataValues: unknown[]): void {
  const compiled = outcome(() => compileLogic(rule));
  for (const data of dataValues) {
    const reference = outcome(() => applyReference(rule, data));
    const actual = compiled.threw ? compiled : outcome(() => (compiled.value as CompiledLogic)(data));
    expect(actual.threw, `threw: ${JSON.stringify(rule)}`).toBe(reference.threw);
    if (!reference.threw && !actual.threw) {
      expect(actual.value, `result: ${JSON.stringify(rule)}`).toStrictEqual(reference.value);
    }
  }
}

// Data keys avoid names inherited from prototypes, where the compiled rules deliberately
// differ from json-logic-js. "length" is an own property of arrays and strings.
const DATA_KEYS = ['a', 'b', 'c', '0', '1', 'current', 'accumulator'];
const PATHS: unknown[] = ['', null, 'a', 'b', 'c', 'a.b', 'a.0', 'b.c.a', '0', '1', 0, 1, 'a.length', 'x', 'a.x.b', 'current', 'accumulator', 'a..b'];

const scalar = fc.oneof(
  fc.integer({ min: -3, max: 10 }),
  fc.constantFrom(0.5, -0, -1.5, 1e21, 2 ** 53),
  fc.constantFrom('', '0', '1', '2.5', ' 3 ', 'a', 'abc', 'A', 'true', 'a.b'),
  fc.boolean(),
  fc.constant(null),
);

const { value: dataValue } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 3 }, scalar, tie('list'), tie('record')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  record: fc.dictionary(fc.constantFrom(...DATA_KEYS), tie('value'), { maxKeys: 5 }),
}));

const data = fc.oneof(fc.dictionary(fc.constantFrom(...DATA_KEYS), dataValue, { maxKeys: 6 }), dataValue);

const VALUE_OPERATORS = [
  '==', '===', '!=', '!==', '>', '>=', '<', '<=', '!', '!!', '%', 'in', 'cat', 'substr', '+', '*', '-', '/',
  'min', 'max', 'merge', 'if', '?:', 'and', 'or', 'missing', 'missing_some', 'var',
];
const SCOPED_OPERATORS = ['map', 'filter', 'reduce', 'all', 'none', 'some'];

const literal = fc.oneof(scalar, fc.constantFrom<unknown>([], {}, { a: 1, b: 2 }));
const path = fc.constantFrom(...PATHS);

const { rule } = fc.letrec((tie) => ({
  rule: fc.oneof(
    { depthSize: 'medium', maxDepth: 5 },
    { arbitrary: literal, weight: 2 },
    { arbitrary: tie('lookup'), weight: 3 },
    { arbitrary: tie('operation'), weight: 5 },
    { arbitrary: tie('scoped'), weight: 1 },
    { arbitrary: tie('missing'), weight: 1 },
    { arbitrary: tie('list'), weight: 1 },
  ),
  list: fc.array(tie('rule'), { maxLength: 3 }),
  lookup: fc.oneof(
    path.map((lookupPath) => ({ var: lookupPath })),
    fc.tuple(path, tie('rule')).map(([lookupPath, fallback]) => ({ var: [lookupPath, fallback] })),
    tie('rule').map((dynamicPath) => ({ var: dynamicPath })),
  ),
  operation: fc
    .tuple(fc.constantFrom(...VALUE_OPERATORS), fc.oneof(fc.array(tie('rule'), { maxLength: 4 }), tie('rule')))
    .map(([operator, args]) => ({ [operator]: args })),
  scoped: fc
    .tuple(fc.constantFrom(...SCOPED_OPERATORS), tie('rule'), tie('rule'), fc.option(tie('rule'), { nil: undefined }))
    .map(([operator, source, body, initial]) => ({ [operator]: initial === undefined ? [source, body] : [source, body, initial] })),
  missing: fc.oneof(
    fc.array(path, { maxLength: 3 }).map((paths) => ({ missing: paths })),
    fc.array(path, { maxLength: 3 }).map((paths) => ({ missing: [paths] })),
    fc.tuple(fc.integer({ min: 0, max: 3 }), fc.array(path, { maxLength: 3 })).map(([count, paths]) => ({ missing_some: [count, paths] })),
  ),
}));

describe('compiled rules match json-logic-js', () => {
  it('agrees on generated rules and data', () => {
    // Each compiled rule runs on two data values, which also catches state kept between calls.
    fc.assert(
      fc.property(rule, data, data, (generatedRule, firstData, secondData) => {
        expectSameOutcome(generatedRule, firstData, secondData);
      }),
      { numRuns: 4000 },
    );
  });

  it('agrees on generated boolean conditions', () => {
    const condition = fc
      .tuple(fc.constantFrom('and', 'or', '!', '!!', 'if'), fc.array(rule, { maxLength: 4 }))
      .map(([operator, args]) => ({ '!': { [operator]: args } }));
    fc.assert(
      fc.property(condition, data, (generatedRule, generatedData) => {
        expectSameOutcome(generatedRule, generatedData);
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    ['between with an undefined bound', { '<': [1, 2, { and: [] }] }, {}],
    ['between with three literals', { '<=': [1, 1, 2] }, {}],
    ['subtraction of undefined', { '-': [5, { var: '' }] }, undefined],
    ['product of one string', { '*': ['3'] }, {}],
    ['product of negative zero', { '*': [-1, 0, 5] }, {}],
    ['product without arguments', { '*': [] }, {}],
    ['sum of numeric strings', { '+': ['1.5', ' 2', 'x'] }, {}],
    ['unary plus of negative zero', { '+': [-0] }, {}],
    ['concatenation of null and arrays', { cat: [null, [1, [2, 3]], undefined, 1e21, -0] }, {}],
    ['substring with negative length', { substr: ['jsonlogic', 2, -2] }, {}],
    ['membership in a long list', { in: [{ var: 'a' }, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, '11']] }, { a: '11' }],
    ['membership of NaN', { in: [{ '/': [0, 0] }, [1, { '/': [0, 0] }]] }, {}],
    ['membership of NaN in a literal list', { in: [{ '/': [0, 0] }, [1, NaN]] }, {}],
    ['membership of NaN in a long list', { in: [{ '/': [0, 0] }, [1, 2, 3, 4, 5, 6, 7, 8, 9, NaN]] }, {}],
    ['membership of negative zero', { in: [-0, [1, 0]] }, {}],
    ['membership in a string', { in: ['Spring', { var: 'a' }] }, { a: 'Springfield' }],
    ['membership in a number', { in: [1, 5] }, {}],
    ['and without arguments', { and: [] }, {}],
    ['or returning an empty array', { or: [0, []] }, {}],
    ['if without an else', { if: [false, 1] }, {}],
    ['if with one argument', { if: [[]] }, {}],
    ['reduce without an initial value', { reduce: [[1, 2], { var: 'accumulator' }] }, {}],
    ['reduce over a non-array', { reduce: [5, { var: 'current' }, 7] }, {}],
    ['map with no body', { map: [[1, 2]] }, {}],
    ['all of an empty list', { all: [[], true] }, {}],
    ['none of an empty list', { none: [[], true] }, {}],
    ['missing with an array first', { missing: [['a', 'b'], 'c'] }, { a: 1 }],
    ['missing of the whole data', { missing: [''] }, null],
    ['missing with keys from data', { missing: { var: 'keys' } }, { keys: ['a', 'b'], a: '' }],
    ['missing with a rule as a key', { missing: { var: 'keys' } }, { keys: [{ var: 'name' }], name: 'a', a: null }],
    ['missing_some with rules as keys', { missing_some: [1, { var: 'keys' }] }, { keys: [{ cat: ['a', 'b'] }], ab: 1 }],
    ['missing_some with a string', { missing_some: [1, 'abc'] }, { abc: 1 }],
    ['missing_some with null keys', { missing_some: [1, null] }, {}],
    ['var with a rule as the path', { var: { cat: ['a', '.', 'b'] } }, { a: { b: 4 } }],
    ['var with an object path', { var: [{ x: 1, y: 2 }] }, { '[object Object]': 3 }],
    ['var of a string index', { var: 'a.1' }, { a: 'xyz' }],
    ['var with a null value and a default', { var: ['a', 5] }, { a: null }],
    ['var through a null value', { var: ['a.b', 5] }, { a: null }],
    ['literal object with two keys', { in: [{ a: 1, b: 2 }, [1]] }, {}],
    ['sparse rule array', [1, , 3], {}], // eslint-disable-line no-sparse-arrays
  ])('agrees on %s', (_name, fixedRule, fixedData) => {
    expectSameOutcome(fixedRule, fixedData);
  });
});

describe('compiled rules and side effects', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    jsonLogic.rm_operation('record');
  });

  it('log writes like json-logic-js', () => {
    const output = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const logRule = { '==': [{ log: { var: 'a' } }, 1, { log: 'extra' }] };

    const reference = applyReference(logRule, { a: 1 });
    const referenceOutput = output.mock.calls.map((call) => call[0]);
    output.mockClear();
    const compiled = compileLogic(logRule)({ a: 1 });

    expect(compiled).toBe(reference);
    expect(output.mock.calls.map((call) => call[0])).toStrictEqual(referenceOutput);
    expect(referenceOutput).toStrictEqual([1, 'extra']);
  });

  it('hub operations match add_operation', () => {
    const calls: unknown[][] = [];
    const record: LogicOperation = function (this: unknown, ...args: unknown[]) {
      calls.push([this, ...args]);
      return args.length;
    };
    jsonLogic.add_operation('record', record);
    const hubRule = { and: [{ record: [{ var: 'a' }, { '+': [1, 2] }] }, { record: 'single' }, { or: [true, { record: [] }] }] };
    const hubData = { a: 7 };

    const reference = applyReference(hubRule, hubData);
    const referenceCalls = calls.splice(0);
    const compiled = compileLogic(hubRule, { operations: { record } })(hubData);

    expect(compiled).toBe(reference);
    expect(calls).toStrictEqual(referenceCalls);
    expect(referenceCalls).toStrictEqual([
      [hubData, 7, 3],
      [hubData, 'single'],
    ]);
  });

  it('and, or and if skip unreached operands', () => {
    const probe = vi.fn(() => true);
    const operations = { probe };
    const rules = [
      { and: [false, { probe: [] }] },
      { or: [1, { probe: [] }] },
      { if: [true, 'yes', { probe: [] }] },
      { if: [false, { probe: [] }, 'no'] },
      { '?:': [[], { probe: [] }, 0] },
      { some: [[1, 2], { '==': [{ var: '' }, 1] }, { probe: [] }] },
    ];
    for (const shortRule of rules) compileLogic(shortRule, { operations })({});
    expect(probe).not.toHaveBeenCalled();
  });

  it('all stops at the first falsy element', () => {
    const seen: unknown[] = [];
    const see: LogicOperation = (value) => {
      seen.push(value);
      return value;
    };
    const allRule = { all: [[1, 0, 2], { see: { var: '' } }] };
    expect(compileLogic(allRule, { operations: { see } })({})).toBe(false);
    expect(seen).toStrictEqual([1, 0]);
  });

  it('hub operation may change data between lookups', () => {
    const replaceListing: LogicOperation = function (this: { listing: unknown }) {
      this.listing = { price: 2, city: 'Nepean' };
      return true;
    };
    jsonLogic.add_operation('record', replaceListing);
    const changingRule = { cat: [{ var: 'listing.price' }, { record: [] }, { var: 'listing.price' }, { var: 'listing.city' }] };

    const reference = applyReference(changingRule, { listing: { price: 1, city: 'Ottawa' } });
    const compiled = compileLogic(changingRule, { operations: { record: replaceListing } });

    expect(compiled({ listing: { price: 1, city: 'Ottawa' } })).toBe(reference);
    expect(reference).toBe('1true2Nepean');
  });

  it('shared path prefixes are read per call', () => {
    const compiled = compileLogic({ cat: [{ var: 'listing.price' }, '/', { var: 'listing.city' }] });
    expect(compiled({ listing: { price: 1, city: 'Ottawa' } })).toBe('1/Ottawa');
    expect(compiled({ listing: { price: 2 } })).toBe('2/');
    expect(compiled({ listing: null })).toBe('/');
    expect(compiled({})).toBe('/');
  });

  it('unused operands are still evaluated', () => {
    const seen: unknown[] = [];
    const see: LogicOperation = (value) => {
      seen.push(value);
      return value;
    };
    const compiled = compileLogic({ '!': [false, { see: 'second' }, { see: 'third' }] }, { operations: { see } });
    expect(compiled({})).toBe(true);
    expect(seen).toStrictEqual(['second', 'third']);
  });

  it('compiled rule is reusable', () => {
    const compiled = compileLogic({ map: [{ var: 'xs' }, { '*': [{ var: '' }, 2] }] });
    expect(compiled({ xs: [1, 2] })).toStrictEqual([2, 4]);
    expect(compiled({ xs: [3] })).toStrictEqual([6]);
    expect(compiled({})).toStrictEqual([]);
  });

  it('returned arrays are fresh', () => {
    const compiled = compileLogic([1, { merge: [[2], 3] }]);
    const first = compiled({}) as unknown[];
    first.push('changed');
    expect(compiled({})).toStrictEqual([1, [2, 3]]);
  });
});

describe('deliberate differences from json-logic-js', () => {
  it.each([
    ['__proto__', { var: '__proto__' }, {}],
    ['constructor', { var: 'constructor' }, {}],
    ['a.constructor.name', { var: 'a.constructor.name' }, { a: {} }],
    ['prototype', { var: 'f.prototype' }, { f: function named() {} }],
    ['toString', { var: 'toString' }, {}],
    ['array method', { var: 'list.map' }, { list: [1] }],
    ['own __proto__ key', { var: 'x.__proto__.y' }, { x: JSON.parse('{"__proto__": {"y": 1}}') as unknown }],
    ['dynamic __proto__', { var: { cat: ['__pro', 'to__'] } }, {}],
  ])('var of %s returns null', (_name, lookupRule, lookupData) => {
    expect(compileLogic(lookupRule)(lookupData)).toBeNull();
  });

  it('var of a blocked path returns the default', () => {
    expect(compileLogic({ var: ['__proto__', 'fallback'] })({})).toBe('fallback');
    expect(compileLogic({ var: [{ cat: ['constructor'] }, 'fallback'] })({})).toBe('fallback');
  });

  it('var reads own array indexes and length', () => {
    const listData = { list: ['x', 'y'] };
    expect(compileLogic({ var: 'list.1' })(listData)).toBe('y');
    expect(compileLogic({ var: 'list.length' })(listData)).toBe(2);
    expect(compileLogic({ var: ['list.2', 'none'] })(listData)).toBe('none');
  });

  it('missing reports blocked paths', () => {
    expect(compileLogic({ missing: ['a', 'constructor', '__proto__'] })({ a: 1 })).toStrictEqual(['constructor', '__proto__']);
    expect(applyReference({ missing: ['a', 'constructor', '__proto__'] }, { a: 1 })).toStrictEqual([]);
    expect(compileLogic({ missing_some: [1, ['toString', 'b']] })({ b: 2 })).toStrictEqual([]);
    expect(compileLogic({ missing_some: [2, ['toString', 'b']] })({ b: 2 })).toStrictEqual(['toString']);
  });

  it('unknown operator throws at compile time', () => {
    const unreached = { if: [true, 1, { fooo: [1] }] };
    expect(applyReference(unreached, {})).toBe(1);
    expect(() => compileLogic(unreached)).toThrow('unknown operator "fooo" at /if/2/fooo');
  });

  it('dotted operator name is looked up whole', () => {
    const dotted = { 'substr.prototype.constructor': ['abcdef', 2] };
    expect(applyReference(dotted, {})).toBe('cdef');
    expect(() => compileLogic(dotted)).toThrow('unknown operator "substr.prototype.constructor" at /substr.prototype.constructor');
  });

  it('unknown operator in an unused argument throws', () => {
    expect(() => compileLogic({ map: [[1], { var: '' }, { fooo: [] }] })).toThrow('"fooo" at /map/2/fooo');
  });

  it('method operator throws at compile time', () => {
    expect(() => compileLogic({ and: [true, { method: ['abc', 'toUpperCase'] }] })).toThrow(
      'operator "method" at /and/1/method is not supported',
    );
  });

  it('hub operation may not replace a standard operator', () => {
    expect(() => compileLogic({ '+': [1] }, { operations: { '+': () => 0 } })).toThrow('reserved JSON Logic operator');
    expect(() => compileLogic(true, { operations: { method: () => 0 } })).toThrow('reserved JSON Logic operator');
  });

  it('hub operation must be a function', () => {
    const operations = { broken: 'yes' } as unknown as Record<string, LogicOperation>;
    expect(() => compileLogic(true, { operations })).toThrow(TypeError);
  });
});
