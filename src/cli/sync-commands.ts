/** `hub sync` and `hub subscribe`: filling the mirror from Repliers and subscribing Repliers to the hub. */
import type { Settings } from '../config/settings.js';
import { connectRedis } from '../hub.js';
import { redisTargetOf } from '../queue/queues.js';
import { HookSecrets } from '../ingress/hook-secrets.js';
import { createLogger } from '../logger.js';
import { openStore } from '../mirror/open-store.js';
import { RepliersApi } from '../repliers/api-client.js';
import { reconcileMirror, type DriftCounts, type ReconcileReport } from '../sync/reconcile-mirror.js';
import { subscribeHub, type SubscriptionResult } from '../sync/subscribe-hub.js';
import { createProgressReporter } from '../sync/sync-progress.js';
import { UsageError } from './commands.js';

export interface CommandOutput {
  /** Receives the summary, one line per call. */
  print(line: string): void;
  /** Receives progress; a TTY gets a bar redrawn in place. */
  progress: { write(text: string): unknown; isTTY?: boolean; columns?: number };
}

const consoleOutput: CommandOutput = { print: (line) => console.log(line), progress: process.stderr };

function repliersOf(settings: Readonly<Settings>, command: string): RepliersApi {
  if (!settings.repliersApiKey) {
    throw new UsageError(`the ${command} command needs REPLIERS_API_KEY: set it to the API key of the Repliers account.`);
  }
  return new RepliersApi({ baseUrl: settings.repliersApiUrl, apiKey: settings.repliersApiKey });
}

function countsLine(label: string, counts: DriftCounts): string {
  const conflicts = counts.conflict > 0 ? `, ${counts.conflict} deleted here but live in Repliers (left deleted)` : '';
  return (
    `  ${label.padEnd(10)} ${String(counts.read).padStart(8)} read, ${counts.added} added, ${counts.changed} changed, ` +
    `${counts.removed} removed${conflicts}`
  );
}

/** Formats the summary of a reconcile, one line per entity and one for clients that could not be read fully. */
export function formatSyncSummary(report: ReconcileReport): string[] {
  const lines = [
    `Mirror synced with Repliers in ${(report.durationMs / 1000).toFixed(1)} s:`,
    countsLine('agents', report.agents),
    countsLine('clients', report.clients),
    countsLine('favorites', report.favorites),
  ];
  if (report.unsettledClients > 0) {
    lines.push(`  ${report.unsettledClients} clients' favorites changed while read: favorites missing from them were kept`);
  }
  if (report.failedClients > 0) {
    lines.push(`  ${report.failedClients} clients' favorites could not be read (see the log); run hub sync again`);
  }
  return lines;
}

/**
 * Runs `hub sync`: reads every agent, client and favorite from Repliers into the mirror and repairs what differs.
 * Returns the exit code: 0, or 1 when the favorites of some clients could not be read.
 */
export async function syncCommand(
  settings: Readonly<Settings>,
  options: { concurrency?: number } = {},
  output: CommandOutput = consoleOutput,
): Promise<number> {
  const repliers = repliersOf(settings, 'sync');
  // Warnings about single clients go to stderr as JSON lines, apart from the summary on stdout.
  const logger = createLogger(settings.logLevel, process.stderr);
  const store = await openStore(settings.databaseUrl);
  const progress = createProgressReporter(output.progress);
  try {
    const report = await reconcileMirror({
      store,
      repliers,
      logger,
      concurrency: options.concurrency ?? settings.syncConcurrency,
      onProgress: (step) => progress.update(step),
    });
    progress.finish();
    for (const line of formatSyncSummary(report)) output.print(line);
    return report.failedClients > 0 ? 1 : 0;
  } finally {
    progress.finish();
    await store.close();
  }
}

function describeResult(result: SubscriptionResult): string {
  const id = result.webhookId === null ? '' : ` (webhook ${result.webhookId})`;
  switch (result.outcome) {
    case 'created':
      return `  ${result.event.padEnd(17)} subscribed${id}`;
    case 'existing':
      return `  ${result.event.padEnd(17)} already subscribed${id}`;
    case 'failed':
      return `  ${result.event.padEnd(17)} failed: ${result.error ?? 'unknown error'}`;
  }
}

/**
 * Runs `hub subscribe --url <base>`: subscribes the hub's paths under `baseUrl` with Repliers. Returns the exit
 * code: 0, or 1 when an event could not be subscribed.
 */
export async function subscribeCommand(
  settings: Readonly<Settings>,
  baseUrl: string,
  minutes?: number,
  output: CommandOutput = consoleOutput,
): Promise<number> {
  const repliers = repliersOf(settings, 'subscribe');
  const redis = await connectRedis(redisTargetOf(settings), 'producer', createLogger(settings.logLevel));
  const store = await openStore(settings.databaseUrl);
  try {
    const secrets = new HookSecrets(store, redis, settings.queuePrefix, { graceSeconds: settings.hookSecretGraceSeconds });
    const results = await subscribeHub({
      repliers,
      secrets,
      store,
      baseUrl,
      windowSeconds: minutes ? minutes * 60 : settings.handshakeWindowSeconds,
    });
    if (new URL(baseUrl).protocol === 'http:' && !/^(localhost|127\.|\[::1\])/.test(new URL(baseUrl).host)) {
      output.print('Note: over http the hook secret of every delivery crosses the network unencrypted; use https.');
    }
    output.print(`Repliers subscriptions of ${baseUrl.replace(/\/+$/, '')}/webhooks/repliers/<event>:`);
    for (const result of results) output.print(describeResult(result));
    return results.some((result) => result.outcome === 'failed') ? 1 : 0;
  } finally {
    redis.disconnect();
    await store.close();
  }
}
