/**
 * Drill: a storm of Slack 429s. While price-drop alerts go to a Slack channel, the Slack stand-in responds
 * to chat.postMessage with HTTP 429 and a Retry-After for a run of calls. The delivery worker rate-limits the whole
 * Slack queue for the Retry-After and puts each rate-limited job back without using an attempt.
 *
 * Run: npx tsx drills/slack-rate-limit.ts   (DRILL_SLACK_EVENTS=150, DRILL_SLACK_RATE=20, DRILL_SLACK_429_CALLS=40,
 * DRILL_SLACK_RETRY_AFTER_SECONDS=2, DRILL_SLACK_STORM_AT=0.2 of the events sent, DRILL_DEADLINE_SECONDS=150)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { numberSetting, runDrill } from './support/drill-harness.js';
import { priceDropWebhook, slackPriceDropRule } from './support/drill-world.js';

const events = numberSetting('DRILL_SLACK_EVENTS', 150);
const rate = numberSetting('DRILL_SLACK_RATE', 20);
const stormCalls = numberSetting('DRILL_SLACK_429_CALLS', 40);
const retryAfterSeconds = numberSetting('DRILL_SLACK_RETRY_AFTER_SECONDS', 2);
const stormAt = numberSetting('DRILL_SLACK_STORM_AT', 0.2);
const deadlineSeconds = numberSetting('DRILL_DEADLINE_SECONDS', 150);

await runDrill(
  {
    name: 'slack-rate-limit',
    title: `a storm of ${stormCalls} Slack 429 answers with Retry-After ${retryAfterSeconds} s`,
    rules: [slackPriceDropRule],
    clients: Math.min(events, 200),
  },
  async (drill) => {
    await drill.startProcess('api');
    await drill.startProcess('worker');
    await drill.connect(['favorite.created', 'listing.updated']);
    await drill.seedFavorites();
    const slack = drill.slack!;
    const rateLimited = () => slack.state.callsTo('chat.postMessage').length - slack.state.messages.length;

    const stormIndex = Math.floor(events * stormAt);
    let storm: Promise<void> = Promise.resolve();
    const webhooks = Array.from({ length: events }, (_unused, index) => priceDropWebhook(drill.world, index));
    await drill.sendLoad(webhooks, rate, (index) => {
      if (index !== stormIndex) return;
      slack.state.failNext(stormCalls, { kind: 'rate-limit', retryAfterSeconds }, 'chat.postMessage');
      const began = performance.now();
      storm = (async () => {
        const deadline = Date.now() + deadlineSeconds * 1000;
        while (rateLimited() < stormCalls && Date.now() < deadline) await sleep(100);
        drill.notes.push(`${rateLimited()} calls answered 429 over ${((performance.now() - began) / 1000).toFixed(1)} s, starting after ${index} webhooks sent`);
      })();
    });

    const complete = await drill.waitForDeliveries(deadlineSeconds * 1000);
    await storm;
    if (!complete) drill.notes.push(`deadline of ${deadlineSeconds} s after the last webhook passed before every message arrived`);
  },
);
