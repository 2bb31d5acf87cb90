/**
 * Trying a rule set on one webhook body without sending anything. Each resource is routed exactly as the events
 * worker routes it (same rule data, same subjects from the mirror, same delivery keys). Every rule's condition is
 * traced, and each delivery is rendered by its connector's `preview()`. Nothing is written to the mirror or sent.
 *
 * NOTE: the events worker applies an event to the mirror before routing it, and this does not. A favorite.created
 * for a favorite the mirror has not seen is therefore routed with no favorite, client or agent, and the report
 * says so.
 */
import type { Connector, Delivery, Preview } from '../../connectors/connector.js';
import { DeliverySkipped } from '../../connectors/connector.js';
import type { Logger } from '../logger.js';
import type { Store } from '../mirror/store.js';
import { formatAddress, type ListingViewOptions } from '../repliers/listing-view.js';
import type { WebhookResource } from '../repliers/webhook-body.js';
import { recipientLabel, routeResource, type Subject } from '../workers/route-event.js';
import { domainOperations } from './domain-operations.js';
import { explainCondition, type ConditionTrace } from './explain.js';
import type { CompiledRule, RuleSet } from './rule.js';

export interface TryEventOptions {
  ruleSet: RuleSet;
  store: Store;
  connectors: ReadonlyMap<string, Connector>;
  viewOptions: ListingViewOptions;
  logger: Logger;
}

export interface TriedEvent {
  eventType: string;
  eventId: string;
  receivedAt: string;
}

/** The favorite a rule was evaluated for, with its client and agent; all null when the event concerns no favorite. */
export interface SubjectSummary {
  favoriteId: string | null;
  clientId: string | null;
  clientName: string | null;
  agentId: string | null;
  agentName: string | null;
}

export interface RuleEvaluation {
  subject: SubjectSummary;
  matched: boolean;
  trace: ConditionTrace;
}

export type RuleVerdict = 'matched' | 'not matched' | 'not for this event' | 'disabled' | 'failed';

export interface RuleTrial {
  ruleId: string;
  description: string;
  file: string;
  verdict: RuleVerdict;
  /** One entry per subject the condition was evaluated for; empty for rules not evaluated. */
  evaluations: RuleEvaluation[];
  deliveries: number;
}

export interface DeliveryTrial {
  key: string;
  ruleId: string;
  connector: string;
  template: string;
  recipient: string;
  /** The rendered message, when the connector would send one. */
  preview?: Preview;
  /** The reason the connector would skip it, such as an opted-out client. */
  skipped?: string;
  /** The error that stopped the connector from rendering it. */
  error?: string;
}

export interface ResourceTrial {
  /** Position of the resource in the body, from 0. */
  index: number;
  /** "listing X11111 (board 12)", "favorite 90001" or the resource kind. */
  label: string;
  /** Sentences naming what the mirror lacks for this resource. */
  mirrorNotes: string[];
  rules: RuleTrial[];
  deliveries: DeliveryTrial[];
}

/** Routes each resource of a body through `ruleSet` and returns what every rule decided and would deliver. */
export async function tryEvent(options: TryEventOptions, event: TriedEvent, resources: readonly WebhookResource[]): Promise<ResourceTrial[]> {
  const trials: ResourceTrial[] = [];
  for (const [index, resource] of resources.entries()) {
    trials.push(await tryResource(options, event, resource, index));
  }
  return trials;
}

async function tryResource(options: TryEventOptions, event: TriedEvent, resource: WebhookResource, index: number): Promise<ResourceTrial> {
  const { ruleSet } = options;
  const evaluations = new Map<string, RuleEvaluation[]>();
  const failed = new Set<string>();
  const subjects = new Map<string, Subject>();

  const routed = await routeResource(
    {
      store: options.store,
      ruleSet,
      viewOptions: options.viewOptions,
      logger: options.logger,
      onEvaluated: ({ rule, subject, data, error }) => {
        if (error !== undefined) failed.add(rule.id);
        const trace = explainCondition(rule.when, data, domainOperations);
        const list = evaluations.get(rule.id) ?? [];
        list.push({ subject: summarise(subject), matched: trace.matched, trace });
        evaluations.set(rule.id, list);
        subjects.set(subject.favorite?.favoriteId ?? '', subject);
      },
    },
    event,
    resource,
  );

  const listening = new Set((ruleSet.byEvent.get(event.eventType) ?? []).map((rule) => rule.id));
  const rules = ruleSet.rules.map((rule): RuleTrial => {
    const ruleEvaluations = evaluations.get(rule.id) ?? [];
    return {
      ruleId: rule.id,
      description: rule.description,
      file: rule.file,
      verdict: verdictOf(rule, listening, ruleEvaluations, failed),
      evaluations: ruleEvaluations,
      deliveries: routed.deliveries.filter((delivery) => delivery.ruleId === rule.id).length,
    };
  });

  return {
    index,
    label: labelOf(event.eventType, resource),
    mirrorNotes: listening.size === 0 ? [] : mirrorNotes(event.eventType, resource, routed.unknownFavoriteIds, [...subjects.values()], ruleSet, rules),
    rules,
    deliveries: routed.deliveries.map((delivery) => previewDelivery(options.connectors, delivery)),
  };
}

