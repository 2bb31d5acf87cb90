/**
 * Replaying recorded events against two rule sets, the live one and a candidate, to show what a rule change would
 * do before it goes live. Both sets route every event the same way the events worker does, against the same
 * mirror, so every difference comes from the rules. Read-only: nothing is sent and the mirror is not written.
 *
 * NOTE: the mirror contains favorites, clients and agents as they are now, not as they were when an event arrived,
 * so a replay of an old event may concern other people than it did then. The report counts the events whose
 * replay with the live set no longer reproduces the deliveries recorded for them.
 */
import type { Delivery } from '../../connectors/connector.js';
import type { Logger } from '../logger.js';
import type { EventRecord } from '../mirror/records.js';
import type { Store } from '../mirror/store.js';
import type { ListingViewOptions } from '../repliers/listing-view.js';
import { readWebhookBody } from '../repliers/webhook-body.js';
import { recipientLabel, routeResource } from '../workers/route-event.js';
import type { RuleSet } from './rule.js';

export interface SimulateOptions {
  store: Store;
  live: RuleSet;
  candidate: RuleSet;
  viewOptions: ListingViewOptions;
  logger: Logger;
  /** ISO time: events received at or after it are replayed. */
  since: string;
  /** Most events replayed, the latest ones. */
  limit: number;
}

/** One delivery that one rule set makes and the other does not. */
export interface SimulatedDelivery {
  eventId: string;
  eventType: string;
  receivedAt: string;
  ruleId: string;
  connector: string;
  template: string;
  recipient: string;
  clientId: string | null;
  clientName: string | null;
  agentId: string | null;
  agentName: string | null;
  /** The listing's one-line address, when the event has a listing. */
  listing: string | null;
}

export interface ChangeCount {
  added: number;
  removed: number;
}

export interface SimulationReport {
  since: string;
  /** Events replayed, by event name. */
  events: Record<string, number>;
  eventCount: number;
  /** True when more events were recorded since `since` than `limit`, so only the latest were replayed. */
  truncated: boolean;
  /** Events whose payload could not be read, with the reason. */
  unreadable: { eventId: string; message: string }[];
  live: { version: string; deliveries: number };
  candidate: { version: string; deliveries: number };
  added: SimulatedDelivery[];
  removed: SimulatedDelivery[];
  byConnector: Record<string, ChangeCount>;
  /** By the agent a delivery concerns: the agent it goes to, or the agent of the client it goes to. */
  byAgent: Record<string, ChangeCount & { name: string | null }>;
  /** By the client a delivery goes to or is about; channel messages are counted by connector only. */
  byClient: Record<string, ChangeCount & { name: string | null }>;
  /** Events whose live replay makes exactly the deliveries recorded for them, and those whose replay differs. */
  recorded: { reproduced: number; differs: number };
}

/** Replays the events recorded since `options.since` against both rule sets and returns the differences. */
export async function simulateRuleSet(options: SimulateOptions): Promise<SimulationReport> {
  const { store, live, candidate } = options;
  // listEvents returns the latest first. Asking for one more than the limit shows whether anything was left out.
  const listed = await store.listEvents({ since: options.since, limit: options.limit + 1 });
  const truncated = listed.length > options.limit;
  const events = listed.slice(0, options.limit).reverse();

  const report: SimulationReport = {
    since: options.since,
    events: {},
    eventCount: events.length,
    truncated,
    unreadable: [],
    live: { version: live.version, deliveries: 0 },
    candidate: { version: candidate.version, deliveries: 0 },
    added: [],
    removed: [],
    byConnector: {},
    byAgent: {},
    byClient: {},
    recorded: { reproduced: 0, differs: 0 },
  };

  for (const event of events) {
    report.events[event.event] = (report.events[event.event] ?? 0) + 1;
    let routed: { live: Delivery[]; candidate: Delivery[] };
    try {
      routed = { live: await replay(options, event, live), candidate: await replay(options, event, candidate) };
    } catch (error) {
      report.unreadable.push({ eventId: event.eventId, message: error instanceof Error ? error.message : String(error) });
      continue;
    }
    report.live.deliveries += routed.live.length;
    report.candidate.deliveries += routed.candidate.length;

    const liveIds = new Map(routed.live.map((delivery) => [identity(delivery), delivery]));
    const candidateIds = new Map(routed.candidate.map((delivery) => [identity(delivery), delivery]));
    for (const [id, delivery] of candidateIds) {
      if (!liveIds.has(id)) count(report, 'added', summarise(delivery));
    }
    for (const [id, delivery] of liveIds) {
      if (!candidateIds.has(id)) count(report, 'removed', summarise(delivery));
    }

    const recordedKeys = new Set((await store.listDeliveries(event.eventId)).map((delivery) => delivery.key));
    const replayedKeys = new Set(routed.live.map((delivery) => delivery.key));
    const same = recordedKeys.size === replayedKeys.size && [...replayedKeys].every((key) => recordedKeys.has(key));
    report.recorded[same ? 'reproduced' : 'differs'] += 1;
  }
  return report;
}

async function replay(options: SimulateOptions, event: EventRecord, ruleSet: RuleSet): Promise<Delivery[]> {
  const body = readWebhookBody(JSON.parse(event.payload));
  const deliveries: Delivery[] = [];
  for (const resource of body.resources) {
    const routed = await routeResource(
      { store: options.store, ruleSet, viewOptions: options.viewOptions, logger: options.logger },
      { eventId: event.eventId, eventType: event.event, receivedAt: event.receivedAt },
      resource,
    );
    deliveries.push(...routed.deliveries);
  }
  return deliveries;
}

/** Two deliveries are the same message when event, rule, connector, template and recipient agree. */
function identity(delivery: Delivery): string {
  return [delivery.eventId, delivery.ruleId, delivery.action.connector, delivery.action.template, recipientLabel(delivery.recipient)].join('\n');
}

function personName(person: { fname: string | null; lname: string | null } | null): string | null {
  if (!person) return null;
  const name = [person.fname, person.lname].filter((part) => part && part.trim() !== '').join(' ');
  return name === '' ? null : name;
}

function summarise(delivery: Delivery): SimulatedDelivery {
  const toChannel = delivery.recipient.kind === 'channel';
  return {
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    receivedAt: delivery.receivedAt,
    ruleId: delivery.ruleId,
    connector: delivery.action.connector,
    template: delivery.action.template,
    recipient: recipientLabel(delivery.recipient),
    clientId: toChannel || delivery.recipient.kind === 'agent' ? null : (delivery.client?.clientId ?? null),
    clientName: toChannel || delivery.recipient.kind === 'agent' ? null : personName(delivery.client),
    agentId: toChannel ? null : (delivery.agent?.agentId ?? null),
    agentName: toChannel ? null : personName(delivery.agent),
    listing: delivery.listing?.address ?? null,
  };
}

function count(report: SimulationReport, side: 'added' | 'removed', delivery: SimulatedDelivery): void {
  report[side].push(delivery);
  const connector = (report.byConnector[delivery.connector] ??= { added: 0, removed: 0 });
  connector[side] += 1;
  if (delivery.agentId !== null) {
    const agent = (report.byAgent[delivery.agentId] ??= { added: 0, removed: 0, name: delivery.agentName });
    agent[side] += 1;
  }
  if (delivery.clientId !== null) {
    const client = (report.byClient[delivery.clientId] ??= { added: 0, removed: 0, name: delivery.clientName });
    client[side] += 1;
  }
}
