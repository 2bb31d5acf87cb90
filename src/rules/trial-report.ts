/** Text reports of `hub rules test`: every rule's verdict with its trace, then the deliveries it would make. */
import type { TraceNode } from './explain.js';
import type { RuleSet } from './rule.js';
import type { DeliveryTrial, ResourceTrial, RuleEvaluation, RuleTrial, SubjectSummary, TriedEvent } from './try-event.js';
import { countOf, noun } from '../plural.js';

/** Maximum length of an expression or value in a trace line, in characters. */
const maxShown = 100;
/** Most favorites named above one trace; `--json` lists them all. */
const maxSubjects = 5;

export function formatValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  return shorten(JSON.stringify(value) ?? String(value));
}

function shorten(text: string): string {
  return text.length > maxShown ? `${text.slice(0, maxShown - 1)}…` : text;
}

/** Renders a trace as indented lines: `*` marks what decided its parent, and skipped parts are marked `(not evaluated)`. */
export function formatTrace(node: TraceNode, indent: string): string[] {
  const marker = node.role === 'decisive' ? '* ' : '  ';
  const expression = shorten(JSON.stringify(node.expression));
  let outcome: string;
  if (node.role === 'skipped') outcome = '(not evaluated)';
  else if (node.error !== undefined) outcome = `threw: ${node.error}`;
  else outcome = `→ ${formatValue(node.value)}`;
  const body = node.bodyNotTraced ? ' (per-element body not traced)' : '';

  const lines = [`${indent}${marker}${expression} ${outcome}${body}`];
  for (const child of node.children) lines.push(...formatTrace(child, `${indent}    `));
  return lines;
}

export function formatSubject(subject: SubjectSummary): string {
  if (subject.favoriteId === null) return 'no favorite';
  const client = subject.clientId === null ? 'no client' : `client ${subject.clientId}${subject.clientName ? ` ${subject.clientName}` : ''}`;
  const agent = subject.agentId === null ? 'no agent' : `agent ${subject.agentId}${subject.agentName ? ` ${subject.agentName}` : ''}`;
  return `favorite ${subject.favoriteId} (${client}, ${agent})`;
}

/** Groups evaluations whose traces are identical, so a rule evaluated for many favorites shows each trace once. */
function groupEvaluations(evaluations: readonly RuleEvaluation[]): { subjects: SubjectSummary[]; evaluation: RuleEvaluation }[] {
  const groups = new Map<string, { subjects: SubjectSummary[]; evaluation: RuleEvaluation }>();
  for (const evaluation of evaluations) {
    const key = JSON.stringify([evaluation.trace.matched, evaluation.trace.root, evaluation.trace.error ?? null]);
    const group = groups.get(key);
    if (group) group.subjects.push(evaluation.subject);
    else groups.set(key, { subjects: [evaluation.subject], evaluation });
  }
  return [...groups.values()];
}

function formatRule(trial: RuleTrial, ruleSet: RuleSet): string[] {
  const rule = ruleSet.rules.find((candidate) => candidate.id === trial.ruleId);
  switch (trial.verdict) {
    case 'disabled':
      return [`  - ${trial.ruleId}: disabled (${trial.file})`];
    case 'not for this event':
      return [`  - ${trial.ruleId}: not for this event (listens to ${rule?.events.join(', ') ?? '?'})`];
    default:
      break;
  }

  const matchedCount = trial.evaluations.filter((evaluation) => evaluation.matched).length;
  const mark = trial.verdict === 'matched' ? '✓' : '✗';
  const deliveries = countOf(trial.deliveries, 'delivery', 'deliveries');
  const lines = [
    `  ${mark} ${trial.ruleId}: matched ${matchedCount} of ${countOf(trial.evaluations.length, 'evaluation')} → ${deliveries}  (${trial.file})`,
  ];
  for (const { subjects, evaluation } of groupEvaluations(trial.evaluations)) {
    const more = subjects.length > maxSubjects ? `; and ${subjects.length - maxSubjects} more ${noun(subjects.length - maxSubjects, 'favorite')}` : '';
    const who = subjects.slice(0, maxSubjects).map(formatSubject).join('; ') + more;
    let verdict = evaluation.matched ? 'matched' : 'not matched';
    if (evaluation.trace.error !== undefined) verdict = `threw: ${evaluation.trace.error}`;
    lines.push(`      for ${who}: ${verdict}`);
    if (evaluation.trace.root) lines.push(...formatTrace(evaluation.trace.root, '        '));
    else lines.push(`          condition ${formatValue(rule?.when)} → ${formatValue(evaluation.trace.value)}`);
  }
  return lines;
}

function formatDelivery(delivery: DeliveryTrial): string[] {
  const lines = [`  ${delivery.connector} ${delivery.template} to ${delivery.recipient} (rule ${delivery.ruleId})`];
  if (delivery.skipped !== undefined) return [...lines, `    skipped by the connector: ${delivery.skipped}`];
  if (delivery.error !== undefined) return [...lines, `    cannot render: ${delivery.error}`];
  const preview = delivery.preview!;
  lines.push(`    target: ${preview.target}`);
  if (preview.subject !== undefined) lines.push(`    subject: ${preview.subject}`);
  for (const line of preview.text.split('\n')) lines.push(`    | ${line}`);
  return lines;
}

/** Renders the whole report of one body. */
export function formatTrial(event: TriedEvent, ruleSet: RuleSet, trials: readonly ResourceTrial[]): string {
  const lines = [
    `${event.eventType}, event ${event.eventId}, rules version ${ruleSet.version} (${ruleSet.rules.length} rules)`,
  ];
  for (const trial of trials) {
    lines.push('', `${trials.length > 1 ? `resource ${trial.index}: ` : ''}${trial.label}`);
    for (const note of trial.mirrorNotes) lines.push(`  note: ${note}`);
    if (ruleSet.rules.length === 0) lines.push('  the rule set has no rules');
    for (const rule of trial.rules) lines.push(...formatRule(rule, ruleSet));

    lines.push('', trial.deliveries.length === 0 ? 'no deliveries' : `deliveries (${trial.deliveries.length}, previews only: nothing is sent):`);
    for (const delivery of trial.deliveries) lines.push(...formatDelivery(delivery));
  }
  return lines.join('\n');
}
