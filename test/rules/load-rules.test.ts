import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadRuleSet, RuleLoadError } from '../../src/rules/load-rules.js';
import type { RuleProblem } from '../../src/rules/rule.js';

const connectors = new Map<string, readonly string[]>([
  ['email', ['price-drop', 'listing-sold']],
  ['slack', ['favorite-created', 'price-drop', 'listing-sold']],
  ['salesforce', ['favorite-created']],
]);

const validRule = {
  id: 'price-drop-email',
  description: 'Email clients on a price drop.',
  events: ['listing.updated'],
  when: { dropped: [{ var: 'previous.listPrice' }, { var: 'listing.listPrice' }] },
  actions: [{ connector: 'email', template: 'price-drop', to: 'clients' }],
};

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hub-rules-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function problemsOf(files: Record<string, unknown>): Promise<RuleProblem[]> {
  for (const [name, content] of Object.entries(files)) {
    await writeFile(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  try {
    await loadRuleSet(dir, connectors);
  } catch (error) {
    expect(error).toBeInstanceOf(RuleLoadError);
    return (error as RuleLoadError).problems;
  }
  return [];
}

describe('loadRuleSet', () => {
  it('compiles a valid rule and indexes it by event', async () => {
    await writeFile(path.join(dir, 'a.json'), JSON.stringify(validRule));
    const ruleSet = await loadRuleSet(dir, connectors);
    expect(ruleSet.byEvent.get('listing.updated')!.map((rule) => rule.id)).toEqual(['price-drop-email']);
    const rule = ruleSet.rules[0]!;
    expect(rule.condition({ previous: { listPrice: 700000 }, listing: { listPrice: 650000 } })).toBe(true);
    expect(rule.condition({ previous: {}, listing: { listPrice: 650000 } })).toBe(false);
  });

  it('changes the version when a file changes', async () => {
    await writeFile(path.join(dir, 'a.json'), JSON.stringify(validRule));
    const first = await loadRuleSet(dir, connectors);
    await writeFile(path.join(dir, 'a.json'), JSON.stringify({ ...validRule, description: 'Another text.' }));
    const second = await loadRuleSet(dir, connectors);
    expect(second.version).not.toBe(first.version);
  });

  it('leaves disabled rules out of the event index', async () => {
    await writeFile(path.join(dir, 'a.json'), JSON.stringify({ ...validRule, disabled: true }));
    const ruleSet = await loadRuleSet(dir, connectors);
    expect(ruleSet.rules).toHaveLength(1);
    expect(ruleSet.byEvent.get('listing.updated')).toBeUndefined();
  });

  const rejections: { name: string; rule: unknown; pointer: string; message: RegExp }[] = [
    { name: 'unknown connector', rule: { ...validRule, actions: [{ connector: 'fax', template: 'x', to: 'clients' }] }, pointer: '/actions/0/connector', message: /unknown connector "fax"/ },
    { name: 'unknown template', rule: { ...validRule, actions: [{ connector: 'email', template: 'nope', to: 'clients' }] }, pointer: '/actions/0/template', message: /unknown email template "nope"/ },
    { name: 'target the connector cannot take', rule: { ...validRule, actions: [{ connector: 'slack', template: 'price-drop', to: 'clients' }] }, pointer: '/actions/0/to', message: /invalid target "clients" for slack/ },
    { name: 'unknown event', rule: { ...validRule, events: ['listing.exploded'] }, pointer: '/events/0', message: /unknown event "listing.exploded"/ },
    { name: 'unknown operator', rule: { ...validRule, when: { frobnicate: [1] } }, pointer: '/when', message: /frobnicate/ },
    { name: '__proto__ path', rule: { ...validRule, when: { var: 'listing.__proto__.x' } }, pointer: '/when', message: /__proto__/ },
    { name: 'constructor path', rule: { ...validRule, when: { var: 'constructor' } }, pointer: '/when', message: /constructor/ },
    { name: 'missing description', rule: { ...validRule, description: '' }, pointer: '/description', message: /description is required/ },
    { name: 'unknown field', rule: { ...validRule, whenn: true }, pointer: '/whenn', message: /unknown rule field "whenn"/ },
    { name: 'no actions', rule: { ...validRule, actions: [] }, pointer: '/actions', message: /at least one action/ },
    { name: 'actions not a list', rule: { ...validRule, actions: { connector: 'email' } }, pointer: '/actions', message: /at least one action/ },
    { name: 'action not an object', rule: { ...validRule, actions: ['email'] }, pointer: '/actions/0', message: /an action must be an object/ },
    { name: 'unknown action field', rule: { ...validRule, actions: [{ connector: 'email', template: 'price-drop', to: 'clients', cc: 'x' }] }, pointer: '/actions/0/cc', message: /unknown action field "cc"/ },
    { name: 'action without template', rule: { ...validRule, actions: [{ connector: 'email', to: 'clients' }] }, pointer: '/actions/0/template', message: /unknown email template undefined/ },
    { name: 'action without target', rule: { ...validRule, actions: [{ connector: 'email', template: 'price-drop' }] }, pointer: '/actions/0/to', message: /invalid target undefined for email/ },
    { name: 'invalid channel name', rule: { ...validRule, actions: [{ connector: 'slack', template: 'price-drop', to: { channel: '#two words' } }] }, pointer: '/actions/0/to/channel', message: /invalid slack channel "#two words"/ },
    { name: 'template of another connector', rule: { ...validRule, actions: [{ connector: 'salesforce', template: 'price-drop', to: 'clients' }] }, pointer: '/actions/0/template', message: /unknown salesforce template "price-drop"/ },
    { name: 'events not a list', rule: { ...validRule, events: 'listing.updated' }, pointer: '/events', message: /list at least one event/ },
    { name: 'invalid id', rule: { ...validRule, id: 'Price Drop' }, pointer: '/id', message: /lower-case letters, digits and dashes/ },
    { name: 'disabled not a boolean', rule: { ...validRule, disabled: 'yes' }, pointer: '/disabled', message: /"disabled" must be true or false/ },
    { name: 'missing condition', rule: { id: validRule.id, description: 'x', events: validRule.events, actions: validRule.actions }, pointer: '/when', message: /a condition is required/ },
    { name: 'condition of a fixed string', rule: { ...validRule, when: 'yes' }, pointer: '/when', message: /must be an operator object/ },
    { name: 'condition false', rule: { ...validRule, when: false }, pointer: '/when', message: /never matches; set "disabled": true/ },
    { name: 'operators merged in one object', rule: { ...validRule, when: { dropped: [1, 2], below: [1, 2] } }, pointer: '/when', message: /object has 2 keys/ },
    { name: 'method operator', rule: { ...validRule, when: { method: ['abc', 'toUpperCase'] } }, pointer: '/when/method', message: /"method" operator is not supported/ },
    { name: 'prototype path', rule: { ...validRule, when: { '==': [{ var: 'listing.prototype' }, 1] } }, pointer: '/when/==/0/var', message: /"prototype"/ },
    { name: '__proto__ in missing', rule: { ...validRule, when: { missing: ['listing.__proto__'] } }, pointer: '/when/missing/0', message: /__proto__/ },
    { name: 'constructor in missing_some', rule: { ...validRule, when: { missing_some: [1, ['constructor.name']] } }, pointer: '/when/missing_some/1/0', message: /constructor/ },
    { name: 'empty path segment', rule: { ...validRule, when: { var: 'listing..listPrice' } }, pointer: '/when/var', message: /empty segment/ },
    { name: 'comparison with one operand', rule: { ...validRule, when: { below: [{ var: 'listing.listPrice' }] } }, pointer: '/when/below', message: /below compares two values, but got 1/ },
    { name: '< with one operand', rule: { ...validRule, when: { '<': [{ var: 'listing.listPrice' }] } }, pointer: '/when/<', message: /^< compares two values, or three as a between test, but got 1;/ },
    { name: '<= with four operands', rule: { ...validRule, when: { '<=': [1, { var: 'listing.listPrice' }, 3, 4] } }, pointer: '/when/<=', message: /^<= compares two values, or three as a between test, but got 4;/ },
    { name: '== with three operands', rule: { ...validRule, when: { '==': [1, 2, 3] } }, pointer: '/when/==', message: /^== compares two values, but got 3;/ },
    { name: '> with three operands', rule: { ...validRule, when: { '>': [{ var: 'listing.listPrice' }, 1, 2] } }, pointer: '/when/>', message: /^> compares two values, but got 3;/ },
    { name: '!== with one operand', rule: { ...validRule, when: { '!==': { var: 'listing.status' } } }, pointer: '/when/!==', message: /^!== compares two values, but got 1;/ },
    { name: 'number with two values', rule: { ...validRule, when: { number: [1, 2] } }, pointer: '/when/number', message: /number takes one value/ },
    { name: 'became with a fixed transition', rule: { ...validRule, when: { became: ['New', ['Sld']] } }, pointer: '/when/became/0', message: /needs a status transition/ },
    { name: 'became on a listing field', rule: { ...validRule, when: { became: [{ var: 'listing.lastStatus' }, ['Sld']] } }, pointer: '/when/became/0', message: /not "listing.lastStatus"/ },
    { name: 'became with an unknown code', rule: { ...validRule, when: { became: [{ var: 'change.lastStatus' }, ['Sold']] } }, pointer: '/when/became/1', message: /unknown lastStatus code "Sold"/ },
    { name: 'left without codes', rule: { ...validRule, when: { left: [{ var: 'change.status' }, []] } }, pointer: '/when/left/1', message: /non-empty list of codes/ },
    { name: 'status compared with an unknown code', rule: { ...validRule, when: { '==': [{ var: 'listing.lastStatus' }, 'Sold'] } }, pointer: '/when/==/1', message: /unknown lastStatus code "Sold".*Sld/ },
    { name: 'status membership with an unknown code', rule: { ...validRule, when: { in: [{ var: 'change.status.to' }, ['U', 'S']] } }, pointer: '/when/in/1', message: /unknown status code "S"/ },
    { name: 'changed without a field', rule: { ...validRule, when: { changed: [] } }, pointer: '/when/changed', message: /at least one listing field/ },
    { name: 'changed on __proto__', rule: { ...validRule, when: { changed: '__proto__.x' } }, pointer: '/when/changed', message: /"__proto__"/ },
    { name: 'changed with a prefix', rule: { ...validRule, when: { changed: 'listing.listPrice' } }, pointer: '/when/changed', message: /write "listPrice"/ },
  ];

  for (const rejection of rejections) {
    it(`rejects ${rejection.name} with file, rule id and pointer`, async () => {
      const problems = await problemsOf({ 'bad.json': rejection.rule });
      const problem = problems.find((entry) => entry.pointer.startsWith(rejection.pointer));
      expect(problem, JSON.stringify(problems)).toBeDefined();
      expect(problem!.file).toBe('bad.json');
      expect(problem!.message).toMatch(rejection.message);
      expect(problem!.ruleId).toBe((rejection.rule as { id?: string }).id ?? null);
    });
  }

  it('rejects a rule that is not an object', async () => {
    const problems = await problemsOf({ 'list.json': [validRule, 'price-drop'] });
    expect(problems).toEqual([{ file: 'list.json', ruleId: null, pointer: '/1', message: 'a rule must be a JSON object' }]);
  });

  it('locates a problem inside an array of rules', async () => {
    const problems = await problemsOf({ 'list.json': [validRule, { ...validRule, id: 'second', when: { nope: 1 } }] });
    expect(problems).toEqual([expect.objectContaining({ file: 'list.json', ruleId: 'second', pointer: '/1/when/nope' })]);
  });

  it('accepts the domain operations written right', async () => {
    const when = {
      and: [
        { became: [{ var: 'change.lastStatus' }, ['Sld', 'Lsd']] },
        { left: [{ var: 'change.status' }, 'A'] },
        { changed: ['listPrice', 'details.numBedrooms'] },
        { in: [{ var: 'listing.lastStatus' }, ['Sld', 'Lsd']] },
        { '==': [{ var: 'change.lastStatus.to' }, 'Sld'] },
        { at_most: [{ var: 'change.price.percent' }, -5] },
      ],
    };
    await writeFile(path.join(dir, 'a.json'), JSON.stringify({ ...validRule, when }));
    const ruleSet = await loadRuleSet(dir, connectors);
    expect(ruleSet.rules[0]!.when).toEqual(when);
  });

  it('accepts < and <= as between tests', async () => {
    const when = {
      and: [
        { '<': [100000, { var: 'listing.listPrice' }, 600000] },
        { '<=': [1, { var: 'listing.details.numBedrooms' }, 3] },
      ],
    };
    await writeFile(path.join(dir, 'a.json'), JSON.stringify({ ...validRule, when }));
    const ruleSet = await loadRuleSet(dir, connectors);
    const condition = ruleSet.rules[0]!.condition;
    expect(condition({ listing: { listPrice: 500000, details: { numBedrooms: 3 } } })).toBe(true);
    expect(condition({ listing: { listPrice: 700000, details: { numBedrooms: 3 } } })).toBe(false);
  });

  it('reports invalid JSON with the file name', async () => {
    const problems = await problemsOf({ 'broken.json': '{"id": ' });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.file).toBe('broken.json');
    expect(problems[0]!.message).toMatch(/^invalid JSON/);
  });

  it('reports a rule id used twice', async () => {
    const problems = await problemsOf({ 'a.json': validRule, 'b.json': [validRule] });
    expect(problems).toEqual([expect.objectContaining({ file: 'b.json', pointer: '/id', message: 'the id is also used in a.json' })]);
  });

  it('counts the problems in its message', async () => {
    await writeFile(path.join(dir, 'a.json'), JSON.stringify({ ...validRule, events: [] }));
    const one = await loadRuleSet(dir, connectors).catch((error: unknown) => error);
    expect(one).toBeInstanceOf(RuleLoadError);
    expect((one as RuleLoadError).message).toMatch(/^1 problem in the rules:\na\.json rule "price-drop-email" at \/events: /);

    await writeFile(path.join(dir, 'a.json'), JSON.stringify({ ...validRule, events: [], actions: [] }));
    const two = await loadRuleSet(dir, connectors).catch((error: unknown) => error);
    expect(two).toBeInstanceOf(RuleLoadError);
    expect((two as RuleLoadError).message).toMatch(/^2 problems in the rules:\n/);
  });

  it('lists problems from every file at once', async () => {
    const problems = await problemsOf({ 'a.json': { ...validRule, events: [] }, 'b.json': { ...validRule, id: 'other', when: { nope: 1 } } });
    expect(new Set(problems.map((problem) => problem.file))).toEqual(new Set(['a.json', 'b.json']));
  });
});
