/**
 * The rule tester: evaluates the live rules against a recorded event or a pasted payload, without sending anything
 * and without writing to the store, and renders what each connector would send.
 *
 * NOTE: the payload is not applied to the mirror first. A pasted favorite.created whose favorite the mirror has
 * never seen therefore concerns no client, and rules addressed to clients or agents find no recipient.
 */
import { DeliverySkipped, type Preview } from '../../connectors/connector.js';
import { readWebhookBody } from '../repliers/webhook-body.js';
import { recipientLabel, routeResource, type Subject } from '../workers/route-event.js';
import type { AdminContext } from './admin-context.js';

export interface RulePreviewInput {
  eventType: string;
  payload: unknown;
  /** The recorded event's id, so delivery keys match the real ones; absent for a pasted payload. */
  eventId?: string;
  receivedAt?: string;
}

export interface PreviewedDelivery {
  key: string;
  ruleId: string;
  connector: string;
  template: string;
  recipient: string;
  /** Status of the delivery with the same key in the store, or null when none was made. */
  recordedStatus: string | null;
  preview: Preview | null;
  /** Reason the connector would skip this delivery (an opted-out client, say); null when it would send. */
  skipped: string | null;
  error: string | null;
}

export interface RuleEvaluation {
  ruleId: string;
  /** The favorite, client and agent the rule was evaluated for; all null for an event that concerns no favorite. */
  favoriteId: string | null;
  clientId: string | null;
  agentId: string | null;
  matched: boolean;
  error: string | null;
}

export interface RulePreview {
  eventType: string;
  ruleSetVersion: string;
  /** Ids of the enabled rules for this event type, in the order they are evaluated. */
  rulesForEvent: string[];
  matchedRules: string[];
  evaluations: RuleEvaluation[];
  deliveries: PreviewedDelivery[];
  unknownFavoriteIds: string[];
}

const matches = (result: unknown): boolean => Boolean(result) && !(Array.isArray(result) && result.length === 0);

function subjectIds(subject: Subject): Pick<RuleEvaluation, 'favoriteId' | 'clientId' | 'agentId'> {
  return {
    favoriteId: subject.favorite?.favoriteId ?? null,
    clientId: subject.client?.clientId ?? subject.favorite?.clientId ?? null,
    agentId: subject.agent?.agentId ?? null,
  };
}

/** Evaluates the live rules on `input`. Throws WebhookBodyError when the payload is not a Repliers webhook body. */
export async function previewRules(context: AdminContext, input: RulePreviewInput): Promise<RulePreview> {
  const body = readWebhookBody(input.payload);
  const ruleSet = context.ruleSet();
  const event = {
    eventId: input.eventId ?? 'rule-preview',
    eventType: input.eventType,
    receivedAt: input.receivedAt ?? new Date().toISOString(),
  };
  const evaluations: RuleEvaluation[] = [];
  const deliveries: PreviewedDelivery[] = [];
  const matched = new Set<string>();
  const unknown: string[] = [];

  for (const resource of body.resources) {
    const routed = await routeResource(
      {
        store: context.store,
        ruleSet,
        viewOptions: context.viewOptions,
        logger: context.logger,
        onEvaluated: ({ rule, subject, result, error }) => {
          let failure: string | null = null;
          if (error !== undefined) failure = error instanceof Error ? error.message : String(error);
          evaluations.push({ ruleId: rule.id, ...subjectIds(subject), matched: failure === null && matches(result), error: failure });
        },
      },
      event,
      resource,
    );
    routed.matchedRules.forEach((id) => matched.add(id));
    unknown.push(...routed.unknownFavoriteIds);

    for (const delivery of routed.deliveries) {
      const entry: PreviewedDelivery = {
        key: delivery.key,
        ruleId: delivery.ruleId,
        connector: delivery.action.connector,
        template: delivery.action.template,
        recipient: recipientLabel(delivery.recipient),
        recordedStatus: input.eventId ? ((await context.store.getDelivery(delivery.key))?.status ?? null) : null,
        preview: null,
        skipped: null,
        error: null,
      };
      const connector = context.connectors.get(delivery.action.connector);
      try {
        if (!connector) throw new Error(`connector "${delivery.action.connector}" is not running in this hub`);
        entry.preview = connector.preview(delivery);
      } catch (error) {
        if (error instanceof DeliverySkipped) entry.skipped = error.message;
        else entry.error = error instanceof Error ? error.message : String(error);
      }
      deliveries.push(entry);
    }
  }

  return {
    eventType: input.eventType,
    ruleSetVersion: ruleSet.version,
    rulesForEvent: (ruleSet.byEvent.get(input.eventType) ?? []).map((rule) => rule.id),
    matchedRules: [...matched],
    evaluations,
    deliveries,
    unknownFavoriteIds: unknown,
  };
}
