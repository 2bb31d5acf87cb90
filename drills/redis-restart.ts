/**
 * Drill: Redis restarted mid-load. The hub runs on a private redis-server (append-only, on a free port) that is
 * stopped with SIGTERM, so it syncs its append-only file, and started again on the same port and folder while
 * webhooks keep arriving. The API responds 503 while Redis is down. The sender retries those as Repliers would, so they
 * count as not yet accepted, never as lost.
 *
 * DRILL_REDIS_SIGNAL=SIGKILL stops Redis as a crash of the redis-server process would. Redis 7 writes the append-only
 * buffer to the file before it sends replies (in beforeSleep), so the kernel has every accepted event even then,
 * unless Redis was postponing that write behind an fsync more than 2 s late. What `appendfsync everysec` can lose is the
 * last second before a crash of the whole machine, which no drill here makes.
 *
 * Run: npx tsx drills/redis-restart.ts   (DRILL_REDIS_EVENTS=300, DRILL_REDIS_RATE=40, DRILL_REDIS_DOWN_SECONDS=5,
 * DRILL_REDIS_STOP_AT=0.3 of the events sent, DRILL_REDIS_SIGNAL=SIGTERM, DRILL_DEADLINE_SECONDS=150 after the last
 * webhook)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { numberSetting, runDrill } from './support/drill-harness.js';
import { emailPriceDropRule, priceDropWebhook } from './support/drill-world.js';
import { startRedisServer } from './support/redis-server-process.js';

const events = numberSetting('DRILL_REDIS_EVENTS', 300);
const rate = numberSetting('DRILL_REDIS_RATE', 40);
const downSeconds = numberSetting('DRILL_REDIS_DOWN_SECONDS', 5);
const stopAt = numberSetting('DRILL_REDIS_STOP_AT', 0.3);
const deadlineSeconds = numberSetting('DRILL_DEADLINE_SECONDS', 150);
const signal = process.env.DRILL_REDIS_SIGNAL ?? 'SIGTERM';
if (signal !== 'SIGTERM' && signal !== 'SIGKILL') throw new Error(`DRILL_REDIS_SIGNAL must be SIGTERM or SIGKILL; got "${signal}"`);

const redisDir = await mkdtemp(path.join(os.tmpdir(), 'hub-drill-redis-'));
const redis = await startRedisServer(redisDir);
try {
  await runDrill(
    {
      name: 'redis-restart',
      title: `Redis stopped (${signal}) for ${downSeconds} s and restarted mid-load (append-only file synced every second, private redis-server)`,
      rules: [emailPriceDropRule],
      clients: Math.min(events, 200),
      redisUrl: redis.url,
    },
    async (drill) => {
      await drill.startProcess('api');
      await drill.startProcess('worker');
      await drill.connect(['favorite.created', 'listing.updated']);
      await drill.seedFavorites();

      const stopIndex = Math.floor(events * stopAt);
      let restart: Promise<void> = Promise.resolve();
      const webhooks = Array.from({ length: events }, (_unused, index) => priceDropWebhook(drill.world, index));
      await drill.sendLoad(webhooks, rate, (index) => {
        if (index !== stopIndex) return;
        // The restart runs beside the sending, so webhooks keep arriving while Redis is down.
        restart = (async () => {
          const stopped = performance.now();
          await redis.stop(signal);
          await sleep(downSeconds * 1000);
          await redis.start();
          drill.notes.push(`Redis stopped after ${index} webhooks sent and answered PING again ${((performance.now() - stopped) / 1000).toFixed(1)} s later`);
        })();
      });
      await restart;

      const complete = await drill.waitForDeliveries(deadlineSeconds * 1000);
      if (!complete) drill.notes.push(`deadline of ${deadlineSeconds} s after the last webhook passed before every email arrived`);
    },
  );
} finally {
  await redis.close();
  await rm(redisDir, { recursive: true, force: true });
}
