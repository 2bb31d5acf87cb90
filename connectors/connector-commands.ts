/** The work behind `hub connectors status` and `hub connectors resume <name>`. */
import { Queue } from 'bullmq';
import { UsageError } from '../src/cli/commands.js';
import type { Settings } from '../src/config/settings.js';
import { connectRedis } from '../src/hub.js';
import { createLogger } from '../src/logger.js';
import { deliveryQueueName, redisTargetOf } from '../src/queue/queues.js';
import { readConnectorPause, resumeConnector } from './connector-pause.js';
import { connectorNames, withConnectors } from './registry.js';


async function withQueue<T>(settings: Readonly<Settings>, connector: string, run: (queue: Queue, redis: import('ioredis').Redis) => Promise<T>): Promise<T> {
  const redis = await connectRedis(redisTargetOf(settings), 'producer', createLogger(settings.logLevel));
  const queue = new Queue(deliveryQueueName(connector), { connection: redis, prefix: settings.queuePrefix });
  try {
    return await run(queue, redis);
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/** Resumes a paused connector at once and prints how many deliveries wait for it. */
export async function resumeConnectorCommand(settings: Readonly<Settings>, connector: string): Promise<void> {
  if (!(connectorNames as readonly string[]).includes(connector)) {
    throw new UsageError(`unknown connector "${connector}"; use one of ${connectorNames.join(', ')}`);
  }
  await withQueue(settings, connector, async (queue, redis) => {
    const pause = await readConnectorPause(redis, settings.queuePrefix, connector);
    const wasPaused = await resumeConnector(queue, redis, settings.queuePrefix, connector);
    const waiting = await queue.getJobCountByTypes('wait', 'delayed', 'prioritized');
    if (!wasPaused) {
      console.log(`${connector} was not paused; ${waiting} deliveries are queued`);
      return;
    }
    const reason = pause ? ` (paused since ${pause.since} for ${pause.code})` : '';
    console.log(`${connector} resumed${reason}; ${waiting} deliveries are queued`);
  });
}

/** Prints each connector's queue counts, whether it is paused and why, and whether it writes to the outbox. */
export async function connectorStatusCommand(settings: Readonly<Settings>): Promise<void> {
  // The modes tell which connectors have their service configured where this command runs.
  const modes = await withConnectors(settings, async (built) => new Map([...built].map(([name, connector]) => [name, connector.mode])));

  for (const connector of connectorNames) {
    await withQueue(settings, connector, async (queue, redis) => {
      const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'failed');
      const paused = await queue.isPaused();
      const pause = await readConnectorPause(redis, settings.queuePrefix, connector);
      let state = 'running';
      if (paused) state = pause ? `paused until ${pause.until} (${pause.code}: ${pause.reason})` : 'paused by hand';
      const outbox = modes.get(connector) === 'outbox' ? ', writing to the outbox (its service is not configured here)' : '';
      console.log(`${connector}: ${state}${outbox}; ${counts.wait ?? 0} waiting, ${counts.active ?? 0} active, ${counts.delayed ?? 0} delayed, ${counts.failed ?? 0} failed`);
    });
  }
}
