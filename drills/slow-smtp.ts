/**
 * Drill: a connector that replies slowly. The SMTP server delays its reply to every message by a second, so each
 * pooled connection carries one email a second and the email queue backs up behind it. Nothing may time out into a
 * second send, and nothing may be dropped.
 *
 * Run: npx tsx drills/slow-smtp.ts   (DRILL_SLOW_SMTP_MS=1000 per message, DRILL_SLOW_EVENTS=100,
 * DRILL_SLOW_RATE=20, DRILL_DEADLINE_SECONDS=150)
 */
import { numberSetting, runDrill } from './support/drill-harness.js';
import { emailPriceDropRule, priceDropWebhook } from './support/drill-world.js';

const replyDelayMs = numberSetting('DRILL_SLOW_SMTP_MS', 1000);
const events = numberSetting('DRILL_SLOW_EVENTS', 100);
const rate = numberSetting('DRILL_SLOW_RATE', 20);
const deadlineSeconds = numberSetting('DRILL_DEADLINE_SECONDS', 150);

await runDrill(
  {
    name: 'slow-smtp',
    title: `an SMTP server that delays each reply by ${replyDelayMs} ms`,
    rules: [emailPriceDropRule],
    clients: Math.min(events, 200),
  },
  async (drill) => {
    await drill.startProcess('api');
    await drill.startProcess('worker');
    await drill.connect(['favorite.created', 'listing.updated']);
    await drill.seedFavorites();

    drill.smtp!.setReplyDelay(replyDelayMs);
    const started = performance.now();
    const webhooks = Array.from({ length: events }, (_unused, index) => priceDropWebhook(drill.world, index));
    await drill.sendLoad(webhooks, rate);

    const complete = await drill.waitForDeliveries(deadlineSeconds * 1000, 0);
    const seconds = (performance.now() - started) / 1000;
    drill.notes.push(`${drill.smtp!.accepted()} emails accepted in ${seconds.toFixed(1)} s (${(drill.smtp!.accepted() / seconds).toFixed(1)}/s with SMTP_MAX_CONNECTIONS=5 pooled connections)`);
    if (!complete) drill.notes.push(`deadline of ${deadlineSeconds} s after the last webhook passed before every email arrived`);
  },
);
