/**
 * Metrics of the live rule set, on the hub's shared registry: which version is live and how many reloads failed.
 * A failed reload leaves the previous version live, so the two together show a broken edit waiting to be fixed.
 */
import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../metrics/registry.js';

const ruleSetInfo = new Gauge({
  name: 'hub_rule_set_info',
  help: 'The live rule set of this process: 1 with its version and rule count as labels.',
  labelNames: ['version', 'rules'] as const,
  registers: [metricsRegistry],
});

const ruleReloadFailures = new Counter({
  name: 'hub_rule_reload_failures_total',
  help: 'Rule reloads that failed and kept the previous rule set live, by trigger (watch or command).',
  labelNames: ['trigger'] as const,
  registers: [metricsRegistry],
});

/** Shows `version` as the live rule set, replacing the series of `previous` when there was one. */
export function recordLiveRuleSet(version: string, rules: number, previous: { version: string; rules: number } | null): void {
  // NOTE: several live rule sets in one process (as in tests) share the gauge, so it shows the last one set.
  if (previous) ruleSetInfo.remove({ version: previous.version, rules: String(previous.rules) });
  ruleSetInfo.set({ version, rules: String(rules) }, 1);
}

/** Removes the series of a rule set that is no longer live, such as on shutdown. */
export function forgetLiveRuleSet(version: string, rules: number): void {
  ruleSetInfo.remove({ version, rules: String(rules) });
}

export function countFailedReload(trigger: string): void {
  ruleReloadFailures.inc({ trigger });
}
