import jsonLogic from 'json-logic-js';
import { describe, expect, it } from 'vitest';
import { domainOperations } from '../../src/rules/domain-operations.js';
import { explainCondition, type TraceNode } from '../../src/rules/explain.js';

const v = (path: string): unknown => ({ var: path });
const applyReference = jsonLogic.apply as (logic: unknown, data: unknown) => unknown;

const data = {
  listing: { listPrice: 674900, lastStatus: 'Pc', address: { city: 'Ottawa' }, images: ['a.jpg', 'b.jpg'] },
  previous: { listPrice: 699900 },
  change: { price: { from: 699900, to: 674900, amount: -25000, percent: -3.57 }, status: null, lastStatus: null },
  favoriteCount: 3,
};

function flatten(node: TraceNode | null): TraceNode[] {
  if (!node) return [];
  return [node, ...node.children.flatMap(flatten)];
}

function byPointer(node: TraceNode | null): Map<string, TraceNode> {
  return new Map(flatten(node).map((entry) => [entry.pointer, entry]));
}

describe('explainCondition', () => {
  it('marks the operand that stopped and and skips the rest', () => {
    const condition = { and: [{ '>': [v('favoriteCount'), 0] }, { '==': [v('listing.lastStatus'), 'Sld'] }, { '<': [v('listing.listPrice'), 1] }] };
    const trace = explainCondition(condition, data, domainOperations);
    expect(trace.matched).toBe(false);
    expect(trace.value).toBe(false);
    const nodes = byPointer(trace.root);
    expect(nodes.get('/and/0')).toMatchObject({ role: 'evaluated', value: true });
    expect(nodes.get('/and/1')).toMatchObject({ role: 'decisive', value: false });
    expect(nodes.get('/and/2')!.role).toBe('skipped');
    expect(nodes.get('/and/2')!).not.toHaveProperty('value');
    expect(nodes.get('/and/1/==/0')).toMatchObject({ operator: 'var', value: 'Pc' });
  });

  it('marks the first truthy operand of or', () => {
    const trace = explainCondition({ or: [{ '!!': [v('change.status')] }, { at_most: [v('change.price.percent'), -3] }, true] }, data, domainOperations);
    expect(trace.matched).toBe(true);
    const nodes = byPointer(trace.root);
    expect(nodes.get('/or/0')).toMatchObject({ role: 'evaluated', value: false });
    expect(nodes.get('/or/1')).toMatchObject({ role: 'decisive', value: true, operator: 'at_most' });
  });

  it('follows the branch if takes', () => {
    const trace = explainCondition(
      { if: [{ below: [v('change.price.percent'), -10] }, 'big', { below: [v('change.price.percent'), -2] }, { cat: ['drop of ', v('change.price.amount')] }, 'none'] },
      data,
      domainOperations,
    );
    expect(trace.value).toBe('drop of -25000');
    const nodes = byPointer(trace.root);
    expect(nodes.get('/if/0')).toMatchObject({ role: 'evaluated', value: false });
    expect(nodes.get('/if/2')).toMatchObject({ role: 'decisive', value: true });
    expect(nodes.get('/if/3')).toMatchObject({ role: 'decisive', value: 'drop of -25000' });
  });

  it('traces only the array of an iteration', () => {
    const trace = explainCondition({ some: [v('listing.images'), { in: ['b', { var: '' }] }] }, data, domainOperations);
    expect(trace.matched).toBe(true);
    expect(trace.root!.bodyNotTraced).toBe(true);
    expect(trace.root!.children.map((child) => child.pointer)).toEqual(['/some/0']);
  });

  it('reports a literal condition without a tree', () => {
    expect(explainCondition(true, data, domainOperations)).toEqual({ matched: true, value: true, root: null });
  });

  it('takes an empty array as no match, as the router does', () => {
    const trace = explainCondition({ filter: [v('listing.images'), false] }, data, domainOperations);
    expect(trace.value).toEqual([]);
    expect(trace.matched).toBe(false);
  });

  it('records an operation that throws', () => {
    const operations = { ...domainOperations, fails: () => { throw new Error('out of order'); } };
    const trace = explainCondition({ and: [true, { fails: [] }] }, data, operations);
    expect(trace.matched).toBe(false);
    expect(trace.error).toBe('out of order');
    expect(byPointer(trace.root).get('/and/1')).toMatchObject({ role: 'decisive', error: 'out of order' });
  });

  it('shows at every node the value json-logic-js computes', () => {
    const conditions = [
      { and: [{ '>': [v('favoriteCount'), 0] }, { '<=': [v('change.price.percent'), -3] }, { in: [v('listing.address.city'), ['Ottawa', 'Nepean']] }] },
      { or: [{ '==': [v('listing.lastStatus'), 'Sld'] }, { '>=': [{ '-': [v('previous.listPrice'), v('listing.listPrice')] }, 20000] }] },
      { '!': { missing: ['listing.listPrice', 'previous.listPrice'] } },
      { '<': [500000, v('listing.listPrice'), 700000] },
      { if: [{ var: 'change.status' }, 'status', { '!!': v('change.price') }, { max: [v('listing.listPrice'), 1] }, null] },
    ];
    for (const condition of conditions) {
      const trace = explainCondition(condition, data, domainOperations);
      expect(trace.value, JSON.stringify(condition)).toStrictEqual(applyReference(condition, data));
      for (const node of flatten(trace.root)) {
        if (node.role === 'skipped') continue;
        expect(node.value, `${JSON.stringify(condition)} at ${node.pointer}`).toStrictEqual(applyReference(node.expression, data));
      }
    }
  });
});
