/**
 * Loading the rules folder: every `*.json` file directly inside it contains one rule or an array of rules. Each rule
 * is checked in full and every problem is reported with its file, rule id and JSON pointer; a folder with any
 * problem yields no rule set at all, so a broken edit never goes live half-applied.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isRepliersEvent, repliersEvents } from '../repliers/events.js';
import { domainOperationNames, domainOperations } from './domain-operations.js';
import { checkDomainUsage } from './domain-checks.js';
import { compileLogic, readOperation, validateLogic } from './logic/index.js';
import {
  targetsByConnector,
  type CompiledRule,
  type Rule,
  type RuleAction,
  type RuleProblem,
  type RuleSet,
} from './rule.js';
import { countOf } from '../plural.js';

/** Template names by connector: the templates rules may name. */
export type ConnectorTemplates = ReadonlyMap<string, readonly string[]>;

export class RuleLoadError extends Error {
  override readonly name = 'RuleLoadError';
  constructor(readonly problems: RuleProblem[]) {
    super(`${countProblems(problems.length)} in the rules:\n${problems.map(formatProblem).join('\n')}`);
  }
}

/** Returns "1 problem" or "<count> problems". */
export function countProblems(count: number): string {
  return countOf(count, 'problem');
}

export function formatProblem(problem: RuleProblem): string {
  const rule = problem.ruleId ? ` rule "${problem.ruleId}"` : '';
  return `${problem.file}${rule} at ${problem.pointer || '/'}: ${problem.message}`;
}

