/** The work behind each `hub` subcommand. */
import { createConnectors, templatesOf } from '../../connectors/registry.js';
import type { Settings } from '../config/settings.js';
import { HookSecrets } from '../ingress/hook-secrets.js';
import { connectRedis, startHub, type Role } from '../hub.js';
import { createLogger } from '../logger.js';
import { openStore } from '../mirror/open-store.js';
import { isRepliersEvent, repliersEvents } from '../repliers/events.js';
import { formatProblem, loadRuleSet, RuleLoadError } from '../rules/load-rules.js';

/** A mistake in how a command was called; the CLI prints its message alone. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export async function startCommand(settings: Readonly<Settings>, role: Role): Promise<void> {
  const logger = createLogger(settings.logLevel);
  const hub = await startHub(settings, role, logger);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing requests and jobs in flight');
    hub.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

export async function expectWebhooks(settings: Readonly<Settings>, events: string[], minutes?: number): Promise<void> {
  const unknown = events.filter((event) => !isRepliersEvent(event));
  if (unknown.length > 0) {
    throw new UsageError(`unknown event(s): ${unknown.join(', ')}; use one of ${repliersEvents.join(', ')}`);
  }
  const seconds = minutes ? minutes * 60 : settings.handshakeWindowSeconds;
  const redis = await connectRedis(settings.redisUrl, 'producer', createLogger(settings.logLevel));
  const store = await openStore(settings.databaseUrl);
  try {
    const secrets = new HookSecrets(store, redis, settings.queuePrefix);
    for (const event of events) {
      await secrets.expect(event, seconds);
      const existing = await store.getHookSubscription(event);
      const note = existing ? ' (a secret is already stored for it and will be kept)' : '';
      console.log(`expecting a handshake on /webhooks/repliers/${event} for ${Math.round(seconds / 60)} minutes${note}`);
    }
  } finally {
    redis.disconnect();
    await store.close();
  }
}

export async function checkRules(settings: Readonly<Settings>, dir?: string): Promise<number> {
  const logger = createLogger('silent');
  const connectors = createConnectors(settings, logger);
  try {
    const ruleSet = await loadRuleSet(dir ?? settings.rulesDir, templatesOf(connectors));
    const enabled = ruleSet.rules.filter((rule) => !rule.disabled).length;
    console.log(`${ruleSet.rules.length} rules are valid (${enabled} enabled), version ${ruleSet.version}`);
    return 0;
  } catch (error) {
    if (!(error instanceof RuleLoadError)) throw error;
    for (const problem of error.problems) console.error(formatProblem(problem));
    console.error(`${error.problems.length} problem(s) found`);
    return 1;
  } finally {
    await Promise.all([...connectors.values()].map((connector) => connector.close()));
  }
}