function verdictOf(rule: CompiledRule, listening: ReadonlySet<string>, evaluations: readonly RuleEvaluation[], failed: ReadonlySet<string>): RuleVerdict {
  if (rule.disabled) return 'disabled';
  if (!listening.has(rule.id)) return 'not for this event';
  if (failed.has(rule.id)) return 'failed';
  return evaluations.some((evaluation) => evaluation.matched) ? 'matched' : 'not matched';
}

function previewDelivery(connectors: ReadonlyMap<string, Connector>, delivery: Delivery): DeliveryTrial {
  const trial: DeliveryTrial = {
    key: delivery.key,
    ruleId: delivery.ruleId,
    connector: delivery.action.connector,
    template: delivery.action.template,
    recipient: recipientLabel(delivery.recipient),
  };
  const connector = connectors.get(delivery.action.connector);
  if (!connector) return { ...trial, error: `connector ${delivery.action.connector} is not configured in this process` };
  try {
    return { ...trial, preview: connector.preview(delivery) };
  } catch (error) {
    if (error instanceof DeliverySkipped) return { ...trial, skipped: error.message };
    return { ...trial, error: error instanceof Error ? error.message : String(error) };
  }
}

function personName(person: { fname: string | null; lname: string | null } | null): string | null {
  if (!person) return null;
  const name = [person.fname, person.lname].filter((part) => part && part.trim() !== '').join(' ');
  return name === '' ? null : name;
}

function summarise(subject: Subject): SubjectSummary {
  return {
    favoriteId: subject.favorite?.favoriteId ?? null,
    clientId: subject.client?.clientId ?? subject.favorite?.clientId ?? null,
    clientName: personName(subject.client),
    agentId: subject.agent?.agentId ?? subject.client?.agentId ?? null,
    agentName: personName(subject.agent),
  };
}

function text(value: unknown): string | null {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
}

function labelOf(eventType: string, resource: WebhookResource): string {
  const data = resource.data;
  const board = text(data.boardId);
  const address = typeof data.address === 'object' && data.address !== null ? `, ${formatAddress(data.address as Record<string, unknown>)}` : '';
  const listing = `listing ${text(data.mlsNumber) ?? '(no mlsNumber)'}${board ? ` (board ${board})` : ''}${address}`;
  if (eventType.startsWith('favorite.')) return `favorite ${text(data.favoriteId) ?? '(no favoriteId)'} of ${listing}`;
  if (eventType.startsWith('listing.')) return listing;
  return eventType.split('.')[0] ?? eventType;
}

/** Says in sentences what the mirror lacks for routing this resource, so an empty result is not misread. */
function mirrorNotes(
  eventType: string,
  resource: WebhookResource,
  unknownFavoriteIds: readonly string[],
  subjects: readonly Subject[],
  ruleSet: RuleSet,
  rules: readonly RuleTrial[],
): string[] {
  const notes: string[] = [];
  const known = subjects.filter((subject) => subject.favorite !== null);

  if (unknownFavoriteIds.length > 0) {
    const ids = unknownFavoriteIds.slice(0, 10).join(', ') + (unknownFavoriteIds.length > 10 ? `, … (${unknownFavoriteIds.length} in all)` : '');
    const then = eventType === 'favorite.created' ? '; the hub stores it from this event before routing, which this trial does not do' : '';
    notes.push(`the mirror has no favorite ${ids}${then}`);
  }
  if (eventType.startsWith('listing.') && known.length === 0 && unknownFavoriteIds.length === 0) {
    const mlsNumber = text(resource.data.mlsNumber) ?? '?';
    notes.push(
      resource.favoriteIds.length > 0
        ? `every favorite the body names is deleted in the mirror`
        : `the mirror holds no live favorite of listing ${mlsNumber}, and the body names no favoriteIds`,
    );
  }
  if (!eventType.startsWith('listing.') && !eventType.startsWith('favorite.')) {
    notes.push(`${eventType} concerns no favorite, so rules are evaluated once with favorite, client and agent null`);
  }

  for (const subject of known) {
    const favorite = subject.favorite!;
    if (favorite.deletedAt) notes.push(`favorite ${favorite.favoriteId} is deleted in the mirror (since ${favorite.deletedAt})`);
    if (!subject.client) {
      notes.push(`the mirror has no client ${favorite.clientId} for favorite ${favorite.favoriteId}, so nothing goes to that client or their agent`);
    } else if (!subject.agent) {
      const agent = subject.client.agentId ? `agent ${subject.client.agentId}` : 'an agent';
      notes.push(`the mirror has no ${agent} for client ${subject.client.clientId}, so nothing goes to that agent`);
    }
  }

  // A match with no recipient is the surprise worth naming: the rule fired and still delivers nothing.
  for (const trial of rules) {
    if (trial.verdict !== 'matched' || trial.deliveries > 0) continue;
    const rule = ruleSet.rules.find((candidate) => candidate.id === trial.ruleId);
    const targets = rule?.actions.map((action) => (typeof action.to === 'string' ? action.to : `channel ${action.to.channel}`)).join(', ');
    notes.push(`rule ${trial.ruleId} matched but has no recipient (${targets}) among the people the mirror holds`);
  }
  return notes;
}
