/** Text report of `hub rules simulate`: what the candidate rules would add and remove, grouped and listed. */
import type { ChangeCount, SimulatedDelivery, SimulationReport } from './simulate.js';
import { countOf, noun } from '../plural.js';

/** Most added or removed deliveries listed one per line; `--json` gives them all. */
const maxListed = 50;

function signed(change: ChangeCount): string {
  return `+${change.added} -${change.removed}`;
}

function groupLines(title: string, groups: Record<string, ChangeCount & { name?: string | null }>): string[] {
  const entries = Object.entries(groups).sort(([left], [right]) => left.localeCompare(right));
  if (entries.length === 0) return [];
  const labels = entries.map(([id, change]) => (change.name ? `${id} ${change.name}` : id));
  const width = Math.max(...labels.map((label) => label.length));
  return [`by ${title}:`, ...entries.map(([, change], index) => `  ${labels[index]!.padEnd(width)}  ${signed(change)}`)];
}

function deliveryLine(sign: '+' | '-', delivery: SimulatedDelivery): string {
  const where = delivery.listing ? `, ${delivery.listing}` : '';
  return `  ${sign} ${delivery.connector} ${delivery.template} to ${delivery.recipient} (rule ${delivery.ruleId}) for ${delivery.eventType} ${delivery.eventId} at ${delivery.receivedAt}${where}`;
}

function listLines(title: string, sign: '+' | '-', deliveries: readonly SimulatedDelivery[]): string[] {
  if (deliveries.length === 0) return [];
  const lines = [`${title}:`, ...deliveries.slice(0, maxListed).map((delivery) => deliveryLine(sign, delivery))];
  if (deliveries.length > maxListed) lines.push(`  … and ${deliveries.length - maxListed} more (--json lists them all)`);
  return lines;
}

/** Renders a simulation report; `candidateDir` and `liveDir` name the folders the two rule sets came from. */
export function formatSimulation(report: SimulationReport, liveDir: string, candidateDir: string): string {
  const byEvent = Object.entries(report.events)
    .map(([event, count]) => `${event} ${count}`)
    .join(', ');
  const lines = [
    `replayed ${report.eventCount} recorded ${noun(report.eventCount, 'event')} since ${report.since}${byEvent ? `: ${byEvent}` : ''}`,
    `live rules ${report.live.version} (${liveDir}): ${report.live.deliveries} deliveries`,
    `candidate rules ${report.candidate.version} (${candidateDir}): ${report.candidate.deliveries} deliveries`,
  ];
  if (report.truncated) lines.push(`only the latest ${report.eventCount} events were replayed; raise --limit to replay more`);
  for (const problem of report.unreadable) lines.push(`event ${problem.eventId} not replayed: ${problem.message}`);

  const added = report.added.length;
  const removed = report.removed.length;
  lines.push('', added + removed === 0 ? 'no change: the candidate rules make the same deliveries (nothing is sent)' : `${added} added, ${removed} removed (nothing is sent)`);
  lines.push(...groupLines('connector', report.byConnector));
  lines.push(...groupLines('agent', report.byAgent));
  lines.push(...groupLines('client', report.byClient));
  lines.push(...listLines('added', '+', report.added));
  lines.push(...listLines('removed', '-', report.removed));

  const { reproduced, differs } = report.recorded;
  if (differs > 0) {
    lines.push(
      '',
      `the live rules reproduce the recorded deliveries of ${reproduced} of ${countOf(reproduced + differs, 'event')}; ` +
        `${differs} differ because the mirror or the rules changed since those events were routed`,
    );
  }
  return lines.join('\n');
}
