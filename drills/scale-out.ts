/**
 * Drill: scale-out. Two API processes and two worker processes share one Redis and one PostgreSQL store, as they
 * would on several machines. Webhooks go to both APIs in turn; price drops become an email and a Slack message each.
 * The queue prefix carries a Redis Cluster hash tag (`{hub-drill-…}`), which a plain Redis takes as it is.
 *
 * Run: npx tsx drills/scale-out.ts   (DRILL_SCALE_EVENTS=400, DRILL_SCALE_RATE=60,
 * DRILL_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test, DRILL_DEADLINE_SECONDS=150)
 * A schema of its own is created in that database and dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { numberSetting, runDrill } from './support/drill-harness.js';
import { emailPriceDropRule, priceDropWebhook, slackPriceDropRule } from './support/drill-world.js';
import type { HubProcess } from './support/hub-process.js';

const events = numberSetting('DRILL_SCALE_EVENTS', 400);
const rate = numberSetting('DRILL_SCALE_RATE', 60);
const deadlineSeconds = numberSetting('DRILL_DEADLINE_SECONDS', 150);
const postgresUrl = process.env.DRILL_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const schema = `hub_drill_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: postgresUrl });
await admin.connect();
await admin.query(`CREATE SCHEMA ${schema}`);
const databaseUrl = `${postgresUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;

try {
  await runDrill(
    {
      name: 'scale-out',
      title: 'two API and two worker processes on one Redis and one PostgreSQL store, queue prefix with a hash tag',
      rules: [emailPriceDropRule, slackPriceDropRule],
      clients: Math.min(events, 200),
      databaseUrl,
      prefix: (suffix) => `{hub-drill-${suffix}}`,
    },
    async (drill) => {
      const apis = [await drill.startProcess('api'), await drill.startProcess('api')];
      const workers = [await drill.startProcess('worker'), await drill.startProcess('worker')];
      drill.notes.push(`queue prefix ${drill.prefix}, store in PostgreSQL schema ${schema}; ${await drill.workerCount()} worker processes on the events queue`);
      await drill.connect(['favorite.created', 'listing.updated']);
      const cpuBefore = workers.map((worker) => worker.cpuSeconds() ?? 0);
      await drill.seedFavorites();

      const webhooks = Array.from({ length: events }, (_unused, index) => priceDropWebhook(drill.world, index));
      await drill.sendLoad(webhooks, rate);
      const complete = await drill.waitForDeliveries(deadlineSeconds * 1000);

      const share = (process: HubProcess) => `${drill.sender.acceptedBy.get(process.url) ?? 0}`;
      drill.notes.push(`202 answers per API process: ${apis.map(share).join(' and ')}`);
      const cpu = workers.map((worker, index) => ((worker.cpuSeconds() ?? 0) - cpuBefore[index]!).toFixed(1));
      drill.notes.push(`CPU seconds per worker process during the seeding and the load: ${cpu.join(' and ')}`);
      if (!complete) drill.notes.push(`deadline of ${deadlineSeconds} s after the last webhook passed before every delivery arrived`);
    },
  );
} finally {
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}
