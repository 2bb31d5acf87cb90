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
  ];

  for (const rejection of rejections) {
    it(`rejects ${rejection.name} with file, rule id and pointer`, async () => {
      const problems = await problemsOf({ 'bad.json': rejection.rule });
      const problem = problems.find((entry) => entry.pointer.startsWith(rejection.pointer));
      expect(problem, JSON.stringify(problems)).toBeDefined();
      expect(problem!.file).toBe('bad.json');
      expect(problem!.message).toMatch(rejection.message);
      if ((rejection.rule as { id?: string }).id) expect(problem!.ruleId).toBe('price-drop-email');
    });
  }

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

  it('lists problems from every file at once', async () => {
    const problems = await problemsOf({ 'a.json': { ...validRule, events: [] }, 'b.json': { ...validRule, id: 'other', when: { nope: 1 } } });
    expect(new Set(problems.map((problem) => problem.file))).toEqual(new Set(['a.json', 'b.json']));
  });
});
