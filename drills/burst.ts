/**
 * Drill: a burst of ten times the usual rate. Price drops arrive at the usual rate, then at ten times that rate for a
 * few seconds, then at the usual rate again. The API must take every webhook (no 503) and the workers must drain the
 * backlog without losing or doubling an email.
 *
 * Run: npx tsx drills/burst.ts   (DRILL_BURST_USUAL_RATE=20 per second, DRILL_BURST_SECONDS=3,
 * DRILL_BURST_CALM_SECONDS=2 before and after, DRILL_DEADLINE_SECONDS=150)
 */
import { numberSetting, runDrill } from './support/drill-harness.js';
import { emailPriceDropRule, priceDropWebhook } from './support/drill-world.js';
import type { OutgoingWebhook } from './support/webhook-sender.js';

const usualRate = numberSetting('DRILL_BURST_USUAL_RATE', 20);
const burstSeconds = numberSetting('DRILL_BURST_SECONDS', 3);
const calmSeconds = numberSetting('DRILL_BURST_CALM_SECONDS', 2);
const deadlineSeconds = numberSetting('DRILL_DEADLINE_SECONDS', 150);

const calmCount = Math.round(usualRate * calmSeconds);
const burstCount = Math.round(usualRate * 10 * burstSeconds);

await runDrill(
  {
    name: 'burst',
    title: `a burst of ${usualRate * 10}/s (ten times the usual ${usualRate}/s) for ${burstSeconds} s`,
    rules: [emailPriceDropRule],
    clients: 200,
  },
  async (drill) => {
    await drill.startProcess('api');
    await drill.startProcess('worker');
    await drill.connect(['favorite.created', 'listing.updated']);
    await drill.seedFavorites();

    let sequence = 0;
    const batch = (count: number): OutgoingWebhook[] => Array.from({ length: count }, () => priceDropWebhook(drill.world, sequence++));
    const started = performance.now();
    const sending = [drill.sendLoad(batch(calmCount), usualRate)];
    await Promise.all(sending);
    const burstStarted = performance.now();
    await drill.sendLoad(batch(burstCount), usualRate * 10);
    const burstTook = (performance.now() - burstStarted) / 1000;
    await drill.sendLoad(batch(calmCount), usualRate);
    const sentAt = performance.now();

    const complete = await drill.waitForDeliveries(deadlineSeconds * 1000, 0);
    const drained = (performance.now() - sentAt) / 1000;
    drill.notes.push(
      `${burstCount} webhooks of the burst answered in ${burstTook.toFixed(1)} s (${(burstCount / burstTook).toFixed(0)}/s achieved); ` +
        `${sequence} in ${((sentAt - started) / 1000).toFixed(1)} s in all; the last email arrived ${drained.toFixed(1)} s after the last webhook`,
    );
    if (!complete) drill.notes.push(`deadline of ${deadlineSeconds} s after the last webhook passed before every email arrived`);
  },
);
