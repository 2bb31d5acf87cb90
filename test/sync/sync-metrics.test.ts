/**
 * The reconcile metrics on a real hub's `/metrics`. The hub runs without REPLIERS_API_KEY, so it schedules no
 * reconcile, and the test records finished reconciles itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type RunningHub } from '../../src/hub.js';
import { createLogger } from '../../src/logger.js';
import type { DriftCounts, ReconcileReport } from '../../src/sync/reconcile-mirror.js';
import { recordReconcile } from '../../src/sync/sync-metrics.js';
import { testHubSettings, type TestHubFolder } from '../helpers/test-hub.js';

let folder: TestHubFolder;
let hub: RunningHub;

beforeAll(async () => {
  folder = await testHubSettings();
  hub = await startHub(folder.settings, 'all', createLogger('silent'));
});

afterAll(async () => {
  await hub?.close();
  await folder?.cleanup();
});

function noDrift(): DriftCounts {
  return { read: 1, added: 0, changed: 0, removed: 0, conflict: 0 };
}

function report(finishedAt: string, failedClients: number): ReconcileReport {
  return {
    startedAt: finishedAt,
    finishedAt,
    durationMs: 1500,
    agents: noDrift(),
    clients: noDrift(),
    favorites: noDrift(),
    unsettledClients: 0,
    failedClients,
    samples: {},
  };
}

async function scrape(): Promise<string> {
  const response = await fetch(`${hub.url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

describe('reconcile gauges', () => {
  it('is absent with no reconcile scheduled', async () => {
    const text = await scrape();

    expect(text).toContain('hub_mirror_reconcile_runs_total');
    expect(text).not.toContain('hub_mirror_reconcile_last_success_seconds');
    expect(text).not.toContain('hub_mirror_reconcile_duration_seconds');
  });

  it('appears only after a full run', async () => {
    recordReconcile(report('2025-03-01T10:00:00.000Z', 2));
    const afterPartial = await scrape();

    recordReconcile(report('2025-03-01T11:00:00.000Z', 0));
    const afterOk = await scrape();

    expect(afterPartial).toContain('hub_mirror_reconcile_runs_total{outcome="partial"} 1');
    expect(afterPartial).not.toContain('hub_mirror_reconcile_last_success_seconds');
    expect(afterPartial).toMatch(/^hub_mirror_reconcile_duration_seconds 1.5$/m);
    expect(afterOk).toContain('# TYPE hub_mirror_reconcile_last_success_seconds gauge');
    expect(afterOk).toMatch(/^hub_mirror_reconcile_last_success_seconds 1740826800$/m);
  });
});
