/** Settings and clean-up for tests that run a real hub on the local Redis. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { loadSettings, type Settings } from '../../src/config/settings.js';
import { deliveryQueueName, eventsQueueName } from '../../src/queue/queues.js';
import { reconcileQueueName } from '../../src/sync/reconcile-scheduler.js';

export const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const sharedData = path.resolve(repoRoot, '../shared/data');

export interface TestHubFolder {
  dir: string;
  settings: Readonly<Settings>;
  cleanup(): Promise<void>;
}

/** Settings with a unique queue prefix and a temporary folder for the store and the outbox. */
export async function testHubSettings(env: Record<string, string> = {}): Promise<TestHubFolder> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-test-'));
  const settings = loadSettings({
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: redisUrl,
    DATABASE_URL: path.join(dir, 'hub.sqlite'),
    OUTBOX_DIR: path.join(dir, 'outbox'),
    QUEUE_PREFIX: `hub-test-${randomBytes(5).toString('hex')}`,
    RULES_DIR: path.join(repoRoot, 'rules'),
    LOG_LEVEL: 'silent',
    ...env,
  });
  return {
    dir,
    settings,
    async cleanup() {
      for (const name of [eventsQueueName, reconcileQueueName, ...['email', 'slack', 'salesforce', 'webhook'].map(deliveryQueueName)]) {
        const queue = new Queue(name, { connection: { url: settings.redisUrl }, prefix: settings.queuePrefix });
        await queue.obliterate({ force: true });
        await queue.close();
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
