/**
 * The rule set a process routes with, replaced whole while the process runs. A change in the rules folder (seen by
 * fs.watch, debounced) or a request on the Redis reload channel loads the folder again. A valid folder replaces
 * the live set in one assignment, so an event is routed by one version from start to end. A folder with any
 * problem changes nothing: the previous set stays live, and the problems go to the log and to
 * `hub_rule_reload_failures_total`.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { formatProblem, loadRuleSet, RuleLoadError, type ConnectorTemplates } from './load-rules.js';
import { parseReloadRequest, reloadChannel, reloadReplyChannel, replyIdentity, type ReloadReply } from './reload-channel.js';
import type { RuleSet } from './rule.js';
import { countFailedReload, forgetLiveRuleSet, recordLiveRuleSet } from './rule-set-metrics.js';

/** The cause of a reload: a change in the folder, or a reload request. */
export type ReloadTrigger = 'watch' | 'command';

export type ReloadOutcome =
  | { outcome: 'replaced'; version: string; previousVersion: string }
  | { outcome: 'unchanged'; version: string }
  | { outcome: 'failed'; version: string; problems: string[] };

export interface LiveRuleSetOptions {
  dir: string;
  connectors: ConnectorTemplates;
  logger: Logger;
  /** Whether to reload when a file in `dir` changes. Default true. */
  watch?: boolean;
  /** Quiet time after the last change in the folder before it is loaded, in ms. Default 250. */
  debounceMs?: number;
  /**
   * Reload requests over Redis: `subscriber` is a connection of its own, put in subscriber mode on
   * `<prefix>:rules:reload`; outcomes are published through `publisher`. Leave out to take no requests.
   */
  reloadRequests?: { subscriber: Redis; publisher: Redis; prefix: string };
}

export class LiveRuleSet {
  private live: RuleSet;
  private watcher: FSWatcher | null = null;
  private debounceTimer: NodeJS.Timeout | null = null;
  private running: Promise<ReloadOutcome> | null = null;
  private again: ReloadTrigger | null = null;
  private closed = false;

  private constructor(
    private readonly options: LiveRuleSetOptions,
    initial: RuleSet,
  ) {
    this.live = initial;
  }

  /**
   * Loads the folder and starts watching it and listening for reload requests. Throws RuleLoadError when the
   * folder has any problem, because a process must not start without a valid rule set.
   */
  static async start(options: LiveRuleSetOptions): Promise<LiveRuleSet> {
    const initial = await loadRuleSet(options.dir, options.connectors);
    const liveSet = new LiveRuleSet(options, initial);
    recordLiveRuleSet(initial.version, initial.rules.length, null);
    if (options.watch ?? true) liveSet.startWatching();
    if (options.reloadRequests) await liveSet.listen(options.reloadRequests);
    return liveSet;
  }

  /** Returns the rule set live now. Callers take it once per event, so each event is routed by one version. */
  current(): RuleSet {
    return this.live;
  }

  /**
   * Loads the folder and makes it live when it is valid and differs from the live set. Reloads never overlap: a
   * request during a reload runs once more after it, so the last change is always loaded.
   */
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    if (this.running) {
      this.again = trigger;
      return this.running.then(() => this.running ?? this.reload(trigger));
    }
    this.running = this.loadOnce(trigger).finally(() => {
      this.running = null;
      const pending = this.again;
      this.again = null;
      if (pending && !this.closed) void this.reload(pending);
    });
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.watcher?.close();
    this.watcher = null;
    await this.running?.catch(() => undefined);
    const requests = this.options.reloadRequests;
    if (requests) {
      requests.subscriber.removeAllListeners('message');
      requests.subscriber.disconnect();
    }
    forgetLiveRuleSet(this.live.version, this.live.rules.length);
  }

  private async loadOnce(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const { logger } = this.options;
    const previous = this.live;
    let next: RuleSet;
    try {
      next = await loadRuleSet(this.options.dir, this.options.connectors);
    } catch (error) {
      const problems = error instanceof RuleLoadError ? error.problems.map(formatProblem) : [(error as Error).message];
      countFailedReload(trigger);
      logger.error(
        { trigger, ruleSetVersion: previous.version, problemCount: problems.length, problems: problems.slice(0, 20) },
        'rules reload failed, previous rule set kept',
      );
      return { outcome: 'failed', version: previous.version, problems };
    }

    if (next.version === previous.version) {
      logger.debug({ trigger, ruleSetVersion: previous.version }, 'rules unchanged');
      return { outcome: 'unchanged', version: previous.version };
    }
    if (this.closed) return { outcome: 'unchanged', version: previous.version };
    this.live = next;
    recordLiveRuleSet(next.version, next.rules.length, { version: previous.version, rules: previous.rules.length });
    logger.info(
      { trigger, ruleSetVersion: next.version, previousVersion: previous.version, rules: next.rules.length },
      'rules reloaded',
    );
    return { outcome: 'replaced', version: next.version, previousVersion: previous.version };
  }

  private startWatching(): void {
    const { dir, logger } = this.options;
    const debounceMs = this.options.debounceMs ?? 250;
    try {
      this.watcher = watch(dir, { persistent: false }, () => {
        // Editors write a file in several steps (truncate, write, rename), so the folder is read once it is quiet.
        if (this.debounceTimer) clearTimeout(this.debounceTimer);
        this.debounceTimer = setTimeout(() => {
          this.debounceTimer = null;
          if (!this.closed) void this.reload('watch');
        }, debounceMs);
      });
    } catch (error) {
      logger.error({ dir, err: error }, 'cannot watch the rules folder; use `hub rules reload` after editing rules');
      return;
    }
    this.watcher.on('error', (error) => {
      // The folder was removed or replaced: the live set stays, and a reload request can still load it again.
      logger.error({ dir, err: error }, 'rules folder watch stopped; use `hub rules reload` after editing rules');
      this.watcher?.close();
      this.watcher = null;
    });
  }

  private async listen(requests: NonNullable<LiveRuleSetOptions['reloadRequests']>): Promise<void> {
    const { subscriber, publisher, prefix } = requests;
    const { logger } = this.options;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== reloadChannel(prefix) || this.closed) return;
      const request = parseReloadRequest(message);
      void this.reload('command').then(async (result) => {
        if (!request || this.closed) return;
        const reply: ReloadReply = {
          requestId: request.requestId,
          ...replyIdentity(),
          outcome: result.outcome,
          version: result.version,
          problems: result.outcome === 'failed' ? result.problems.slice(0, 20) : [],
        };
        await publisher.publish(reloadReplyChannel(prefix), JSON.stringify(reply)).catch((error: unknown) => {
          logger.warn({ err: error }, 'rules reload outcome not published');
        });
      });
    });
    await subscriber.subscribe(reloadChannel(prefix));
  }
}
