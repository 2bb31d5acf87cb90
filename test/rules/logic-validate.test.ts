import { describe, it, expect } from 'vitest';
import { compileLogic, validateLogic } from '../../src/rules/logic/index.js';

function pointers(logic: unknown, operations?: readonly string[]): string[] {
  return validateLogic(logic, { operations }).map((problem) => problem.pointer);
}

describe('validateLogic accepts', () => {
  it.each([
    ['a routing rule', {
      and: [
        { '==': [{ var: 'event.type' }, 'listing.updated'] },
        { in: [{ var: 'listing.status' }, ['A', 'U']] },
        { '<=': [{ var: ['change.price.percent', 0] }, -5] },
        { '!': { missing: ['listing.mlsNumber'] } },
      ],
    }],
    ['a literal', 'hello'],
    ['an array of rules', [1, { var: 'a' }]],
    ['var of the whole data', { var: '' }],
    ['var with null', { var: [null, 1] }],
    ['var without arguments', { var: [] }],
    ['var with an index', { var: 1 }],
    ['var with a computed path', { var: { cat: ['a', '.', 'b'] } }],
    ['an empty literal object', { in: [{}, [1]] }],
    ['iteration rules', { reduce: [{ filter: [{ var: 'xs' }, { '>': [{ var: '' }, 1] }] }, { '+': [{ var: 'current' }, { var: 'accumulator' }] }, 0] }],
    ['missing_some with computed keys', { missing_some: [1, { merge: [['a'], { var: 'more' }] }] }],
  ])('%s', (_name, logic) => {
    expect(validateLogic(logic)).toStrictEqual([]);
  });

  it('hub operations named in options', () => {
    expect(validateLogic({ and: [{ near: [1, 2] }] }, { operations: ['near'] })).toStrictEqual([]);
  });
});

describe('validateLogic unknown operators', () => {
  it('reports a nested unknown operator', () => {
    expect(validateLogic({ and: [true, { fooo: [1] }] })).toStrictEqual([
      { pointer: '/and/1/fooo', message: 'unknown operator "fooo"; use one of the JSON Logic operators or a hub operation' },
    ]);
  });

  it('reports an operator at the root', () => {
    expect(pointers({ lenght: 'x' })).toStrictEqual(['/lenght']);
  });

  it('reports a hub operation that is not listed', () => {
    expect(pointers({ near: [1, 2] }, ['far'])).toStrictEqual(['/near']);
  });

  it('reports problems inside an unknown operator', () => {
    expect(pointers({ fooo: [{ barr: 1 }] })).toStrictEqual(['/fooo', '/fooo/0/barr']);
  });

  it('escapes the pointer', () => {
    expect(pointers({ or: [{ 'a/b': 1 }, { 'm~x': 2 }] })).toStrictEqual(['/or/0/a~1b', '/or/1/m~0x']);
  });

  it('agrees with the compile error', () => {
    const logic = { if: [{ var: 'a' }, { map: [[1], { fooo: [] }] }, 0] };
    expect(pointers(logic)).toStrictEqual(['/if/1/map/1/fooo']);
    expect(() => compileLogic(logic)).toThrow('at /if/1/map/1/fooo;');
  });
});

describe('validateLogic method operator', () => {
  it('reports method even when listed as a hub operation', () => {
    const expected = [{ pointer: '/or/0/method', message: 'the "method" operator is not supported; use a hub operation instead' }];
    expect(validateLogic({ or: [{ method: ['abc', 'toUpperCase'] }] })).toStrictEqual(expected);
    expect(validateLogic({ or: [{ method: ['abc', 'toUpperCase'] }] }, { operations: ['method'] })).toStrictEqual(expected);
  });
});

describe('validateLogic prototype paths', () => {
  it('reports var with a string path', () => {
    expect(validateLogic({ var: 'listing.__proto__.x' })).toStrictEqual([
      {
        pointer: '/var',
        message:
          'var path "listing.__proto__.x" contains the segment "__proto__", which never matches because lookups read only own properties of the data',
      },
    ]);
  });

  it.each([
    ['var with a default', { and: [{ var: ['a.constructor', 1] }] }, ['/and/0/var/0']],
    ['var of prototype', { var: ['prototype'] }, ['/var/0']],
    ['missing keys', { missing: ['a', 'b.__proto__'] }, ['/missing/1']],
    ['missing with a single key', { missing: 'prototype' }, ['/missing']],
    ['missing with a key list', { missing: [['a', 'constructor']] }, ['/missing/0/1']],
    ['missing_some keys', { missing_some: [1, ['a', 'x.prototype', '__proto__']] }, ['/missing_some/1/1', '/missing_some/1/2']],
  ])('reports %s', (_name, logic, expected) => {
    expect(pointers(logic)).toStrictEqual(expected);
  });

  it('names the operator in the message', () => {
    const [problem] = validateLogic({ missing_some: [1, ['constructor']] });
    expect(problem?.message).toMatch(/^missing_some path "constructor" contains the segment "constructor"/);
  });

  it('ignores blocked names inside a longer segment', () => {
    expect(validateLogic({ var: 'my_constructor.prototypes' })).toStrictEqual([]);
  });
});

