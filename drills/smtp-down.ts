/**
 * Drill: the SMTP server down for a minute, then back. The server stops listening and drops every open connection
 * (nodemailer's pooled ones included) while price-drop emails are due. The email connector fails each send as
 * temporary, and the queue retries it with exponential backoff until the server is back on the same port.
 *
 * Run: npx tsx drills/smtp-down.ts   (DRILL_SMTP_DOWN_SECONDS=60, DRILL_SMTP_EVENTS=200, DRILL_SMTP_RATE=20,
 * DRILL_SMTP_DOWN_AT=0.2 of the events sent, DRILL_DEADLINE_SECONDS=150 after the server is back)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { numberSetting, runDrill } from './support/drill-harness.js';
import { emailPriceDropRule, priceDropWebhook } from './support/drill-world.js';

const downSeconds = numberSetting('DRILL_SMTP_DOWN_SECONDS', 60);
const events = numberSetting('DRILL_SMTP_EVENTS', 200);
const rate = numberSetting('DRILL_SMTP_RATE', 20);
const downAt = numberSetting('DRILL_SMTP_DOWN_AT', 0.2);
const deadlineSeconds = numberSetting('DRILL_DEADLINE_SECONDS', 150);

await runDrill(
  {
    name: 'smtp-down',
    title: `the SMTP server down for ${downSeconds} s, then back on the same port`,
    rules: [emailPriceDropRule],
    clients: Math.min(events, 200),
  },
  async (drill) => {
    await drill.startProcess('api');
    await drill.startProcess('worker');
    await drill.connect(['favorite.created', 'listing.updated']);
    await drill.seedFavorites();

    const downIndex = Math.floor(events * downAt);
    let outage: Promise<void> = Promise.resolve();
    const webhooks = Array.from({ length: events }, (_unused, index) => priceDropWebhook(drill.world, index));
    await drill.sendLoad(webhooks, rate, (index) => {
      if (index !== downIndex) return;
      outage = (async () => {
        const before = drill.smtp!.accepted();
        await drill.smtp!.down();
        await sleep(downSeconds * 1000);
        await drill.smtp!.up();
        drill.notes.push(`SMTP server down after ${index} webhooks sent and ${before} emails accepted, for ${downSeconds} s`);
      })();
    });
    await outage;
    const backAt = performance.now();

    const complete = await drill.waitForDeliveries(deadlineSeconds * 1000);
    drill.notes.push(`every email arrived ${((performance.now() - backAt) / 1000).toFixed(0)} s after the server came back (retries back off exponentially from 2 s)`);
    if (!complete) drill.notes.push(`deadline of ${deadlineSeconds} s after the server came back passed before every email arrived`);
  },
);
