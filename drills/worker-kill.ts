/**
 * Drill: a worker process killed with SIGKILL in the middle of sends. The API and the worker run as separate
 * processes; while price-drop emails flow, the worker is killed without warning and a new one is started. The jobs
 * the dead worker held are taken over once their locks expire (BullMQ's 30 s lock, then its stalled check). The SMTP
 * server delays each reply by 100 ms, so sends are in flight when the kill comes.
 *
 * Run: npx tsx drills/worker-kill.ts   (DRILL_WORKER_KILL_EVENTS=300, DRILL_WORKER_KILL_RATE=40,
 * DRILL_WORKER_KILL_AT=0.4 of the events sent, DRILL_WORKER_KILL_SMTP_DELAY_MS=100, DRILL_DEADLINE_SECONDS=150 after
 * the last webhook)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { numberSetting, runDrill } from './support/drill-harness.js';
import { emailPriceDropRule, priceDropWebhook } from './support/drill-world.js';

const events = numberSetting('DRILL_WORKER_KILL_EVENTS', 300);
const rate = numberSetting('DRILL_WORKER_KILL_RATE', 40);
const killAt = numberSetting('DRILL_WORKER_KILL_AT', 0.4);
const replyDelayMs = numberSetting('DRILL_WORKER_KILL_SMTP_DELAY_MS', 100);
const deadlineSeconds = numberSetting('DRILL_DEADLINE_SECONDS', 150);

await runDrill(
  {
    name: 'worker-kill',
    title: 'a worker process killed with SIGKILL while emails flow, then a new worker started',
    rules: [emailPriceDropRule],
    clients: Math.min(events, 200),
  },
  async (drill) => {
    await drill.startProcess('api');
    const worker = await drill.startProcess('worker');
    await drill.connect(['favorite.created', 'listing.updated']);
    await drill.seedFavorites();
    drill.smtp!.setReplyDelay(replyDelayMs);

    const killIndex = Math.floor(events * killAt);
    let acceptedBeforeKill = 0;
    let replacement: Promise<unknown> = Promise.resolve();
    const webhooks = Array.from({ length: events }, (_unused, index) => priceDropWebhook(drill.world, index));
    await drill.sendLoad(webhooks, rate, async (index) => {
      if (index !== killIndex) return;
      // Wait for the email flow to start, so the kill lands in the middle of sends.
      const deadline = Date.now() + 10_000;
      while (drill.smtp!.accepted() === 0 && Date.now() < deadline) await sleep(20);
      acceptedBeforeKill = drill.smtp!.accepted();
      const active = await drill.activeJobs();
      const signal = await worker.stop('SIGKILL');
      const sending = await drill.store.searchDeliveries({ status: 'sending', limit: 1000 });
      drill.notes.push(`worker killed (${signal}) after ${index} webhooks sent and ${acceptedBeforeKill} emails accepted by the SMTP server`);
      drill.notes.push(`active jobs just before the kill: ${active}; deliveries the kill left in 'sending': ${sending.length}`);
      // Started in the background, so webhooks keep arriving at the API while the new worker boots.
      replacement = drill.startProcess('worker').then(() => drill.notes.push('a new worker process started right after the kill'));
    });
    await replacement;

    const complete = await drill.waitForDeliveries(deadlineSeconds * 1000);
    const resumed = await drill.countLogLines((line) => line.includes('earlier attempt ended without an outcome'));
    drill.notes.push(
      `the new worker found ${resumed} deliveries in 'sending' and sent them again; SMTP offers no way to ask whether the first try arrived, ` +
        'so a kill between the server accepting an email and the worker recording it sends that email twice, with the same Message-ID',
    );
    if (!complete) drill.notes.push(`deadline of ${deadlineSeconds} s after the last webhook passed before every email arrived`);
  },
);
