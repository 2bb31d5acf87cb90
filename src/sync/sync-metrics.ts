/**
 * Metrics of keeping the mirror equal to Repliers: drift found and repaired by each reconcile, reconcile runs, and
 * favorites that a listing.updated named but the mirror lacked. All live in the hub's shared registry.
 */
import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../metrics/registry.js';
import type { ReconcileReport } from './reconcile-mirror.js';

const driftRepaired = new Counter({
  name: 'hub_mirror_drift_repaired_total',
  help: 'Differences between the mirror and Repliers repaired by reconciles, by entity (agent, client, favorite) and kind (added, changed, removed).',
  labelNames: ['entity', 'kind'] as const,
  registers: [metricsRegistry],
});

const driftLast = new Gauge({
  name: 'hub_mirror_drift_last',
  help: 'Differences found by the last finished reconcile, by entity and kind (added, changed, removed, conflict); 0 everywhere means the mirror matched Repliers.',
  labelNames: ['entity', 'kind'] as const,
  registers: [metricsRegistry],
});

const reconcileRuns = new Counter({
  name: 'hub_mirror_reconcile_runs_total',
  help: 'Reconciles of the mirror with Repliers, by outcome (ok, partial when some clients could not be read, failed, skipped when another was running).',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

// The two gauges below join the registry only once they hold a value, because prom-client exports an unset gauge
// without labels as 0. A staleness alert would read that 0 as a success in 1970, and a dashboard as an instant run.
const reconcileLastSuccess = new Gauge({
  name: 'hub_mirror_reconcile_last_success_seconds',
  help: 'Unix time at which the last reconcile that read every client finished, exported once such a reconcile has finished.',
  registers: [],
});

const reconcileDuration = new Gauge({
  name: 'hub_mirror_reconcile_duration_seconds',
  help: 'Duration of the last finished reconcile, in seconds, exported once a reconcile has finished.',
  registers: [],
});

const lazyFill = new Counter({
  name: 'hub_mirror_lazy_fill_favorites_total',
  help: 'Favorites named by a listing.updated that the mirror lacked, by result: filled (fetched before routing) or unknown (still missing, so not routed).',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

const entities = ['agent', 'client', 'favorite'] as const;

/** Records a finished reconcile in the drift gauges and counters. */
export function recordReconcile(report: ReconcileReport): void {
  const byEntity = { agent: report.agents, client: report.clients, favorite: report.favorites };
  for (const entity of entities) {
    const counts = byEntity[entity];
    for (const kind of ['added', 'changed', 'removed', 'conflict'] as const) {
      driftLast.set({ entity, kind }, counts[kind]);
      if (kind !== 'conflict' && counts[kind] > 0) driftRepaired.inc({ entity, kind }, counts[kind]);
    }
  }
  const outcome = report.failedClients > 0 ? 'partial' : 'ok';
  reconcileRuns.inc({ outcome });
  reconcileDuration.set(report.durationMs / 1000);
  // prom-client accepts registering the same gauge again, so later runs need no check.
  metricsRegistry.registerMetric(reconcileDuration);
  if (outcome === 'ok') {
    reconcileLastSuccess.set(Date.parse(report.finishedAt) / 1000);
    metricsRegistry.registerMetric(reconcileLastSuccess);
  }
}

/** Counts a reconcile that failed before it finished, or that was skipped because another was running. */
export function recordReconcileNotFinished(outcome: 'failed' | 'skipped'): void {
  reconcileRuns.inc({ outcome });
}

/** Counts favorites that lazy fill fetched, and those still unknown after it. */
export function recordLazyFill(filled: number, unknown: number): void {
  if (filled > 0) lazyFill.inc({ result: 'filled' }, filled);
  if (unknown > 0) lazyFill.inc({ result: 'unknown' }, unknown);
}