describe('validateLogic objects with several keys', () => {
  it('reports the object and checks its values', () => {
    const problems = validateLogic({ and: [true], orr: [{ var: '__proto__' }] });
    expect(problems.map((problem) => problem.pointer)).toStrictEqual(['', '/orr/0/var']);
    expect(problems[0]?.message).toBe(
      'object has 2 keys ("and", "orr"), so JSON Logic reads it as a literal value; give each operator its own object',
    );
  });

  it('reports a nested object', () => {
    expect(pointers({ in: [{ var: 'a' }, [{ x: 1, y: 2 }]] })).toStrictEqual(['/in/1/0']);
  });
});

describe('validateLogic malformed var', () => {
  it('reports too many arguments', () => {
    expect(validateLogic({ var: ['a', 1, 2] })).toStrictEqual([
      { pointer: '/var', message: 'var takes a path and an optional default value, but got 3 arguments' },
    ]);
  });

  it.each([
    ['a boolean path', { var: true }, '/var', 'var path must be a string, a non-negative integer, null or an operation, but got boolean true'],
    ['an array path', { var: [['a'], 1] }, '/var/0', 'var path must be a string, a non-negative integer, null or an operation, but got an array'],
    ['an empty object path', { var: [{}] }, '/var/0', 'var path must be a string, a non-negative integer, null or an operation, but got an object without keys'],
    ['a negative index', { var: -1 }, '/var', 'var path -1 is not a valid array index; use a non-negative integer or a string path'],
    ['a fractional index', { var: [1.5] }, '/var/0', 'var path 1.5 is not a valid array index; use a non-negative integer or a string path'],
    ['an empty segment', { var: 'a..b' }, '/var', 'var path "a..b" has an empty segment; remove the extra "."'],
    ['a trailing dot', { var: 'a.' }, '/var', 'var path "a." has an empty segment; remove the extra "."'],
  ])('reports %s', (_name, logic, pointer, message) => {
    expect(validateLogic(logic)).toStrictEqual([{ pointer, message }]);
  });

  it('reports an object path with several keys once', () => {
    expect(pointers({ var: [{ a: 1, b: 2 }] })).toStrictEqual(['/var/0']);
  });
});

describe('validateLogic comparison operands', () => {
  const equalities = ['==', '===', '!=', '!==', '>', '>='];

  it.each(equalities)('accepts %s with two operands', (name) => {
    expect(validateLogic({ [name]: [{ var: 'a' }, 1] })).toStrictEqual([]);
  });

  it.each(['<', '<='])('accepts %s with two or three operands', (name) => {
    expect(validateLogic({ [name]: [{ var: 'a' }, 1] })).toStrictEqual([]);
    expect(validateLogic({ [name]: [0, { var: 'a' }, 10] })).toStrictEqual([]);
  });

  it.each(equalities.flatMap((name) => [0, 1, 3].map((count) => [name, count] as const)))('reports %s with operand count %i', (name, count) => {
    const args = Array.from({ length: count }, (_, index) => index);
    expect(validateLogic({ [name]: args })).toStrictEqual([
      { pointer: `/${name}`, message: `${name} compares two values, but got ${count}; write {"${name}": [a, b]}` },
    ]);
  });

  it.each(['<', '<='].flatMap((name) => [0, 1, 4].map((count) => [name, count] as const)))('reports %s with operand count %i', (name, count) => {
    const args = Array.from({ length: count }, (_, index) => index);
    expect(validateLogic({ [name]: args })).toStrictEqual([
      {
        pointer: `/${name}`,
        message: `${name} compares two values, or three as a between test, but got ${count}; write {"${name}": [a, b]} or {"${name}": [low, x, high]}`,
      },
    ]);
  });

  it('counts an operand written without an array as one', () => {
    expect(pointers({ and: [{ '!=': { var: 'a' } }] })).toStrictEqual(['/and/0/!=']);
  });
});

describe('validateLogic reports every problem', () => {
  it('lists problems in document order', () => {
    const logic = {
      or: [
        { fooo: 1 },
        { var: ['a.__proto__', 0, 1] },
        { method: [] },
        { all: [{ var: 'xs' }, { barr: [{ var: true }] }] },
      ],
    };
    expect(pointers(logic)).toStrictEqual(['/or/0/fooo', '/or/1/var', '/or/1/var/0', '/or/2/method', '/or/3/all/1/barr', '/or/3/all/1/barr/0/var']);
  });
});
