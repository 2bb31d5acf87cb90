/**
 * Rules evaluated the way the events worker evaluates them: routeResource over a real SQLite mirror seeded with
 * the demo people around the Ottawa listings, capturing the rule data the hub builds for each favorite.
 */
import path from 'node:path';
import type { Delivery } from '../../connectors/connector.js';
import { buildDemoWorld, type DemoWorld } from '../../src/demo/demo-world.js';
import { readListingsFile } from '../../src/demo/listings-file.js';
import { createLogger } from '../../src/logger.js';
import { SqliteStore } from '../../src/mirror/sqlite/sqlite-store.js';
import type { RepliersListing } from '../../src/repliers/types.js';
import { readWebhookBody } from '../../src/repliers/webhook-body.js';
import { domainOperations } from '../../src/rules/domain-operations.js';
import { compileLogic } from '../../src/rules/logic/index.js';
import type { CompiledRule, RuleAction, RuleSet } from '../../src/rules/rule.js';
import { agentInput, clientInput, favoriteInput } from '../../src/workers/apply-to-mirror.js';
import { routeResource } from '../../src/workers/route-event.js';
import { sharedData } from '../helpers/test-hub.js';

export interface Evaluation {
  favoriteId: string | null;
  data: Record<string, unknown>;
  result: unknown;
}

export interface Routed {
  evaluations: Evaluation[];
  deliveries: Delivery[];
  /** Whether the rule matched for at least one favorite. */
  matched: boolean;
}

export interface RoutingHarness {
  world: DemoWorld;
  listings: RepliersListing[];
  store: SqliteStore;
  /** Routes one webhook body through a rule set made of `when` alone, for `event`. */
  route(when: unknown, event: string, body: unknown, actions?: RuleAction[]): Promise<Routed>;
  close(): Promise<void>;
}

/** Compiles conditions into a rule set as the loader does, without files. */
export function ruleSetOf(rules: { id: string; when: unknown; events: string[]; actions: RuleAction[] }[], version = 'test'): RuleSet {
  const compiled: CompiledRule[] = rules.map((rule) => ({
    ...rule,
    description: rule.id,
    disabled: false,
    file: `${rule.id}.json`,
    condition: compileLogic(rule.when, { operations: domainOperations }),
  }));
  const byEvent = new Map<string, CompiledRule[]>();
  for (const rule of compiled) for (const event of rule.events) byEvent.set(event, [...(byEvent.get(event) ?? []), rule]);
  return { version, rules: compiled, byEvent };
}

export async function startRoutingHarness(): Promise<RoutingHarness> {
  const listings = await readListingsFile(path.join(sharedData, 'repliers/listings-search-ottawa.json'));
  const world = buildDemoWorld(listings);
  const store = new SqliteStore(':memory:');
  await store.migrate();
  const at = '2026-01-01T00:00:00.000Z';
  for (const agent of world.agents) await store.upsertAgent(agentInput(agent), at);
  for (const client of world.clients) await store.upsertClient(clientInput(client), at);
  for (const favorite of world.favorites) await store.applyFavoriteCreated(favoriteInput(favorite as unknown as Record<string, unknown>)!, at);

  const logger = createLogger('silent');
  return {
    world,
    listings,
    store,
    async route(when, event, body, actions = [{ connector: 'email', template: 'price-drop', to: 'clients' }]) {
      const ruleSet = ruleSetOf([{ id: 'rule-under-test', when, events: [event], actions }]);
      const evaluations: Evaluation[] = [];
      const deliveries: Delivery[] = [];
      for (const resource of readWebhookBody(body).resources) {
        const routed = await routeResource(
          {
            store,
            ruleSet,
            viewOptions: { imageBaseUrl: 'https://images.example/', listingUrlTemplate: '' },
            logger,
            onEvaluated: ({ subject, data, result, error }) => {
              if (error !== undefined) throw error;
              evaluations.push({ favoriteId: subject.favorite?.favoriteId ?? null, data, result });
            },
          },
          { eventId: 'event-under-test', eventType: event, receivedAt: at },
          resource,
        );
        deliveries.push(...routed.deliveries);
      }
      return { evaluations, deliveries, matched: evaluations.some((evaluation) => Boolean(evaluation.result)) };
    },
    async close() {
      await store.close();
    },
  };
}