const ruleKeys = new Set(['id', 'description', 'events', 'when', 'actions', 'disabled']);
const idPattern = /^[a-z0-9][a-z0-9-]{0,63}$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function checkAction(
  action: unknown,
  pointer: string,
  connectors: ConnectorTemplates,
  report: (pointer: string, message: string) => void,
): RuleAction | null {
  if (!isObject(action)) {
    report(pointer, 'an action must be an object with "connector", "template" and "to"');
    return null;
  }
  for (const key of Object.keys(action)) {
    if (!['connector', 'template', 'to'].includes(key)) report(`${pointer}/${key}`, `unknown action field "${key}"`);
  }

  const { connector, template, to } = action;
  const templates = typeof connector === 'string' ? connectors.get(connector) : undefined;
  if (typeof connector !== 'string' || !templates) {
    report(`${pointer}/connector`, `unknown connector ${JSON.stringify(connector)}; use one of ${[...connectors.keys()].join(', ')}`);
    return null;
  }
  if (typeof template !== 'string' || !templates.includes(template)) {
    report(`${pointer}/template`, `unknown ${connector} template ${JSON.stringify(template)}; use one of ${templates.join(', ')}`);
  }

  const allowed = targetsByConnector[connector] ?? [];
  const targetKind = typeof to === 'string' ? to : isObject(to) && typeof to.channel === 'string' ? 'channel' : null;
  if (targetKind === null || !(allowed as readonly string[]).includes(targetKind)) {
    const forms = allowed.map((kind) => (kind === 'channel' ? '{ "channel": "#name" }' : `"${kind}"`));
    report(`${pointer}/to`, `invalid target ${JSON.stringify(to)} for ${connector}; use ${forms.join(' or ')}`);
    return null;
  }
  if (targetKind === 'channel' && !/^[#@]?[\w.-]{1,80}$/.test((to as { channel: string }).channel)) {
    report(
      `${pointer}/to/channel`,
      `invalid ${connector} channel ${JSON.stringify((to as { channel: string }).channel)}; use 1 to 80 letters, digits, ".", "_" or "-", after an optional "#" or "@"`,
    );
  }
  return { connector, template: String(template), to: to as RuleAction['to'] };
}

/**
 * Rejects a condition that is a fixed value other than `true`: a string, a number or an array would match every
 * event, and `false` would match none without saying so.
 */
function checkConditionShape(when: unknown, pointer: string, report: (pointer: string, message: string) => void): void {
  if (when === true) return;
  if (when === false) {
    report(pointer, 'the condition false never matches; set "disabled": true to turn the rule off');
    return;
  }
  if (readOperation(when, pointer) !== undefined) return;
  // An object with several keys is reported by validateLogic.
  if (isObject(when) && Object.keys(when).length > 1) return;
  report(pointer, `the condition must be an operator object such as {"dropped": [...]} or true, but got ${JSON.stringify(when)}`);
}

function checkRule(
  raw: unknown,
  file: string,
  pointer: string,
  connectors: ConnectorTemplates,
  problems: RuleProblem[],
): Rule | null {
  const ruleId = isObject(raw) && typeof raw.id === 'string' ? raw.id : null;
  const before = problems.length;
  const report = (at: string, message: string): void => {
    problems.push({ file, ruleId, pointer: at, message });
  };

  if (!isObject(raw)) {
    report(pointer, 'a rule must be a JSON object');
    return null;
  }
  for (const key of Object.keys(raw)) {
    if (!ruleKeys.has(key)) report(`${pointer}/${key}`, `unknown rule field "${key}"`);
  }
  if (typeof raw.id !== 'string' || !idPattern.test(raw.id)) {
    report(`${pointer}/id`, 'the id must be 1 to 64 lower-case letters, digits and dashes, starting with a letter or digit');
  }
  if (typeof raw.description !== 'string' || raw.description.trim() === '') {
    report(`${pointer}/description`, 'a description is required: say what the rule is for');
  }
  if (raw.disabled !== undefined && typeof raw.disabled !== 'boolean') {
    report(`${pointer}/disabled`, '"disabled" must be true or false');
  }

  const events = Array.isArray(raw.events) ? raw.events : [];
  if (!Array.isArray(raw.events) || events.length === 0) {
    report(`${pointer}/events`, 'list at least one event, such as ["listing.updated"]');
  }
  events.forEach((event, index) => {
    if (typeof event !== 'string' || !isRepliersEvent(event)) {
      report(`${pointer}/events/${index}`, `unknown event ${JSON.stringify(event)}; use one of ${repliersEvents.join(', ')}`);
    }
  });

  if (!('when' in raw)) report(`${pointer}/when`, 'a condition is required; use true to match every event');
  else checkConditionShape(raw.when, `${pointer}/when`, report);
  for (const problem of validateLogic(raw.when, { operations: domainOperationNames })) {
    report(`${pointer}/when${problem.pointer}`, problem.message);
  }
  for (const problem of checkDomainUsage(raw.when)) {
    report(`${pointer}/when${problem.pointer}`, problem.message);
  }

  const actions: RuleAction[] = [];
  if (!Array.isArray(raw.actions) || raw.actions.length === 0) {
    report(`${pointer}/actions`, 'list at least one action');
  } else {
    raw.actions.forEach((action, index) => {
      const checked = checkAction(action, `${pointer}/actions/${index}`, connectors, report);
      if (checked) actions.push(checked);
    });
  }

  if (problems.length > before) return null;
  return {
    id: raw.id as string,
    description: raw.description as string,
    events: events as string[],
    when: raw.when,
    actions,
    disabled: raw.disabled === true,
    file,
  };
}

/** Reads, checks and compiles every rule file in `dir`. Throws RuleLoadError listing every problem found. */
export async function loadRuleSet(dir: string, connectors: ConnectorTemplates): Promise<RuleSet> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && entry.name.endsWith('.json'))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    throw new RuleLoadError([
      { file: dir, ruleId: null, pointer: '', message: `cannot read the rules folder: ${(error as Error).message}` },
    ]);
  }

  const problems: RuleProblem[] = [];
  const rules: Rule[] = [];
  const digest = createHash('sha256');

  for (const name of names) {
    let text: string;
    try {
      text = await readFile(path.join(dir, name), 'utf8');
    } catch (error) {
      // An editor replacing a file can remove it between the listing and the read; the next change reloads again.
      problems.push({ file: name, ruleId: null, pointer: '', message: `cannot read the file: ${(error as Error).message}` });
      continue;
    }
    digest.update(name).update('\0').update(text).update('\0');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      problems.push({ file: name, ruleId: null, pointer: '', message: `invalid JSON: ${(error as Error).message}` });
      continue;
    }
    const entries = Array.isArray(parsed) ? parsed : [parsed];
    entries.forEach((entry, index) => {
      const rule = checkRule(entry, name, Array.isArray(parsed) ? `/${index}` : '', connectors, problems);
      if (rule) rules.push(rule);
    });
  }

  const seen = new Map<string, string>();
  for (const rule of rules) {
    const other = seen.get(rule.id);
    if (other) {
      problems.push({ file: rule.file, ruleId: rule.id, pointer: '/id', message: `the id is also used in ${other}` });
    }
    seen.set(rule.id, rule.file);
  }
  if (problems.length > 0) throw new RuleLoadError(problems);

  const compiled: CompiledRule[] = rules.map((rule) => ({
    ...rule,
    condition: compileLogic(rule.when, { operations: domainOperations }),
  }));
  const byEvent = new Map<string, CompiledRule[]>();
  for (const rule of compiled) {
    if (rule.disabled) continue;
    for (const event of rule.events) byEvent.set(event, [...(byEvent.get(event) ?? []), rule]);
  }
  return { version: digest.digest('hex').slice(0, 12), rules: compiled, byEvent };
}
