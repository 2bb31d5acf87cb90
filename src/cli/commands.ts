/** The work behind each `hub` subcommand. */
import type { Settings } from '../config/settings.js';
import { HookSecrets } from '../ingress/hook-secrets.js';
import { connectRedis, startHub, type Role } from '../hub.js';
import { redisTargetOf } from '../queue/queues.js';
import { createLogger } from '../logger.js';
import { openStore } from '../mirror/open-store.js';
import { isRepliersEvent, repliersEvents } from '../repliers/events.js';
import { countOf, noun } from '../plural.js';
import { serveRepliersStandIn } from '../demo/serve-repliers.js';

/** A mistake in how a command was called; the CLI prints its message alone. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export async function startCommand(settings: Readonly<Settings>, role: Role): Promise<void> {
  const logger = createLogger(settings.logLevel);
  const hub = await startHub(settings, role, logger);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal while stopping: exiting without waiting for requests and jobs');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping: finishing requests and jobs in flight');
    hub.close().then(
      () => {
        logger.info({ signal }, 'stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** Runs `hub demo repliers`: serves the Repliers stand-in until SIGINT or SIGTERM, then exits with 0. */
export async function repliersStandInCommand(options: { listingsFile?: string; port?: number }): Promise<void> {
  const standIn = await serveRepliersStandIn(options);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the Repliers stand-in`);
    standIn.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`hub: the Repliers stand-in did not stop cleanly: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * Opens the handshake window of each event for `minutes` (HANDSHAKE_WINDOW_SECONDS by default). With `rotate`, the
 * next handshake replaces a stored secret, which then stays valid for HOOK_SECRET_GRACE_SECONDS.
 */
function describeMinutes(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  return countOf(minutes, 'minute');
}

export async function expectWebhooks(
  settings: Readonly<Settings>,
  events: string[],
  minutes?: number,
  options: { rotate?: boolean } = {},
): Promise<void> {
  const unknown = events.filter((event) => !isRepliersEvent(event));
  if (unknown.length > 0) {
    throw new UsageError(`unknown ${noun(unknown.length, 'event')}: ${unknown.join(', ')}; use one of ${repliersEvents.join(', ')}`);
  }
  const seconds = minutes ? minutes * 60 : settings.handshakeWindowSeconds;
  const redis = await connectRedis(redisTargetOf(settings), 'producer', createLogger(settings.logLevel));
  const store = await openStore(settings.databaseUrl);
  try {
    const secrets = new HookSecrets(store, redis, settings.queuePrefix, { graceSeconds: settings.hookSecretGraceSeconds });
    for (const event of events) {
      await secrets.expect(event, seconds, { rotate: options.rotate });
      const existing = await store.getHookSubscription(event);
      let note = '';
      if (existing && options.rotate) {
        note = ` (the next handshake replaces the stored secret, which stays valid ${settings.hookSecretGraceSeconds} seconds longer)`;
      } else if (existing) {
        note = ' (a secret is already stored for it and will be kept; use --rotate to replace it)';
      }
      console.log(`expecting a handshake on /webhooks/repliers/${event} for ${describeMinutes(seconds)}${note}`);
    }
  } finally {
    redis.disconnect();
    await store.close();
  }
}
